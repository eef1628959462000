/**
 * What operators see of the session store, shared by `npm run sessions` and /admin/sessions/:
 * each session with its key prefix, user, expiry and size, one session decoded (Django's
 * get_decoded()), and ending one. Full keys are shown only where asked for one by name.
 */
import {
  SHOWN_KEY_PREFIX_LENGTH,
  type CountOptions,
  type ListOptions,
  type ListOrder,
  type SessionData,
  type SessionEngine,
  type SessionLogger,
  type StoredSession,
} from "fastify-django-sessions";
import { SESSION_USER_ID, storedUserId } from "../auth/session-auth.js";
import type { Users } from "../auth/users.js";
import type { EndedSessions } from "../auth/ended-sessions.js";
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

export interface ListPageOptions {
  /** Sessions on the page (default 100). */
  limit?: number;
  /** The page after this cursor (a page's `next`). */
  after?: string;
  /** The page before this cursor (a page's `previous`). */
  before?: string;
  /** Told about stored data that does not verify, for the sessions on the page only. */
  log?: SessionLogger;
}

export interface StoredSessionsPage {
  sessions: StoredSessionSummary[];
  /** Every unexpired session in the store. */
  total: number;
  /** Position of the page's first session in the whole listing, from 1; 0 for an empty page. */
  start: number;
  /** Cursors of the neighbouring pages, for `after` and `before`; null where there is none. */
  next: string | null;
  previous: string | null;
  /** The engine's listing order (null: its own). */
  order: ListOrder | null;
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
    /** Where the ended session's browser is told why, at its next request. */
    private readonly ended?: Pick<EndedSessions, "record">,
  ) {}

  get listable(): boolean {
    return this.engine.listSessions !== undefined;
  }

  private stored(options: ListOptions): AsyncIterable<StoredSession> {
    if (!this.engine.listSessions) throw new CannotList(this.engine);
    return this.engine.listSessions(options);
  }

  /** Counted in the store; an engine without countSessions is walked (decoding, silently). */
  private async count(options: CountOptions): Promise<number> {
    if (this.engine.countSessions) return this.engine.countSessions(options);
    let n = 0;
    for await (const _ of this.stored(options)) n++;
    return n;
  }

  /** Up to `limit` sessions; stops reading once it has them, whatever the engine does. */
  private async take(options: ListOptions & { limit: number }): Promise<StoredSession[]> {
    const taken: StoredSession[] = [];
    if (options.limit < 1) return taken;
    for await (const stored of this.stored(options)) {
      taken.push(stored);
      if (taken.length >= options.limit) break;
    }
    return taken;
  }

  /**
   * One page of sessions in the engine's listing order (latest expiry first on db and
   * cached_db): the first `limit`, those after the cursor `after`, or those just before
   * `before`. Only the page's sessions are read and decoded; how many come before and after it
   * is counted in the store. A cursor that is not one throws InvalidCursor.
   */
  async list({ limit = 100, after, before, log }: ListPageOptions = {}): Promise<StoredSessionsPage> {
    const cursor = after !== undefined ? { after } : before !== undefined ? { before } : {};
    let page = await this.take({ limit, ...cursor, ...(log ? { log } : {}) });
    let fromStart = after === undefined && before === undefined;
    if (!fromStart && before !== undefined && page.length < limit) {
      // Fewer than a page before the cursor: that is the first page.
      page = await this.take({ limit, ...(log ? { log } : {}) });
      fromStart = true;
    }
    const first = page[0];
    const last = page.at(-1);
    let total: number;
    let preceding = 0;
    let following = 0;
    if (first === undefined || last === undefined) {
      total = await this.count({});
    } else if (first.cursor === undefined || last.cursor === undefined) {
      // The engine does not page: its first `limit` sessions, and the count.
      total = await this.count({});
      following = total - page.length;
    } else {
      preceding = fromStart ? 0 : await this.count({ before: first.cursor });
      following = fromStart && page.length < limit ? 0 : await this.count({ after: last.cursor });
      total = preceding + page.length + following;
    }
    const canPage = last?.cursor !== undefined;
    return {
      sessions: await this.summaries(page),
      total,
      start: page.length === 0 ? 0 : preceding + 1,
      next: canPage && following > 0 ? last.cursor! : null,
      // Past the end (the sessions after the cursor ended meanwhile): the page before the cursor.
      previous:
        canPage && preceding > 0
          ? first!.cursor!
          : page.length === 0 && after !== undefined && total > 0
            ? after
            : null,
      order: this.engine.listOrder ?? null,
    };
  }

  private async summaries(page: readonly StoredSession[]): Promise<StoredSessionSummary[]> {
    const names = new Map<number, string | null>();
    const sessions: StoredSessionSummary[] = [];
    for (const stored of page) {
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
    return sessions;
  }

  /** The one session whose key is `key` or starts with it (at least KEY_PREFIX_LENGTH characters). */
  async find(key: string, log?: SessionLogger): Promise<StoredSession & { username: string | null }> {
    if (key.length < KEY_PREFIX_LENGTH) throw new SessionNotFound(key);
    const matches: StoredSession[] = [];
    for await (const stored of this.stored({ keyPrefix: key, ...(log ? { log } : {}) })) {
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
    await this.ended?.record(found.key, "admin", userIdOf(found.data) !== null);
    return found;
  }
}
