/**
 * Every lesson of the track is well-formed, and every `checkedBy` has a check registered in
 * test/learn/ (see checks.ts) that runs the framework.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { LESSONS, findQuestion, lessonBySlug } from "../../src/learn/lessons/index.js";
import { MAX_QUESTION_ID_LENGTH } from "../../src/learn/progress.js";
import { registeredCheckNames } from "./checks.js";
import { PROJECT_ROOT } from "../processes.js";

test("the index lists every lesson file, in order, numbered 1, 2, ...", () => {
  const files = readdirSync(join(PROJECT_ROOT, "src/learn/lessons")).filter((f) => /^\d+-.*\.ts$/.test(f));
  assert.deepEqual(
    LESSONS.map((l) => `${l.number}-${l.slug}.ts`),
    files.sort(),
  );
  assert.deepEqual(
    LESSONS.map((l) => l.number),
    LESSONS.map((_, i) => i + 1),
  );
  assert.equal(new Set(LESSONS.map((l) => l.slug)).size, LESSONS.length);
  for (const lesson of LESSONS) assert.equal(lessonBySlug(lesson.slug), lesson);
  assert.equal(lessonBySlug("nope"), undefined);
});

test("question ids are unique in the track, short and URL-safe", () => {
  const ids = LESSONS.flatMap((l) => l.quiz.map((q) => q.id));
  assert.equal(new Set(ids).size, ids.length, "duplicate question ids");
  for (const id of ids) {
    assert.match(id, /^[a-z0-9][a-z0-9-]*$/, id);
    assert.ok(id.length <= MAX_QUESTION_ID_LENGTH, `${id} is longer than ${MAX_QUESTION_ID_LENGTH}`);
    assert.equal(findQuestion(id)?.question.id, id);
  }
});

for (const lesson of LESSONS) {
  describe(`lesson ${lesson.number}: ${lesson.title}`, () => {
    test("has a title, a summary and sections with text; try-it links are the demo's pages", () => {
      assert.ok(lesson.title && lesson.summary);
      assert.ok(lesson.sections.length > 0);
      for (const section of lesson.sections) {
        assert.ok(section.heading, "a heading");
        assert.ok(section.paragraphs.length > 0 && section.paragraphs.every((p) => p.trim() !== ""), section.heading);
        if (section.code) assert.ok(section.code.django ?? section.code.ours, `${section.heading}: empty code`);
        for (const link of section.tryIt ?? []) {
          assert.match(link.href, /^\/[a-z/?=&%._-]*$/i, link.href);
          assert.ok(link.label, link.href);
        }
      }
    });

    test("ten questions, easy to hard", () => {
      assert.equal(lesson.quiz.length, 10);
      const levels = lesson.quiz.map((q) => q.level);
      assert.deepEqual(
        levels,
        [...levels].sort((a, b) => a - b),
        `levels must not go down: ${levels.join(", ")}`,
      );
    });

    for (const question of lesson.quiz) {
      test(`${question.id} is well-formed`, () => {
        assert.ok(question.prompt.trim(), "a prompt");
        assert.ok(question.choices.length >= 2, "at least two choices");
        const choiceIds = question.choices.map((c) => c.id);
        assert.equal(new Set(choiceIds).size, choiceIds.length, "choice ids are unique");
        for (const id of choiceIds) assert.match(id, /^[a-z]$/, `choice id ${id}`);
        assert.ok(choiceIds.includes(question.answer), `the answer ${question.answer} is one of the choices`);
        for (const choice of question.choices) {
          assert.ok(choice.text.trim(), `${choice.id}: text`);
          if (choice.id === question.answer)
            assert.equal(choice.whyPicked, undefined, "the right choice has no whyPicked");
          else assert.ok(choice.whyPicked?.trim(), `${choice.id}: a wrong choice says why people pick it`);
        }
        assert.ok(question.solution.length > 0 && question.solution.every((s) => s.trim()), "a worked solution");
        assert.ok(question.hint.trim(), "a hint");
        // Inline code is in pairs of backticks, so the page renders it.
        for (const text of [
          question.prompt,
          question.hint,
          ...question.solution,
          ...question.choices.map((c) => c.text),
        ])
          assert.equal((text.match(/`/g) ?? []).length % 2, 0, `unbalanced backticks: ${text}`);
      });
    }
  });
}

test("every checkedBy names a check registered in test/learn/, and every check a question", () => {
  const registered = registeredCheckNames();
  const used = LESSONS.flatMap((l) => l.quiz.flatMap((q) => (q.checkedBy ? [q.checkedBy] : [])));
  assert.equal(new Set(used).size, used.length, "a checkedBy names one question");
  const missing = used.filter((name) => !registered.has(name));
  assert.deepEqual(missing, [], `checkedBy without a check: ${missing.join(", ")}`);
  const unused = [...registered.keys()].filter((name) => !used.includes(name));
  assert.deepEqual(unused, [], `checks no question names: ${unused.join(", ")}`);
  for (const [name, files] of registered) assert.equal(files.length, 1, `${name} is registered in ${files.join(", ")}`);
});
