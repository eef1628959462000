/** The learner's progress in the session (src/learn/progress.ts): grading, scores, start over, size. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { createSessionEngine, type AppSessionData, type Session } from "fastify-django-sessions";
import type { Lesson } from "../../src/learn/lesson.js";
import { LESSONS } from "../../src/learn/lessons/index.js";
import {
  LEARN_KEY,
  MAX_QUESTION_ID_LENGTH,
  isRight,
  lessonScore,
  readProgress,
  recordAnswer,
  startOver,
  trackScore,
} from "../../src/learn/progress.js";
import "../../src/session-data.js";
import { dbFixture, testSettings } from "../helpers.js";

const lesson1 = LESSONS[0]!;

async function freshSession(): Promise<Session> {
  const { engine } = await dbFixture();
  return engine.open<AppSessionData>(null);
}

/** A wrong choice of a question. */
const wrongChoice = (lesson: Lesson, index: number) => {
  const question = lesson.quiz[index]!;
  return question.choices.find((c) => c.id !== question.answer)!.id;
};

test("answers are kept under the one key `learn`, question id to choice id", async () => {
  const session = await freshSession();
  const [q1, q2] = lesson1.quiz;
  recordAnswer(session, q1!, q1!.answer);
  recordAnswer(session, q2!, wrongChoice(lesson1, 1));
  assert.deepEqual(session.keys(), [LEARN_KEY]);
  assert.deepEqual(session.get(LEARN_KEY), { [q1!.id]: q1!.answer, [q2!.id]: wrongChoice(lesson1, 1) });
  assert.equal(session.modified, true);
  // Answering again replaces the answer.
  recordAnswer(session, q2!, q2!.answer);
  assert.equal(readProgress(session)[q2!.id], q2!.answer);
});

test("the answer saves and loads back through the store", async () => {
  const { engine } = await dbFixture();
  const session = engine.open<AppSessionData>(null);
  recordAnswer(session, lesson1.quiz[0]!, "b");
  await session.save();
  const again = engine.open<AppSessionData>(session.sessionKey);
  await again.load();
  assert.deepEqual(readProgress(again), { [lesson1.quiz[0]!.id]: "b" });
});

test("grading: right only for the question's answer", () => {
  for (const question of lesson1.quiz) {
    for (const choice of question.choices) assert.equal(isRight(question, choice.id), choice.id === question.answer);
  }
});

test("a lesson's score counts right and answered; unknown questions and choices count for nothing", async () => {
  const session = await freshSession();
  assert.deepEqual(lessonScore(lesson1, readProgress(session)), { right: 0, answered: 0, total: 10 });
  recordAnswer(session, lesson1.quiz[0]!, lesson1.quiz[0]!.answer);
  recordAnswer(session, lesson1.quiz[1]!, lesson1.quiz[1]!.answer);
  recordAnswer(session, lesson1.quiz[2]!, wrongChoice(lesson1, 2));
  // Stale entries (a question since removed, a choice it no longer has) are ignored.
  session.set(LEARN_KEY, { ...readProgress(session), "gone-1": "a", [lesson1.quiz[3]!.id]: "z" });
  assert.deepEqual(lessonScore(lesson1, readProgress(session)), { right: 2, answered: 3, total: 10 });
  const total = trackScore(LESSONS, readProgress(session));
  assert.deepEqual(total, { right: 2, answered: 3, total: LESSONS.length * 10 });
});

test("what is not a map of strings under `learn` reads as no progress", async () => {
  const session = await freshSession();
  for (const junk of [null, 3, "a", ["a"], { q: 1 }]) {
    session.set(LEARN_KEY, junk as never);
    assert.deepEqual(readProgress(session), {});
  }
});

test("start over removes `learn` and nothing else", async () => {
  const session = await freshSession();
  session.set("cart", ["apple"]);
  session.set("visits", 3);
  recordAnswer(session, lesson1.quiz[0]!, "a");
  assert.equal(startOver(session), true);
  assert.deepEqual(Object.fromEntries(session.items()), { cart: ["apple"], visits: 3 });
  assert.equal(startOver(session), false);
});

test("worst case on signed_cookies: all 50 answered with the longest ids fits one cookie", async () => {
  const engine = await createSessionEngine(testSettings({ SESSION_ENGINE: "signed_cookies" }), {});
  const session = engine.open<AppSessionData>(null);
  // Random ids at the longest allowed, so that the cookie's compression cannot help.
  const progress: Record<string, string> = {};
  for (let i = 0; i < 50; i++) {
    progress[randomBytes(MAX_QUESTION_ID_LENGTH).toString("base64url").slice(0, MAX_QUESTION_ID_LENGTH)] = "d";
  }
  session.set(LEARN_KEY, progress);
  await session.save();
  const json = JSON.stringify({ [LEARN_KEY]: progress }).length;
  const cookie = session.sessionKey!.length;
  // The numbers in src/learn/progress.ts's comment.
  assert.equal(json, 1561);
  assert.ok(cookie <= 1500, `cookie value ${cookie}`);
  // Uncompressed, the cookie would be the JSON in base64 plus a timestamp and a signature.
  assert.ok(Math.ceil((json * 4) / 3) + 40 < 2150);
  // A browser keeps 4096 bytes of name, value and attributes.
  assert.ok(`sessionid=${session.sessionKey!}`.length < 4096 - 120);
  await engine.close();
});

test("the track as it is: every question answered, on signed_cookies", async () => {
  const engine = await createSessionEngine(testSettings({ SESSION_ENGINE: "signed_cookies" }), {});
  const session = engine.open<AppSessionData>(null);
  for (const lesson of LESSONS) {
    for (const question of lesson.quiz) recordAnswer(session, question, question.choices.at(-1)!.id);
  }
  await session.save();
  assert.equal(Object.keys(readProgress(session)).length, LESSONS.length * 10);
  const cookie = session.sessionKey!.length;
  // 258 when measured (src/learn/progress.ts): the ids compress well.
  assert.ok(cookie < 1000, `cookie value ${cookie}`);
  await engine.close();
});
