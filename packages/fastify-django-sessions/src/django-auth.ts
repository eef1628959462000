/**
 * Who is logged in, as django.contrib.auth records it in the session: login() stores the user's
 * id, the backend that authenticated them and an HMAC of their password hash; get_user() trusts
 * the id only while that HMAC still matches the user's current password hash. A Node app sharing
 * Django's sessions table reads Django's logins with djangoUserId(), by the same rules.
 */
import { timingSafeEqual } from "node:crypto";
import type { JsonValue } from "./json.js";
import type { SessionBase, SessionData } from "./session-base.js";
import type { SessionSettings } from "./settings.js";
import { saltedHmac } from "./signing.js";

/** django.contrib.auth's session keys (SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY). */
export const SESSION_USER_ID = "_auth_user_id";
export const SESSION_USER_BACKEND = "_auth_user_backend";
export const SESSION_USER_HASH = "_auth_user_hash";
/** Django's default AUTHENTICATION_BACKENDS entry: users of its auth_user table. */
export const MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend";

const SESSION_AUTH_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/** AbstractBaseUser.get_session_auth_hash(): the hex HMAC-SHA256 of a password hash under `secret`. */
export function sessionAuthHash(passwordHash: string, secret: string): string {
  return saltedHmac(SESSION_AUTH_HASH_SALT, passwordHash, secret).toString("hex");
}

/** constant_time_compare() of two strings. */
export function sameSessionAuthHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export type AuthSecrets = Pick<SessionSettings, "SECRET_KEY" | "SECRET_KEY_FALLBACKS">;

/**
 * Which secret made `stored` from `passwordHash`: the current one, a fallback (the hash should be
 * rewritten with the current one), or none (the password changed, or the secret was retired).
 */
export function sessionAuthHashSecret(
  stored: string,
  passwordHash: string,
  { SECRET_KEY, SECRET_KEY_FALLBACKS }: AuthSecrets,
): "current" | "fallback" | null {
  if (stored === "") return null;
  if (sameSessionAuthHash(stored, sessionAuthHash(passwordHash, SECRET_KEY))) return "current";
  return SECRET_KEY_FALLBACKS.some((key) => sameSessionAuthHash(stored, sessionAuthHash(passwordHash, key)))
    ? "fallback"
    : null;
}

/** A stored `_auth_user_id` as text (Django stores the primary key as a string), or null. */
export function storedUserIdText(value: JsonValue | undefined): string | null {
  if (typeof value === "string") return value === "" ? null : value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return null;
}

export interface DjangoUserOptions {
  /**
   * The user's stored password hash (Django's `auth_user.password`, e.g. `pbkdf2_sha256$...`)
   * for a stored user id, or null/undefined when there is no such user. Answer null for a user
   * who may not log in (ModelBackend's get_user() does so for is_active = false).
   */
  passwordHash: (userId: string) => Promise<string | null | undefined>;
  /** Django's AUTHENTICATION_BACKENDS: a session logged in through any other is anonymous. */
  backends?: readonly string[];
}

/**
 * django.contrib.auth.get_user() on a shared session: the logged-in user's id, or null.
 *
 * - No user id or backend stored, a backend not in `backends`, or no such user: null, and the
 *   session is left as it is.
 * - The stored `_auth_user_hash` matches the HMAC of the user's password hash under SECRET_KEY:
 *   the id.
 * - It matches under one of SECRET_KEY_FALLBACKS: the id, after cycling the session key and
 *   rewriting the hash under SECRET_KEY (Django 4.1+).
 * - Otherwise (the password changed, a retired secret, no hash): the session is flushed (its
 *   record deleted, a delete cookie sent) and null.
 *
 * The secrets are the session's own settings, which must be Django's.
 */
export async function djangoUserId(
  session: SessionBase<SessionData>,
  { passwordHash, backends = [MODEL_BACKEND] }: DjangoUserOptions,
): Promise<string | null> {
  const userId = storedUserIdText(session.get(SESSION_USER_ID));
  const backend = session.get(SESSION_USER_BACKEND);
  if (userId === null || typeof backend !== "string" || !backends.includes(backend)) return null;
  const password = await passwordHash(userId);
  if (password === null || password === undefined) return null;
  const stored = session.get(SESSION_USER_HASH);
  const secrets = session.settings;
  const secret = typeof stored === "string" ? sessionAuthHashSecret(stored, password, secrets) : null;
  if (secret === "current") return userId;
  if (secret === "fallback") {
    await session.cycleKey();
    session.set(SESSION_USER_HASH, sessionAuthHash(password, secrets.SECRET_KEY));
    return userId;
  }
  await session.flush();
  return null;
}
