/** The /learn/ track: its lessons in order, and a lookup by slug. */
import type { Lesson, Question } from "../lesson.js";
import { lesson as lesson1 } from "./1-what-a-session-is.js";
import { lesson as lesson2 } from "./2-session-as-a-dictionary.js";
import { lesson as lesson3 } from "./3-where-sessions-live.js";
import { lesson as lesson4 } from "./4-lifetime-and-security.js";
import { lesson as lesson5 } from "./5-sessions-in-production.js";

export const LESSONS: readonly Lesson[] = [lesson1, lesson2, lesson3, lesson4, lesson5];

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
