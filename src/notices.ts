/**
 * One-time notices: what an action did, shown on the next page and then gone (Django's messages
 * framework, with its cookie storage). The notice travels in a short-lived signed cookie of its
 * own, not in the session, because the session is what the demo shows: a notice stored there
 * would appear in the panel's data, would create a session (and a key) after a flush that just
 * removed it, and could not survive the actions that end the session (a flush, a negative
 * expiry, a sign-out by another session). The page that shows it deletes the cookie, so a reload
 * shows nothing. It is signed so another site (a sibling subdomain setting cookies) cannot make
 * this one display its text.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { BadSignature, TimestampSigner } from "fastify-django-sessions";

export const NOTICE_COOKIE = "notice";
/** A notice not shown within this many seconds (the page was never opened) is dropped. */
const NOTICE_MAX_AGE = 300;
const SALT = "demo.notices";

/** Notices left by this request, with any that arrived unshown (a form posted from a page that had none). */
const pending = new WeakMap<FastifyReply, string[]>();

/** One signer per app's settings: making one derives its keys. */
const signers = new WeakMap<object, TimestampSigner>();

function signer(request: FastifyRequest): TimestampSigner {
  const settings = request.server.config.session;
  let made = signers.get(settings);
  if (!made) {
    made = new TimestampSigner({ secret: settings.SECRET_KEY, fallbacks: settings.SECRET_KEY_FALLBACKS, salt: SALT });
    signers.set(settings, made);
  }
  return made;
}

function cookieOptions(request: FastifyRequest) {
  const secure = request.server.config.session.SESSION_COOKIE_SECURE;
  return { path: "/", httpOnly: true, sameSite: "lax" as const, secure };
}

/** The notices the request's cookie carries, verified; [] when none or not ours. */
function arrived(request: FastifyRequest): string[] {
  const sent = request.cookies[NOTICE_COOKIE];
  if (sent === undefined || sent === "") return [];
  try {
    const list = signer(request).unsignObject(sent, NOTICE_MAX_AGE);
    return Array.isArray(list) ? list.filter((m): m is string => typeof m === "string") : [];
  } catch (error) {
    if (error instanceof BadSignature) {
      request.log.warn("notice cookie with a bad or expired signature ignored");
      return [];
    }
    throw error;
  }
}

/** Leaves `text` for the next page this browser renders (or this one, if it renders a page). */
export function leaveNotice(reply: FastifyReply, text: string): void {
  const request = reply.request;
  const list = pending.get(reply) ?? arrived(request);
  list.push(text);
  pending.set(reply, list);
  const value = signer(request).signObject(list);
  reply.setCookie(NOTICE_COOKIE, value, { ...cookieOptions(request), maxAge: NOTICE_MAX_AGE });
}

/**
 * The notices to show on the page being rendered, oldest first; the cookie is deleted, so each
 * shows once.
 */
export function takeNotices(request: FastifyRequest, reply: FastifyReply): string[] {
  const list = pending.get(reply) ?? arrived(request);
  pending.delete(reply);
  if (list.length > 0 || request.cookies[NOTICE_COOKIE] !== undefined)
    reply.clearCookie(NOTICE_COOKIE, cookieOptions(request));
  return list;
}
