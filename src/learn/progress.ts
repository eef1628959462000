/**
 * A learner's progress through /learn/, kept in their own session under one key, `learn`:
 * `{ "<questionId>": "<choiceId>", ... }`, the last choice given to each question. Nothing else
 * (no scores, no dates): grading is recomputed from the lessons, so a fixed answer key fixes
 * every score, and the value stays small enough for the signed_cookies engine.
 *
 * Worst case, measured by test/learn/progress.test.ts: all 50 questions answered, every question id
 * at the longest the track allows (MAX_QUESTION_ID_LENGTH, 24 characters, random): the session's
 * JSON is 1,561 characters and the `sessionid` cookie on signed_cookies about 1,440 (compressed);
 * even uncompressed its base64 would be under 2,150, about half of the 4,096 bytes a browser keeps
 * for one cookie, leaving the other half to the rest of the session. The track as it is (50
 * questions, ids of at most 8 characters, all answered): 676 characters of JSON, a 258-character
 * cookie value.
 */
import type { Session } from "fastify-django-sessions";
import type { Lesson, Question } from "./lesson.js";

/** The session key the track's progress lives under; "start over" removes only this key. */
export const LEARN_KEY = "learn";

/** The longest question id the track allows (test/learn/lessons.test.ts checks every lesson). */
export const MAX_QUESTION_ID_LENGTH = 24;

/** Question id → the id of the choice last given. */
export type Progress = Record<string, string>;

export interface Score {
  right: number;
  answered: number;
  total: number;
}

/** What the session holds under `learn`, as progress: anything that is not a string map is none. */
export function readProgress(session: Session): Progress {
  const stored: unknown = session.get(LEARN_KEY);
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return {};
  const progress: Progress = {};
  for (const [questionId, choiceId] of Object.entries(stored as Record<string, unknown>)) {
    if (typeof choiceId === "string") progress[questionId] = choiceId;
  }
  return progress;
}

/** Records `choiceId` as the answer to `question` (assigned anew, so the session saves it). */
export function recordAnswer(session: Session, question: Question, choiceId: string): void {
  session.set(LEARN_KEY, { ...readProgress(session), [question.id]: choiceId });
}

/** Whether `choiceId` is the right answer to `question`. */
export function isRight(question: Question, choiceId: string): boolean {
  return question.answer === choiceId;
}

/** The answer given to `question`, if it is one of its choices. */
export function answerTo(progress: Progress, question: Question): string | undefined {
  const given = progress[question.id];
  return given !== undefined && question.choices.some((c) => c.id === given) ? given : undefined;
}

/** A lesson's score: right answers, answered questions, and the number of questions. */
export function lessonScore(lesson: Lesson, progress: Progress): Score {
  let right = 0;
  let answered = 0;
  for (const question of lesson.quiz) {
    const given = answerTo(progress, question);
    if (given === undefined) continue;
    answered += 1;
    if (isRight(question, given)) right += 1;
  }
  return { right, answered, total: lesson.quiz.length };
}

/** The track's totals over `lessons`. */
export function trackScore(lessons: readonly Lesson[], progress: Progress): Score {
  const total: Score = { right: 0, answered: 0, total: 0 };
  for (const lesson of lessons) {
    const score = lessonScore(lesson, progress);
    total.right += score.right;
    total.answered += score.answered;
    total.total += score.total;
  }
  return total;
}

/** Start over: removes the `learn` key and nothing else. Returns whether there was progress. */
export function startOver(session: Session): boolean {
  return session.pop(LEARN_KEY, null) !== null;
}
