/** Per-session expiry: setExpiry(seconds | 0 | null) and what the session reports back. */
import type { FastifyPluginAsync } from "fastify";
import { leaveNotice } from "../notices.js";
import { renderPage } from "./render.js";

/** What setExpiry(value) did, in words, with what the session reports after it. */
export function expiryNotice(
  value: number | null,
  after: { age: number; date: Date; browserClose: boolean; cookieAge: number },
): string {
  const date = after.date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  if (value === null) {
    return (
      `setExpiry(null): back to the global policy. The session ends ${after.cookieAge} s (SESSION_COOKIE_AGE) after its ` +
      `last save, at ${date} unless saved again; ` +
      (after.browserClose
        ? "the cookie ends with the browser (SESSION_EXPIRE_AT_BROWSER_CLOSE)."
        : "the cookie carries the same expiry.")
    );
  }
  if (value === 0) {
    return (
      "setExpiry(0): the cookie now has no expiry date, so the browser drops it when it closes. getExpiryAge() still " +
      `says ${after.age} s: for 0 it falls back to SESSION_COOKIE_AGE, exactly as Django's get_expiry_age() does, ` +
      "because the stored record needs an expiry date of its own (the server cannot see the browser close; " +
      `clearsessions removes the record at ${date} if the browser never comes back).`
    );
  }
  if (value < 0) {
    return (
      `setExpiry(${value}): a negative number puts the expiry in the past, so the session ended now: the cookie was ` +
      "sent already expired, so the browser drops it, and the server no longer accepts the session. Your data is " +
      "gone; the next value you store starts a new session with a new key."
    );
  }
  return (
    `setExpiry(${value}): the session now ends ${value} s after its last save, at ${date} unless saved again; the ` +
    `cookie's Max-Age is ${value}.`
  );
}

export const expiryRoutes: FastifyPluginAsync = async (app) => {
  app.get("/expiry/", (request, reply) => {
    const session = request.session;
    return renderPage(request, reply, "expiry.ejs", {
      title: "Session expiry",
      expiryAge: session.getExpiryAge(),
      expiryDate: session.getExpiryDate().toISOString(),
      browserClose: session.getExpireAtBrowserClose(),
      cookieAge: session.getSessionCookieAge(),
    });
  });

  app.post<{ Body: { seconds: string } }>(
    "/expiry/",
    {
      schema: {
        body: {
          type: "object",
          required: ["seconds"],
          // "" = the global policy, 0 = until the browser closes, otherwise whole seconds.
          properties: { seconds: { type: "string", pattern: "^(|-?\\d{1,10})$" } },
        },
      },
    },
    (request, reply) => {
      const { seconds } = request.body;
      const value = seconds === "" ? null : Number(seconds);
      const session = request.session;
      session.setExpiry(value);
      leaveNotice(
        reply,
        expiryNotice(value, {
          age: session.getExpiryAge(),
          date: session.getExpiryDate(),
          browserClose: session.getExpireAtBrowserClose(),
          cookieAge: session.getSessionCookieAge(),
        }),
      );
      return reply.redirect("/expiry/", 303);
    },
  );
};
