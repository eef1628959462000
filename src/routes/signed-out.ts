/**
 * A browser whose session was ended by someone else (see src/auth/ended-sessions.ts) is told why
 * at its next request: a page it asked for while logged in sends it to the login page (then back),
 * with the reason shown there once; any other request leaves the reason for the next page.
 */
import type { FastifyInstance } from "fastify";
import { endedMessage, type EndedSessions } from "../auth/ended-sessions.js";
import { leaveNotice } from "../notices.js";
import { isStorableKey, readCookie } from "fastify-django-sessions";

export function tellEndedSessions(app: FastifyInstance, ended: Pick<EndedSessions, "take">): void {
  const cookieName = app.config.session.SESSION_COOKIE_NAME;
  // After the session plugin's own preValidation: a locking route holds its lock by now, and the
  // record is fetched, so looking at it costs no extra read.
  app.addHook("preHandler", async (request, reply) => {
    if (request.routeOptions.config?.session === false) return;
    const sent = readCookie(request.headers.cookie, cookieName);
    // A value no store can hold was never a session, so it cannot have been ended.
    if (!sent || !isStorableKey(sent)) return;
    await request.session.load();
    // Reading the data drops a key the store does not know: only then can it have been ended.
    request.session.has("_");
    if (request.session.sessionKey !== null) return;
    const why = await ended.take(sent);
    if (!why) return;
    request.log.info({ reason: why.reason }, "a session ended by someone else came back");
    leaveNotice(reply, endedMessage(why));
    const page =
      (request.method === "GET" || request.method === "HEAD") && (request.headers.accept ?? "").includes("text/html");
    if (why.loggedIn && page && !request.url.startsWith("/login/")) {
      return reply.redirect(`/login/?next=${encodeURIComponent(request.url)}`, 303);
    }
  });
}
