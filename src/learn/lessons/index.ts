/** The /learn/ track: its lessons in order, and a lookup by slug. */
import type { Lesson, Question } from "../lesson.js";
import { lesson as lesson1 } from "./1-what-a-session-is.js";

export const LESSONS: readonly Lesson[] = [lesson1];

/** The lesson at /learn/<slug>/, or undefined. */
export function lessonBySlug(slug: string): Lesson | undefined {
  return LESSONS.find((l) => l.slug === slug);
}

/** A question of the track by its id, with its lesson, or undefined. */
export function findQuestion(questionId: string): { lesson: Lesson; question: Question } | undefined {
  for (const lesson of LESSONS) {
    const question = lesson.quiz.find((q) => q.id === questionId);
    if (question) return { lesson, question };
  }
  return undefined;
}
