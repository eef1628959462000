/**
 * A session engine is Django's SESSION_ENGINE module: it opens one session object per request
 * and clears expired records for the whole store.
 */
import type { SessionBase, SessionContext, SessionData, SessionLogger, SessionShape } from "./session-base.js";
import type { TimestampSigner } from "./signing.js";
import { SessionLocks, type LockStore } from "./locks.js";

/** One stored session as an operator sees it: Django's Session row with get_decoded(). */
export interface StoredSession {
  key: string;
  /** The decoded data; null when it does not verify (tampered, or signed with another SECRET_KEY). */
  data: SessionData | null;
  /** When the store drops it unless it is saved again; null where the store cannot tell. */
  expiresAt: Date | null;
  /** Bytes the store holds for it. */
  size: number;
}

export interface ListOptions {
  /** Only keys starting with this (a-z0-9; anything else matches nothing). */
  keyPrefix?: string;
}

export interface ClearOptions {
  /** Rows deleted per statement, so no lock is held for long (engines that delete rows). */
  batchSize?: number;
  /** Called after each batch with the running total. */
  onProgress?: (removed: number) => void;
}

/** Data as stored server-side, or null when its signature does not verify. */
export function decodeStored(signer: TimestampSigner, stored: string): SessionData | null {
  try {
    const value = signer.unsignObject(stored);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return null;
  }
}

export interface SessionEngine {
  /** The engine's short name, as SESSION_ENGINE spells it (db, cache, ...). */
  readonly name: string;
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
}

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
    listSessions,
  }: {
    clearExpired?: (options?: ClearOptions) => Promise<number | undefined>;
    close?: () => Promise<void>;
    clientSide?: boolean;
    mergesSaves?: boolean;
    lockStore?: LockStore | null;
    listSessions?: (options?: ListOptions) => AsyncIterable<StoredSession>;
  } = {},
): SessionEngine {
  return {
    name,
    clientSide,
    mergesSaves,
    locks: clientSide ? null : new SessionLocks(lockStore),
    ...(listSessions ? { listSessions } : {}),
    open<T extends SessionShape<T> = SessionData>(sessionKey: string | null | undefined, log: SessionLogger = silentLogger) {
      // The data shape is a compile-time view; every session holds JSON at run time.
      return makeSession(sessionKey, { ...context, log }) as unknown as SessionBase<T>;
    },
    clearExpired,
    close,
  };
}
