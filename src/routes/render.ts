/** What every page template receives: its own values, the CSRF token and the session panel. */
import type { FastifyReply, FastifyRequest } from "fastify";
import { SHOWN_KEY_PREFIX_LENGTH, type JsonValue, type Session } from "fastify-django-sessions";
import { readCookie } from "fastify-django-sessions";
import { teachLocals } from "../teach/plugin.js";
import { takeNotices } from "../notices.js";

export interface SessionPanel {
  key: string | null;
  keyShort: string | null;
  data: Record<string, JsonValue>;
  expiryAge: number;
  expiryDate: string;
  browserClose: boolean;
  cookieSent: string | null;
}

/** The "your session" panel: what the session holds as this page is rendered. */
export function sessionPanel(request: FastifyRequest, session: Session): SessionPanel {
  const key = session.sessionKey;
  // Read as the session framework reads it (the last of duplicated cookies wins, no decoding):
  // request.cookies keeps the first, so the panel would name a cookie the session never used.
  const sent = readCookie(request.headers.cookie, request.server.config.session.SESSION_COOKIE_NAME) ?? null;
  return {
    key,
    keyShort: key ? `${key.slice(0, SHOWN_KEY_PREFIX_LENGTH)}…` : null,
    data: Object.fromEntries(session.items()),
    expiryAge: session.getExpiryAge(),
    expiryDate: session.getExpiryDate().toISOString(),
    browserClose: session.getExpireAtBrowserClose(),
    cookieSent: sent,
  };
}

export async function renderPage(
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  locals: Record<string, unknown> & { title: string },
): Promise<FastifyReply> {
  const csrfToken = reply.generateCsrf();
  // Every page shows who is logged in, so every page verifies the session's password hash.
  const currentUser = await request.getUser();
  // Taken before the view renders, so the notice cookie's deletion goes out with this page.
  const feedback = takeNotices(request, reply);
  return reply.view(template, {
    ...locals,
    csrfToken,
    currentUser,
    feedback,
    panel: sessionPanel(request, request.session),
    path: request.url,
    // Django's code beside ours (the teaching panels; see src/teach/).
    teach: teachLocals(request, reply),
  });
}
