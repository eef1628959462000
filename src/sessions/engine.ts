/**
 * A session engine is Django's SESSION_ENGINE module: it opens one session object per request
 * and clears expired records for the whole store.
 */
import type { SessionBase, SessionData, SessionLogger, SessionShape } from "./session-base.js";

export interface SessionEngine {
  /** The engine's short name, as SESSION_ENGINE spells it (db, cache, ...). */
  readonly name: string;
  /** Django's SessionStore(session_key): nothing is read until the data is needed. */
  open<T extends SessionShape<T> = SessionData>(
    sessionKey: string | null | undefined,
    log?: SessionLogger,
  ): SessionBase<T>;
  /** Removes expired records; resolves to how many were removed where the store can tell. */
  clearExpired(): Promise<number | undefined>;
  /** Releases connections the engine opened itself. */
  close(): Promise<void>;
}

/** A logger that drops everything, for sessions opened outside a request. */
export const silentLogger: SessionLogger = {
  warn() {},
  error() {},
};
