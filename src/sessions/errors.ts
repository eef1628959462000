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
