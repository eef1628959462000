/**
 * /learn/: five lessons, each an explanation and a quiz graded on the server. The answers live in
 * the learner's own session under one key, `learn` (src/learn/progress.ts); "Start over" removes
 * that key and nothing else.
 */
import { escapeXML } from "ejs";
import type { FastifyPluginAsync } from "fastify";
import { LESSONS, lessonBySlug } from "../learn/lessons/index.js";
import type { Lesson, Question } from "../learn/lesson.js";
import {
  answerTo,
  isRight,
  lessonScore,
  readProgress,
  recordAnswer,
  startOver,
  trackScore,
} from "../learn/progress.js";
import { leaveNotice } from "../notices.js";
import { renderPage } from "./render.js";

/** An error the error pages show with its status and message. */
function clientError(statusCode: 400 | 404, message: string): Error {
  return Object.assign(new Error(message), { statusCode });
}

function lessonOr404(slug: string): Lesson {
  const lesson = lessonBySlug(slug);
  if (!lesson) throw clientError(404, `There is no lesson “${slug}”.`);
  return lesson;
}

function questionOr404(lesson: Lesson, questionId: string): Question {
  const question = lesson.quiz.find((q) => q.id === questionId);
  if (!question) throw clientError(404, `Lesson ${lesson.number} has no question “${questionId}”.`);
  return question;
}

/** A lesson's text as HTML: escaped as the templates escape (ejs), with `backticks` as inline code. */
export function inlineCode(text: string): string {
  return text
    .split("`")
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeXML(part)}</code>` : escapeXML(part)))
    .join("");
}

export const learnRoutes: FastifyPluginAsync = async (app) => {
  app.get("/learn/", (request, reply) => {
    const progress = readProgress(request.session);
    const lessons = LESSONS.map((lesson) => ({ lesson, score: lessonScore(lesson, progress) }));
    return renderPage(request, reply, "learn.ejs", {
      title: "Learn",
      lessons,
      total: trackScore(LESSONS, progress),
    });
  });

  app.post("/learn/start-over/", (request, reply) => {
    const had = startOver(request.session);
    leaveNotice(
      reply,
      had
        ? "Started over: the “learn” key was removed from your session. Everything else in it is still there."
        : "Nothing to start over: your session had no answers.",
    );
    return reply.redirect("/learn/", 303);
  });

  app.get<{ Params: { slug: string } }>("/learn/:slug/", (request, reply) => {
    const lesson = lessonOr404(request.params.slug);
    const progress = readProgress(request.session);
    const questions = lesson.quiz.map((question) => {
      const given = answerTo(progress, question);
      return { question, given, right: given === undefined ? null : isRight(question, given) };
    });
    const index = LESSONS.indexOf(lesson);
    return renderPage(request, reply, "learn-lesson.ejs", {
      title: `Lesson ${lesson.number}: ${lesson.title}`,
      lesson,
      questions,
      score: lessonScore(lesson, progress),
      previous: LESSONS[index - 1] ?? null,
      next: LESSONS[index + 1] ?? null,
      inlineCode,
    });
  });

  app.post<{ Params: { slug: string; questionId: string }; Body: unknown }>(
    "/learn/:slug/:questionId/",
    (request, reply) => {
      const lesson = lessonOr404(request.params.slug);
      const question = questionOr404(lesson, request.params.questionId);
      const body = request.body;
      const choice = typeof body === "object" && body !== null && "choice" in body ? body.choice : undefined;
      if (typeof choice !== "string" || choice === "") throw clientError(400, "Pick one of the answers, then send it.");
      if (!question.choices.some((c) => c.id === choice))
        throw clientError(400, `“${choice}” is not one of the answers to this question.`);
      recordAnswer(request.session, question, choice);
      return reply.redirect(`/learn/${lesson.slug}/#${question.id}`, 303);
    },
  );
};
