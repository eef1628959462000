/**
 * What operators see of the session store, shared by `npm run sessions` and /admin/sessions/:
 * each session with its key prefix, user, expiry and size, one session decoded (Django's
 * get_decoded()), and ending one. Full keys are shown only where asked for one by name.
 */
import { SHOWN_KEY_PREFIX_LENGTH, type SessionData, type SessionEngine, type StoredSession } from "../sessions/index.js";
import { SESSION_USER_ID, storedUserId } from "../auth/session-auth.js";
import type { Users } from "../auth/users.js";
import type { UserSessions } from "../auth/user-sessions.js";

/** How many characters of a key identify a session in lists and URLs. */
export const KEY_PREFIX_LENGTH = SHOWN_KEY_PREFIX_LENGTH;

export interface StoredSessionSummary {
  keyPrefix: string;
  /** The logged-in user's name, or null for an anonymous session. */
  username: string | null;
  userId: number | null;
  expiresAt: Date | null;
  size: number;
  /** The data does not verify: tampered, or signed with another SECRET_KEY. */
  tampered: boolean;
}

export class CannotList extends Error {
  override name = "CannotList";
  constructor(engine: SessionEngine) {
    super(
      engine.clientSide
        ? `The ${engine.name} engine keeps sessions in the browser's cookie: the server has none to list.`
        : `The ${engine.name} engine cannot list its sessions.`,
    );
  }
}

export class SessionNotFound extends Error {
  override name = "SessionNotFound";
  readonly statusCode = 404;
  constructor(key: string, matches = 0) {
    super(
      matches > 1
        ? `${matches} sessions start with "${key}": give more of the key.`
        : `No session with key "${key}" (it may have expired or ended).`,
    );
  }
}

function userIdOf(data: SessionData | null): number | null {
  return storedUserId(data?.[SESSION_USER_ID]) ?? null;
}

export class StoredSessions {
  constructor(
    private readonly engine: SessionEngine,
    private readonly users: Pick<Users, "byId">,
    private readonly userSessions?: Pick<UserSessions, "forget">,
  ) {}

  get listable(): boolean {
    return this.engine.listSessions !== undefined;
  }

  private stored(keyPrefix?: string): AsyncIterable<StoredSession> {
    if (!this.engine.listSessions) throw new CannotList(this.engine);
    return this.engine.listSessions(keyPrefix === undefined ? {} : { keyPrefix });
  }

  /**
   * Up to `limit` sessions, latest expiry first, and how many there are in all. The whole store
   * is walked once to count; only `limit` summaries are kept.
   */
  async list({ limit = 100 }: { limit?: number } = {}): Promise<{ sessions: StoredSessionSummary[]; total: number }> {
    const kept: StoredSession[] = [];
    let total = 0;
    const later = (a: StoredSession, b: StoredSession) => (b.expiresAt?.getTime() ?? 0) - (a.expiresAt?.getTime() ?? 0);
    for await (const stored of this.stored()) {
      total++;
      kept.push(stored);
      if (kept.length > limit * 2) kept.sort(later).length = limit;
    }
    kept.sort(later);
    const names = new Map<number, string | null>();
    const sessions: StoredSessionSummary[] = [];
    for (const stored of kept.slice(0, limit)) {
      const userId = userIdOf(stored.data);
      if (userId !== null && !names.has(userId)) names.set(userId, (await this.users.byId(userId))?.username ?? null);
      sessions.push({
        keyPrefix: stored.key.slice(0, KEY_PREFIX_LENGTH),
        username: userId === null ? null : (names.get(userId) ?? null),
        userId,
        expiresAt: stored.expiresAt,
        size: stored.size,
        tampered: stored.data === null,
      });
    }
    return { sessions, total };
  }

  /** The one session whose key is `key` or starts with it (at least KEY_PREFIX_LENGTH characters). */
  async find(key: string): Promise<StoredSession & { username: string | null }> {
    if (key.length < KEY_PREFIX_LENGTH) throw new SessionNotFound(key);
    const matches: StoredSession[] = [];
    for await (const stored of this.stored(key)) {
      matches.push(stored);
      if (matches.length > 1) break;
    }
    const exact = matches.find((stored) => stored.key === key);
    const found = exact ?? (matches.length === 1 ? matches[0] : undefined);
    if (!found) throw new SessionNotFound(key, matches.length);
    const userId = userIdOf(found.data);
    return { ...found, username: userId === null ? null : ((await this.users.byId(userId))?.username ?? null) };
  }

  /** Ends the session `key` names: its record is deleted, so its visitor is logged out. */
  async end(key: string): Promise<StoredSession> {
    const found = await this.find(key);
    await this.engine.open(found.key).deleteRecord(found.key);
    await this.userSessions?.forget(found.key);
    return found;
  }
}
