/**
 * Django's login(), logout() and get_user() as they touch the session (docs/django-sessions.md#login-logout-and-cycle_key):
 * which keys are stored, when the key is cycled or the session flushed, and how a password
 * change elsewhere logs a session out.
 */
import type { JsonValue, SessionBase, SessionData } from "fastify-django-sessions";
// The package's django.contrib.auth primitives: the keys, the hash, get_user() (djangoUserId).
import {
  djangoUserId,
  sameSessionAuthHash,
  sessionAuthHash,
  sessionAuthHashSecret,
  MODEL_BACKEND,
  SESSION_USER_BACKEND,
  SESSION_USER_HASH,
  SESSION_USER_ID,
  type AuthSecrets,
} from "fastify-django-sessions";

/** The only backend is MODEL_BACKEND: users in this app's table (Django's default backend path, for compatibility). */
export { sessionAuthHash, MODEL_BACKEND, SESSION_USER_BACKEND, SESSION_USER_HASH, SESSION_USER_ID };

/** What login needs of a user: its id and stored password hash. */
export interface AuthUser {
  id: number;
  password: string;
}

/** Any session whose shape allows arbitrary JSON keys (the auth keys are reserved ones). */
type AuthSession = SessionBase<SessionData>;

const text = (value: JsonValue | undefined): string | undefined => (typeof value === "string" ? value : undefined);
export type Secrets = AuthSecrets;

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
  return sessionAuthHashSecret(text(session.get(SESSION_USER_HASH)) ?? "", user.password, secrets);
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
    if (storedId !== String(user.id) || (hash !== "" && !sameSessionAuthHash(storedHash, hash))) {
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
 * get_user(): the logged-in user, verified against the current password hash, or null (the
 * package's djangoUserId, with the session's own secrets). A hash made with a fallback secret
 * keeps the user logged in and cycles the key; any other mismatch (the password changed
 * elsewhere) flushes the session.
 */
export async function authenticatedUser<U extends AuthUser>(
  session: AuthSession,
  findUser: (id: number) => Promise<U | undefined>,
): Promise<U | null> {
  let user: U | undefined;
  const id = await djangoUserId(session, {
    async passwordHash(stored) {
      const id = storedUserId(stored);
      user = id === undefined ? undefined : await findUser(id);
      return user?.password;
    },
  });
  return id === null ? null : (user ?? null);
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
