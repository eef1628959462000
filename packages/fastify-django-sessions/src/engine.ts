/**
 * A session engine is Django's SESSION_ENGINE module: it opens one session object per request
 * and clears expired records for the whole store.
 */
import type { SessionBase, SessionContext, SessionData, SessionLogger, SessionShape } from "./session-base.js";
import { SHOWN_KEY_PREFIX_LENGTH } from "./keys.js";
import { isJsonObject } from "./json.js";
import type { TimestampSigner } from "./signing.js";
import { SessionLocks, type LockStore } from "./locks.js";
import type { SessionSettings } from "./settings.js";

/** One stored session as an operator sees it: Django's Session row with get_decoded(). */
export interface StoredSession {
  key: string;
  /** The decoded data; null when it does not verify (tampered, or signed with another SECRET_KEY). */
  data: SessionData | null;
  /** When the store drops it unless it is saved again; null where the store cannot tell. */
  expiresAt: Date | null;
  /** Bytes the store holds for it. */
  size: number;
  /**
   * Where it stands in the engine's listing order, for ListOptions.after/before (the sessions
   * after or before it). Opaque and sealed: it never reveals the key. Set by engines that page.
   */
  cursor?: string;
}

/**
 * Which sessions to list or count. Listing order is the engine's (SessionEngine.listOrder):
 * `db` and `cached_db` latest expiry first, ties by key (descending), straight from the
 * expire_date index; `cache` and `file` by key, since they cannot sort in the store.
 */
export interface CountOptions {
  /** Only keys starting with this (a-z0-9; anything else matches nothing). */
  keyPrefix?: string;
  /** Only sessions after this cursor (a StoredSession's `cursor`); InvalidCursor if it is not one. */
  after?: string;
  /** Only sessions before this cursor. */
  before?: string;
}

export interface ListOptions extends CountOptions {
  /**
   * At most this many. With `before` (and no `after`) these are the last `limit` sessions before
   * the cursor, still yielded in listing order; otherwise the first `limit`. Only those are read
   * and decoded.
   */
  limit?: number;
  /** Told when stored data does not verify ("Session data corrupted"), as Django's get_decoded() warns. */
  log?: SessionLogger;
}

export interface ClearOptions {
  /** Rows deleted per statement, so no lock is held for long (engines that delete rows). */
  batchSize?: number;
  /** Called after each batch with the running total. */
  onProgress?: (removed: number) => void;
}

/**
 * Data as stored server-side, or null when its signature does not verify; then `log` gets
 * Django's django.security.SuspiciousSession warning, naming the key by its prefix.
 */
export function decodeStored(
  signer: TimestampSigner,
  stored: string,
  log?: SessionLogger,
  key?: string,
): SessionData | null {
  try {
    const value = signer.unsignObject(stored);
    return isJsonObject(value) ? value : {};
  } catch {
    log?.warn(
      { logger: "django.security.SuspiciousSession", sessionKey: key?.slice(0, SHOWN_KEY_PREFIX_LENGTH) },
      "Session data corrupted",
    );
    return null;
  }
}

/** A cache entry exactly as the cache keeps it, for RawRecord. */
export interface RawCacheEntry {
  /** The key given to the cache: the engine's prefix, then the session key. */
  key: string;
  /** How the cache names itself (Redis at ..., the in-process cache). */
  where: string;
  /** The entry's text; null when there is none. */
  text: string | null;
  /** When the cache drops the entry (epoch ms); null when there is none. */
  expiresAt: number | null;
}

/**
 * What the store keeps for one session, read raw rather than through a session object: the row
 * (db, cached_db with the cache's copy), the cache entry (cache), the file (file), or the cookie
 * itself (signed_cookies). `salt` is the signer's salt of the signed text, for taking it apart.
 * For showing and debugging, not for requests.
 */
export type RawRecord =
  | {
      kind: "row";
      table: string;
      row: { session_key: string; session_data: string; expire_date: string | Date } | null;
      salt: string;
      cacheCopy?: RawCacheEntry;
    }
  | { kind: "cache"; entry: RawCacheEntry }
  | { kind: "file"; path: string; contents: string | null; modified: Date | null; salt: string }
  | { kind: "cookie"; value: string; salt: string }
  /** The key is not one this store can hold (too short or long, characters outside a-z0-9). */
  | { kind: "unusable-key" };

