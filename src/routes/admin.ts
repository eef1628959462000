/**
 * The staff-only admin page for sessions: the stored sessions a page at a time (key prefix, user,
 * expiry, size, tampered), one session decoded (Django's get_decoded()), and ending one. The work is done by
 * StoredSessions (src/admin/stored-sessions.ts), shared with `npm run sessions`.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { CannotList, KEY_PREFIX_LENGTH, type StoredSessions } from "../admin/stored-sessions.js";
import { renderPage } from "./render.js";

/** Shown once on the list page after a session was ended (popped, like the account page's). */
const NOTICE = "admin_notice";
/** Sessions on one page of the list; the total counts them all. */
const LIST_LIMIT = 100;
const LIST_URL = "/admin/sessions/";

/** A page of the list: the sessions after or before a cursor the previous page linked to. */
const CURSOR = { type: "string", pattern: "^[A-Za-z0-9_-]{1,1024}$" };
const pageQuery = {
  querystring: { type: "object", properties: { after: CURSOR, before: CURSOR } },
};
type PageQuery = { Querystring: { after?: string; before?: string } };

/** A session in the URL: the prefix the list shows, or more of the key. */
const keyParams = {
  params: {
    type: "object",
    required: ["session_key"],
    properties: { session_key: { type: "string", pattern: `^[a-z0-9]{${KEY_PREFIX_LENGTH},64}$` } },
  },
};
type KeyParams = { Params: { session_key: string } };

/** A logged-in user who is not staff: rendered as the 403 page by src/error-pages.ts. */
class StaffOnly extends Error {
  override name = "StaffOnly";
  readonly statusCode = 403;
  readonly code = "STAFF_ONLY";
  constructor() {
    super("This page is for staff only.");
  }
}

/** On signed_cookies there is no stored session to show or end: a 404 page that says why. */
function notStored(error: unknown): never {
  if (error instanceof CannotList) throw Object.assign(error, { statusCode: 404 });
  throw error;
}

export const adminRoutes: FastifyPluginAsync<{ storedSessions: StoredSessions }> = async (app, { storedSessions }) => {
  // Before the CSRF check and validation: anonymous visitors log in first, others are refused.
  app.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
    // The sessions plugin fetches the session before the handler; the check needs it now.
    await request.session.load();
    const user = await request.getUser();
    if (!user) {
      const next = request.method === "GET" ? request.url : LIST_URL;
      return reply.redirect(`/login/?next=${encodeURIComponent(next)}`, 303);
    }
    if (!user.isStaff) {
      // The error page's warning names who was refused.
      request.log = request.log.child({ userId: user.id });
      throw new StaffOnly();
    }
  });

  /** The admin's own session, as the list's prefixes show it. */
  const ownPrefix = (request: FastifyRequest) => request.session.sessionKey?.slice(0, KEY_PREFIX_LENGTH) ?? null;

  app.get<PageQuery>(LIST_URL, { schema: pageQuery }, async (request, reply) => {
    const { after, before } = request.query;
    const page = storedSessions.listable
      ? await storedSessions.list({
          limit: LIST_LIMIT,
          ...(after ? { after } : before ? { before } : {}),
          log: request.log,
        })
      : null;
    return renderPage(request, reply, "admin-sessions.ejs", {
      title: "Stored sessions",
      listable: storedSessions.listable,
      engine: app.config.session.SESSION_ENGINE,
      page,
      pageSize: LIST_LIMIT,
      pageUrl: (cursor: { after: string } | { before: string }) =>
        `${LIST_URL}?${new URLSearchParams(cursor).toString()}`,
      ownPrefix: ownPrefix(request),
      notice: request.session.pop(NOTICE, null),
    });
  });

  app.get<KeyParams>(`${LIST_URL}:session_key/`, { schema: keyParams }, async (request, reply) => {
    const found = await storedSessions.find(request.params.session_key, request.log).catch(notStored);
    const keyPrefix = found.key.slice(0, KEY_PREFIX_LENGTH);
    return renderPage(request, reply, "admin-session.ejs", {
      title: `Session ${keyPrefix}…`,
      keyPrefix,
      own: found.key === request.session.sessionKey,
      username: found.username,
      data: found.data === null ? null : JSON.stringify(found.data, null, 2),
      expiresAt: found.expiresAt,
      size: found.size,
    });
  });

  app.post<KeyParams>(`${LIST_URL}:session_key/end/`, { schema: keyParams }, async (request, reply) => {
    const admin = (await request.getUser())!;
    const ended = await storedSessions.end(request.params.session_key).catch(notStored);
    const keyPrefix = ended.key.slice(0, KEY_PREFIX_LENGTH);
    request.log.info({ endedBy: admin.id, keyPrefix }, "session ended by staff");
    if (ended.key === request.session.sessionKey) {
      // Its record is gone: saving it again would fail, so this browser is logged out instead.
      await request.logout();
    } else {
      request.session.set(NOTICE, `Ended session ${keyPrefix}…: its visitor starts afresh at their next request.`);
    }
    return reply.redirect(LIST_URL, 303);
  });
};
