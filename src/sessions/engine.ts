/**
 * A session engine is Django's SESSION_ENGINE module: it opens one session object per request
 * and clears expired records for the whole store.
 */
import type { SessionBase, SessionContext, SessionData, SessionLogger, SessionShape } from "./session-base.js";

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
  clearExpired(): Promise<number | undefined>;
  /** Releases connections the engine opened itself. */
  close(): Promise<void>;
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
 * releases nothing unless `close` is given.
 */
export function defineEngine(
  name: string,
  context: EngineContext,
  makeSession: (sessionKey: string | null | undefined, context: SessionContext) => SessionBase,
  {
    clearExpired = async () => undefined,
    close = async () => {},
    clientSide = false,
  }: { clearExpired?: () => Promise<number | undefined>; close?: () => Promise<void>; clientSide?: boolean } = {},
): SessionEngine {
  return {
    name,
    clientSide,
    open<T extends SessionShape<T> = SessionData>(sessionKey: string | null | undefined, log: SessionLogger = silentLogger) {
      // The data shape is a compile-time view; every session holds JSON at run time.
      return makeSession(sessionKey, { ...context, log }) as unknown as SessionBase<T>;
    },
    clearExpired,
    close,
  };
}