export interface SessionEngine {
  /** The engine's short name, as SESSION_ENGINE spells it (db, cache, ...). */
  readonly name: string;
  /**
   * The settings every session of this engine follows, validated. The plugin reads the cookie's
   * name, age and attributes from here, so the cookie and the store can never disagree.
   */
  readonly settings: SessionSettings;
  /** The engine's clock in milliseconds (a test clock can replace it); cookie expiry uses it too. */
  readonly now: () => number;
  /**
   * True when the cookie is the session (signed_cookies): the server keeps nothing, so it can
   * neither list sessions nor end one (a copied cookie stays valid until it expires).
   */
  readonly clientSide: boolean;
  /** Django's SessionStore(session_key): nothing is read until the data is needed. */
  open<T extends SessionShape<T> = SessionData>(
    sessionKey: string | null | undefined,
    log?: SessionLogger,
  ): SessionBase<T>;
  /** Removes expired records; resolves to how many were removed where the store can tell. */
  clearExpired(options?: ClearOptions): Promise<number | undefined>;
  /**
   * The unexpired stored sessions, for operators (a request never needs it); absent when the
   * engine cannot enumerate its sessions (signed_cookies keeps none).
   */
  listSessions?(options?: ListOptions): AsyncIterable<StoredSession>;
  /**
   * How many sessions listSessions would yield with these options (no limit), counted in the
   * store where it can; absent when the engine cannot list.
   */
  countSessions?(options?: CountOptions): Promise<number>;
  /** How listSessions orders sessions: latest expiry first, or by key. Absent: the engine's own order. */
  readonly listOrder?: ListOrder;
  /**
   * What the store keeps for `sessionKey` (on signed_cookies: the cookie's value), raw; absent on
   * custom engines that do not say. One read of the store.
   */
  readRecord?(sessionKey: string): Promise<RawRecord>;
  /** Releases connections the engine opened itself. */
  close(): Promise<void>;
  /**
   * True when concurrent saves of one session keep each other's changes to different keys
   * (SessionBase.updatedRecord inside an atomic read-and-write); false when the last save
   * overwrites the whole session (signed_cookies, and custom engines that do not merge).
   */
  readonly mergesSaves: boolean;
  /**
   * Runs requests of one session one at a time on routes that ask for it; null where that can
   * mean nothing (signed_cookies: every response carries a whole session and the browser keeps
   * whichever arrives last).
   */
  readonly locks: SessionLocks | null;
  /**
   * True when a session is read at its first touch, synchronously (SQLite through
   * better-sqlite3, the in-process cache, signed cookies): the plugin then fetches nothing ahead
   * and a request that never touches the session costs no read, as in Django.
   */
  readonly loadsSynchronously: boolean;
}

export type ListOrder = "expiry" | "key";

/** What every session of an engine shares; the logger is added per request. */
export type EngineContext = Omit<SessionContext, "log">;

/** A logger that drops everything, for sessions opened outside a request. */
export const silentLogger: SessionLogger = {
  warn() {},
  error() {},
};

/**
 * Builds an engine from how it makes one session. `clearExpired` defaults to "nothing to do"
 * (stores that expire entries themselves); resources belong to the application, so close()
 * releases nothing unless `close` is given. Locks are taken in this process alone unless a
 * `lockStore` shared with the other processes is given; client-side engines have none.
 */
export function defineEngine(
  name: string,
  context: EngineContext,
  makeSession: (sessionKey: string | null | undefined, context: SessionContext) => SessionBase,
  {
    clearExpired = async () => undefined,
    close = async () => {},
    clientSide = false,
    mergesSaves = false,
    lockStore = null,
    loadsSynchronously = false,
    listSessions,
    countSessions,
    listOrder,
    readRecord,
  }: {
    clearExpired?: (options?: ClearOptions) => Promise<number | undefined>;
    close?: () => Promise<void>;
    clientSide?: boolean;
    mergesSaves?: boolean;
    lockStore?: LockStore | null;
    loadsSynchronously?: boolean;
    listSessions?: (options?: ListOptions) => AsyncIterable<StoredSession>;
    countSessions?: (options?: CountOptions) => Promise<number>;
    listOrder?: ListOrder;
    readRecord?: (sessionKey: string) => Promise<RawRecord>;
  } = {},
): SessionEngine {
  return {
    name,
    settings: context.settings,
    now: context.now,
    clientSide,
    mergesSaves,
    loadsSynchronously,
    locks: clientSide ? null : new SessionLocks(lockStore),
    ...(listSessions ? { listSessions } : {}),
    ...(countSessions ? { countSessions } : {}),
    ...(listOrder ? { listOrder } : {}),
    ...(readRecord ? { readRecord } : {}),
    open<T extends SessionShape<T> = SessionData>(
      sessionKey: string | null | undefined,
      log: SessionLogger = silentLogger,
    ) {
      // The data shape is a compile-time view; every session holds JSON at run time. A literal
      // of a fixed shape (not a spread) keeps this cheap: it runs on every request that uses
      // the session.
      const { settings, signer, now, hooks } = context;
      return makeSession(sessionKey, { settings, signer, now, hooks, log }) as unknown as SessionBase<T>;
    },
    clearExpired,
    close,
  };
}
