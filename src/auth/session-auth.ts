/**
 * Django's login(), logout() and get_user() as they touch the session (docs/django-sessions.md#login-logout-and-cycle_key):
 * which keys are stored, when the key is cycled or the session flushed, and how a password
 * change elsewhere logs a session out.
 */
import { timingSafeEqual } from "node:crypto";
import type { JsonValue, SessionBase, SessionData, SessionSettings } from "fastify-django-sessions";
// Django's salted_hmac, as django.contrib.auth uses it for the session auth hash.
import { saltedHmac } from "fastify-django-sessions";

export const SESSION_USER_ID = "_auth_user_id";
export const SESSION_USER_BACKEND = "_auth_user_backend";
export const SESSION_USER_HASH = "_auth_user_hash";
/** The only backend: users in this app's table (Django's default backend path, for compatibility). */
export const MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend";

const HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/** What login needs of a user: its id and stored password hash. */
export interface AuthUser {
  id: number;
  password: string;
}

/** Any session whose shape allows arbitrary JSON keys (the auth keys are reserved ones). */
type AuthSession = SessionBase<SessionData>;

const text = (value: JsonValue | undefined): string | undefined => (typeof value === "string" ? value : undefined);
export type Secrets = Pick<SessionSettings, "SECRET_KEY" | "SECRET_KEY_FALLBACKS">;

/** get_session_auth_hash(): hex HMAC of the password hash; changes when the password changes. */
export function sessionAuthHash(passwordHash: string, secret: string): string {
  return saltedHmac(HASH_SALT, passwordHash, secret).toString("hex");
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A stored `_auth_user_id` as a user id (unverified), or undefined when it is not one. */
export function storedUserId(value: JsonValue | undefined): number | undefined {
  const id = text(value);
  return id !== undefined && /^\d+$/.test(id) ? Number(id) : undefined;
}

/** The id of the user the session is logged in as (unverified), or undefined. */
export function sessionUserId(session: AuthSession): number | undefined {
  return storedUserId(session.get(SESSION_USER_ID));
}

/** Which secret made the session's stored hash for `user`'s password, or null when none did. */
function hashSecret(session: AuthSession, user: AuthUser, secrets: Secrets): "current" | "fallback" | null {
  const stored = text(session.get(SESSION_USER_HASH)) ?? "";
  if (stored === "") return null;
  if (sameHash(stored, sessionAuthHash(user.password, secrets.SECRET_KEY))) return "current";
  return secrets.SECRET_KEY_FALLBACKS.some((key) => sameHash(stored, sessionAuthHash(user.password, key)))
    ? "fallback"
    : null;
}

/** Whether the session is logged in as `user` with its current password (any secret in use). */
export function sessionBelongsTo(session: AuthSession, user: AuthUser, secrets: Secrets): boolean {
  return (
    sessionUserId(session) === user.id &&
    text(session.get(SESSION_USER_BACKEND)) === MODEL_BACKEND &&
    hashSecret(session, user, secrets) !== null
  );
}

/**
 * login(): an anonymous session is cycled to a new key and keeps its data (session-fixation
 * defence); a session of another user, or of this user with another password, is flushed; the
 * same user with the same password keeps the key. Then the user is recorded in the session.
 */
export async function login(session: AuthSession, user: AuthUser, secrets: Secrets): Promise<void> {
  const hash = sessionAuthHash(user.password, secrets.SECRET_KEY);
  if (session.has(SESSION_USER_ID)) {
    const storedId = text(session.get(SESSION_USER_ID));
    const storedHash = text(session.get(SESSION_USER_HASH)) ?? "";
    if (storedId !== String(user.id) || (hash !== "" && !sameHash(storedHash, hash))) {
      await session.flush();
    }
  } else {
    await session.cycleKey();
  }
  session.set(SESSION_USER_ID, String(user.id));
  session.set(SESSION_USER_BACKEND, MODEL_BACKEND);
  session.set(SESSION_USER_HASH, hash);
}

/** logout(): the session is flushed (record deleted, key dropped, delete cookie sent). */
export async function logout(session: AuthSession): Promise<void> {
  await session.flush();
}

/**
 * get_user(): the logged-in user's id, verified against the current password hash, or null.
 * A hash made with a fallback secret keeps the user logged in and cycles the key; any other
 * mismatch (the password changed elsewhere) flushes the session.
 */
export async function authenticatedUser<U extends AuthUser>(
  session: AuthSession,
  findUser: (id: number) => Promise<U | undefined>,
  secrets: Secrets,
): Promise<U | null> {
  const id = sessionUserId(session);
  if (id === undefined || text(session.get(SESSION_USER_BACKEND)) !== MODEL_BACKEND) return null;
  const user = await findUser(id);
  if (!user) return null;
  const secret = hashSecret(session, user, secrets);
  if (secret === "current") return user;
  if (secret === "fallback") {
    await session.cycleKey();
    session.set(SESSION_USER_HASH, sessionAuthHash(user.password, secrets.SECRET_KEY));
    return user;
  }
  await session.flush();
  return null;
}

/**
 * update_session_auth_hash(): after this session changed the user's password, keep it logged
 * in under a new key; every other session of the user fails verification and is logged out.
 */
export async function updateSessionAuthHash(session: AuthSession, user: AuthUser, secrets: Secrets): Promise<void> {
  await session.cycleKey();
  if (session.get(SESSION_USER_ID) === String(user.id)) {
    session.set(SESSION_USER_HASH, sessionAuthHash(user.password, secrets.SECRET_KEY));
  }
}
