/**
 * The registry of answer checks: every quiz question with `checkedBy` names a check that runs the
 * framework and says which choice it observed; the check passes when that is the question's
 * `answer`.
 *
 * A lesson's test file (test/learn/lesson-<n>.test.ts) registers its checks with `check`:
 *
 *   import { lesson } from "../../src/learn/lessons/2-session-as-a-dictionary.js";
 *   import { check, choiceWhere } from "./checks.js";
 *
 *   check(lesson, "get-without-default", async (question) => {
 *     const session = ...;                       // run the framework
 *     const value = session.get("missing");
 *     return value === undefined ? "b" : "c";    // the id of the choice this observation means
 *     // or: return choiceWhere(question, (c) => c.text.includes("undefined"));
 *   });
 *
 * `check` registers one node:test test named "checkedBy <name>". The name must be written as a
 * string literal, the second argument of `check(`: test/learn/lessons.test.ts reads the files in
 * test/learn/ to find every registered name and fails for a `checkedBy` that no file registers,
 * and for a registered name that no question uses.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Choice, Lesson, Question } from "../../src/learn/lesson.js";
// The sources, also when the tests run compiled from .build/.
import { PROJECT_ROOT } from "../processes.js";

/** The question of `lesson` whose `checkedBy` is `name` (exactly one must exist). */
export function questionCheckedBy(lesson: Lesson, name: string): Question {
  const found = lesson.quiz.filter((q) => q.checkedBy === name);
  assert.equal(
    found.length,
    1,
    `lesson ${lesson.number}: expected one question with checkedBy "${name}", found ${found.length}`,
  );
  return found[0]!;
}

function describeChoice(question: Question, id: string): string {
  const choice = question.choices.find((c) => c.id === id);
  return choice ? `"${id}" (${choice.text})` : `"${id}" (not a choice of this question)`;
}

/** Asserts that the framework's observed choice is the question's answer. */
export function checkAnswer(lesson: Lesson, questionId: string, observedChoiceId: string): void {
  const question = lesson.quiz.find((q) => q.id === questionId);
  assert.ok(question, `lesson ${lesson.number} has no question "${questionId}"`);
  assert.ok(
    question.choices.some((c) => c.id === observedChoiceId),
    `${questionId}: the check returned ${describeChoice(question, observedChoiceId)}`,
  );
  assert.equal(
    observedChoiceId,
    question.answer,
    `${questionId}: the framework behaves as choice ${describeChoice(question, observedChoiceId)}, ` +
      `but the quiz's answer is ${describeChoice(question, question.answer)}`,
  );
}

/**
 * Registers the check `name`: a test that calls `observe` with the question and compares the choice
 * id it returns with the question's answer.
 */
export function check(lesson: Lesson, name: string, observe: (question: Question) => string | Promise<string>): void {
  void test(`checkedBy ${name}`, async () => {
    const question = questionCheckedBy(lesson, name);
    checkAnswer(lesson, question.id, await observe(question));
  });
}

/** The id of the one choice that `matches` (for checks that observe a value, not a choice). */
export function choiceWhere(question: Question, matches: (choice: Choice) => boolean): string {
  const found = question.choices.filter(matches);
  assert.equal(found.length, 1, `${question.id}: expected one matching choice, found ${found.length}`);
  return found[0]!.id;
}

const CHECK_CALL = /\bcheck\(\s*[\w.]+\s*,\s*(["'`])([^"'`]+)\1/g;

/** Every check name registered by the files in test/learn/ (read from their source). */
export function registeredCheckNames(dir = join(PROJECT_ROOT, "test/learn")): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts") && f !== "checks.ts")) {
    const source = readFileSync(join(dir, file), "utf8");
    for (const match of source.matchAll(CHECK_CALL)) {
      const name = match[2]!;
      names.set(name, [...(names.get(name) ?? []), file]);
    }
  }
  return names;
}
