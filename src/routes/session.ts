/** Set, get, delete and flush one session value; the session as JSON (a page, and raw for scripts). */
import type { FastifyPluginAsync } from "fastify";
import { SESSION_USER_ID } from "../auth/session-auth.js";
import { leaveNotice } from "../notices.js";
import { SHOWN_KEY_PREFIX_LENGTH } from "fastify-django-sessions";
import { renderPage } from "./render.js";

// Keys starting with "_" are the framework's (_session_expiry, _auth_user_id, ...).
const KEY_PATTERN = "^[^_].{0,99}$";

interface SetQuery {
  key?: string;
  value?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What a flush did, said after it: the data, the stored record, the cookie, the key. */
export function flushNotice(
  before: { key: string | null; keys: string[] },
  clientSide: boolean,
  cookieName: string,
): string {
  const own = before.keys.filter((k) => !k.startsWith("_")).length;
  const loggedIn = before.keys.includes(SESSION_USER_ID);
  if (before.key === null && before.keys.length === 0) {
    return "Nothing to flush: this browser had no session yet (no key, nothing stored).";
  }
  const data = `its data was removed (${plural(own, "key")} of yours${loggedIn ? " and the login" : ""})`;
  const record = clientSide
    ? `the browser was told to delete the ${cookieName} cookie, which held all of it (this engine stores nothing on the server)`
    : `the stored record of ${before.key!.slice(0, SHOWN_KEY_PREFIX_LENGTH)}… was deleted and the browser was told to delete the ${cookieName} cookie`;
  return `Session flushed: ${data}, ${record}. The next value you store gets a new key.${loggedIn ? " You are logged out." : ""}`;
}

export const sessionRoutes: FastifyPluginAsync<{ clientSide: boolean }> = async (app, { clientSide }) => {
  app.get<{ Querystring: SetQuery }>(
    "/session/set/",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            key: { type: "string", pattern: KEY_PATTERN },
            value: { type: "string", maxLength: 2000 },
          },
        },
      },
    },
    (request, reply) => {
      const { key, value = "" } = request.query;
      if (key) request.session.set(key, value);
      return renderPage(request, reply, "session-set.ejs", {
        title: "Set a value",
        key: key ?? "",
        value,
        stored: Boolean(key),
      });
    },
  );

  app.get<{ Querystring: { key?: string } }>(
    "/session/get/",
    { schema: { querystring: { type: "object", properties: { key: { type: "string", maxLength: 100 } } } } },
    (request, reply) => {
      const key = request.query.key ?? "";
      const found = key !== "" && request.session.has(key);
      return renderPage(request, reply, "session-get.ejs", {
        title: "Get a value",
        key,
        found,
        value: found ? request.session.get(key) : undefined,
      });
    },
  );

  app.post<{ Body: { key: string } }>(
    "/session/delete/",
    {
      schema: {
        body: { type: "object", required: ["key"], properties: { key: { type: "string", pattern: KEY_PATTERN } } },
      },
    },
    (request, reply) => {
      const { key } = request.body;
      // pop with a default: deleting a key that is not there is not an error for a visitor.
      const had = request.session.has(key);
      request.session.pop(key, null);
      leaveNotice(
        reply,
        had ? `Deleted “${key}” from your session (pop).` : `“${key}” was not set: nothing to delete.`,
      );
      return reply.redirect(`/session/get/?key=${encodeURIComponent(key)}`, 303);
    },
  );

  app.post("/session/flush/", async (request, reply) => {
    // Read first: reading drops a key the store does not know, so the notice names a real record.
    const keys: string[] = request.session.keys();
    const before = { key: request.session.sessionKey, keys };
    await request.session.flush();
    leaveNotice(reply, flushNotice(before, clientSide, app.config.session.SESSION_COOKIE_NAME));
    return reply.redirect("/session/set/", 303);
  });

  // The navigation's page: the same JSON as /session/json/, formatted (that one stays raw for scripts).
  app.get("/session/", (request, reply) => {
    const session = Object.fromEntries(request.session.items());
    const json = JSON.stringify({ session_key: request.session.sessionKey, session }, null, 2);
    return renderPage(request, reply, "session-json.ejs", { title: "Your session as JSON", json });
  });

  app.get("/session/json/", (request) => {
    // The data first: reading it drops a key the store does not know, which would otherwise be
    // echoed back here as if it were the session's.
    const session = Object.fromEntries(request.session.items());
    return { session_key: request.session.sessionKey, session };
  });
};
