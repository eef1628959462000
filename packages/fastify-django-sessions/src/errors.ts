/** Raised by an engine when save(mustCreate=true) finds the key taken. */
export class CreateError extends Error {
  override name = "CreateError";
}

/** Raised by an engine when save(mustCreate=false) finds no record to update. */
export class UpdateError extends Error {
  override name = "UpdateError";
}

/** Django's KeyError for `del session[k]` / `pop(k)` on a missing key. */
export class KeyError extends Error {
  override name = "KeyError";
  constructor(readonly key: string) {
    super(`Session has no key ${JSON.stringify(key)}`);
  }
}

/** Django's SessionInterrupted: the record vanished (e.g. a concurrent logout) before saving. */
export class SessionInterrupted extends Error {
  override name = "SessionInterrupted";
  readonly statusCode = 400;
  constructor() {
    super(
      "The request's session was deleted before the request completed. " +
        "The user may have logged out in a concurrent request, for example.",
    );
  }
}

/** The session was touched synchronously before its record was fetched. */
export class SessionNotLoadedError extends Error {
  override name = "SessionNotLoadedError";
  constructor() {
    super(
      "The session has not been loaded. Routes with `config: { session: false }` must " +
        "`await request.session.load()` before reading it.",
    );
  }
}

/** A bad setting, reported once at startup with the setting's name. */
export class ImproperlyConfigured extends Error {
  override name = "ImproperlyConfigured";
}

/** The engine cannot clear expired sessions (Django's NotImplementedError from clear_expired). */
export class ClearExpiredNotSupported extends Error {
  override name = "ClearExpiredNotSupported";
  constructor() {
    super("This backend does not support clear_expired().");
  }
}

/**
 * Beyond Django: a session cookie over the browsers' 4096-byte limit would be dropped silently
 * (the visitor would look logged out); the response fails with this instead.
 */
export class SessionCookieTooLarge extends Error {
  override name = "SessionCookieTooLarge";
  readonly statusCode = 500;
  /** Safe to show to the visitor. */
  readonly expose = true;
  constructor(readonly size: number) {
    super(
      `Your session has grown too large to keep in a cookie (${size} bytes; browsers keep at most ` +
        `${MAX_COOKIE_BYTES}). Nothing was saved.`,
    );
  }
}

export const MAX_COOKIE_BYTES = 4096;

/**
 * Beyond Django: a save that would store more than SESSION_MAX_BYTES is refused, and the stored
 * session stays as it was.
 */
export class SessionTooLarge extends Error {
  override name = "SessionTooLarge";
  readonly statusCode = 413;
  /** Safe to show to the visitor. */
  readonly expose = true;
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `Your session has grown too large to save (${size} bytes; this site keeps at most ${limit}). ` +
        "Nothing was changed: remove something from it and try again.",
    );
  }
}

/**
 * Beyond Django: a request on a route with `config: { session: { lock: true } }` waited for
 * another request of the same session longer than it may; it did not run.
 */
export class SessionLockTimeout extends Error {
  override name = "SessionLockTimeout";
  readonly statusCode = 503;
  /** Safe to show to the visitor. */
  readonly expose = true;
  constructor(readonly waitedSeconds: number) {
    super(
      `Another request of your session is still running on this page; this one waited ${waitedSeconds} ` +
        "seconds for its turn and was not carried out. Nothing was changed. Please try again.",
    );
  }
}
