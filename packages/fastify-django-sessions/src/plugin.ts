/**
 * The Fastify plugin: Django's SessionMiddleware. It attaches `request.session`, fetches the
 * record before the handler when the request carries a key, and applies the response rules in
 * onSend. It registers hooks and one request decorator, nothing else.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import vary from "vary";
import { deleteSessionCookie, readCookie, sessionCookie } from "./cookies.js";
import { MIN_SESSION_KEY_LENGTH, sessionKeyProblem } from "./keys.js";
import type { SessionEngine } from "./engine.js";
import {
  ClearExpiredNotSupported,
  ImproperlyConfigured,
  MAX_COOKIE_BYTES,
  SessionCookieTooLarge,
  SessionInterrupted,
  SessionLockTimeout,
  UpdateError,
} from "./errors.js";
import type { LockOptions, ReleaseLock } from "./locks.js";
import type { SessionBase, SessionData, SessionShape } from "./session-base.js";
import type { SessionSettings } from "./settings.js";

/**
 * Augment this to declare your session's shape once; `get`/`set` are then checked:
 *   declare module "fastify-django-sessions" { interface SessionTypes { data: MySession } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: applications fill it in by declaration merging
export interface SessionTypes {}

export type AppSessionData = SessionTypes extends { data: infer D extends SessionShape<D> } ? D : SessionData;

/** The type of `request.session`. */
export type Session = SessionBase<AppSessionData>;

declare module "fastify" {
  interface FastifyRequest {
    session: Session;
  }
  interface FastifyContextConfig {
    /**
     * false: do not fetch the session before this route's handler (static files, probes).
     * `{ lock: true }`: requests of one session on this route run one at a time (see SessionRouteOptions).
     */
    session?: false | SessionRouteOptions;
  }
}

/** A route's session options: `config: { session: { lock: true } }`. */
export interface SessionRouteOptions {
  /**
   * Run this route's requests one at a time per session, so a read-modify-write of one key (a
   * counter, a cart list) is never lost. true uses the defaults; seconds can be given.
   */
  lock?: boolean | { waitSeconds?: number; leaseSeconds?: number };
}

/**
 * The plugin's options: the engine alone. The engine carries the settings (cookie name, age,
 * attributes, SESSION_SAVE_EVERY_REQUEST, ...) and the clock, so the cookie the plugin sends
 * always matches what the store keeps. Make it with createSessionEngine(settings, resources).
 */
export interface SessionPluginOptions {
  engine: SessionEngine;
}

/** Laravel's block() defaults: a lease of 10 s, and 10 s of waiting for it. */
export const DEFAULT_LOCK: LockOptions = { waitMs: 10_000, leaseMs: 10_000 };

const kSession = Symbol("session.instance");
const kExchange = Symbol("session.exchange");

/**
 * What the session did for one response, once the plugin's onSend has run (for pages that
 * teach, and for logs): whether the store was read and written, the session's Set-Cookie as
 * sent, whether Vary: Cookie was added, and which of Django's rules decided, in one line.
 */
export interface SessionExchange {
  read: boolean;
  written: boolean;
  setCookie: string | null;
  vary: boolean;
  reason: string;
}

/** The exchange of `request`'s response, or undefined before the session plugin's onSend. */
export function sessionExchange(request: FastifyRequest): SessionExchange | undefined {
  return (request as SessionRequest)[kExchange];
}
const kHadCookie = Symbol("session.hadCookie");
const kDone = Symbol("session.responded");
const kRelease = Symbol("session.releaseLock");

interface SessionRequest extends FastifyRequest {
  /** The session, once something asked for it (request.session opens it). */
  [kSession]: Session | null;
  [kExchange]: SessionExchange | undefined;
  [kHadCookie]: boolean;
  [kRelease]: ReleaseLock | null;
}

interface SessionReply extends FastifyReply {
  [kDone]: boolean;
}

function addVaryCookie(reply: FastifyReply): void {
  const current = reply.getHeader("vary");
  reply.header("vary", vary.append(Array.isArray(current) ? current.join(", ") : String(current ?? ""), "Cookie"));
}

/** What describes the body and target of a response that an error page is about to replace. */
const REPLACED_RESPONSE_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-disposition",
  "content-language",
  "location",
  "refresh",
  "etag",
  "last-modified",
];

/**
 * A failed save turns the response into an error page (Django's 400 for a vanished session).
 * What the handler said about its own body and target goes; everything else stays, the
 * security headers and cache rules included. The session has set nothing yet at that point.
 */
function dropReplacedResponseHeaders(reply: FastifyReply): void {
  for (const name of REPLACED_RESPONSE_HEADERS) reply.removeHeader(name);
}

/** A route's lock options from its config, validated (a bad value stops the app at start). */
export function routeLock(config: SessionRouteOptions | false | undefined, url: string): LockOptions | null {
  const lock = config === false || config === undefined ? undefined : config.lock;
  if (lock === undefined || lock === false) return null;
  if (lock === true) return DEFAULT_LOCK;
  const seconds = (name: "waitSeconds" | "leaseSeconds", fallbackMs: number) => {
    const value = lock[name];
    if (value === undefined) return fallbackMs;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 3600) {
      throw new ImproperlyConfigured(
        `Route ${url}: config.session.lock.${name} must be a number of seconds above 0 and at most 3600.`,
      );
    }
    return value * 1000;
  };
  return {
    waitMs: seconds("waitSeconds", DEFAULT_LOCK.waitMs),
    leaseMs: seconds("leaseSeconds", DEFAULT_LOCK.leaseMs),
  };
}

/**
 * The response rules of Django's SessionMiddleware (process_response), in order, and then
 * what this request did to the store becomes final: kept when the response succeeded, undone
 * when it failed (beyond Django: a failed response never destroys the session it arrived with).
 * Returns a promise only when there is I/O to wait for; most responses have none.
 */
function respond(
  settings: SessionSettings,
  now: () => number,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
): Promise<void> | undefined {
  const accessed = session.accessed;
  const modified = session.modified;
  const empty = session.isEmpty();
  const failed = reply.statusCode >= 500;

  const note = (setCookie: string | null, vary: boolean, reason: string) => {
    (request as SessionRequest)[kExchange] = { read: session.readFromStore, written: false, setCookie, vary, reason };
  };

  // A: the browser holds a cookie but there is no session any more. Not when this failed
  // response flushed it: the flush is undone, so the browser keeps its cookie.
  if ((request as SessionRequest)[kHadCookie] && empty) {
    if (failed && session.flushedInRequest) {
      note(null, true, "The session was flushed, but the response failed: the flush is undone and the cookie kept.");
    } else {
      const cookie = deleteSessionCookie(settings);
      reply.header("set-cookie", cookie);
      note(
        cookie,
        true,
        "The browser sent a session cookie but the session is empty now (flushed, or its key unknown): the cookie is deleted.",
      );
    }
    addVaryCookie(reply);
    return settle(session, failed);
  }
  // C: save (never on a server error) and send the cookie with the possibly new key.
  if ((modified || settings.SESSION_SAVE_EVERY_REQUEST) && !empty && !failed) {
    return saveAndSendCookie(settings, now, request, reply, session, accessed, modified);
  }
  // B: the response depends on the cookie whenever the handler looked at the session.
  if (accessed) addVaryCookie(reply);
  note(
    null,
    accessed,
    failed && (modified || settings.SESSION_SAVE_EVERY_REQUEST)
      ? "The session was changed, but a response of 500 or more saves nothing."
      : modified
        ? "The session was changed but is empty, and the browser has no cookie: there is nothing to save."
        : accessed
          ? "The session was read but not changed: nothing written, and Vary: Cookie tells caches the page depends on the cookie."
          : "The session was not touched: nothing read, nothing written, no session headers.",
  );
  return settle(session, failed);
}

/** Makes final what flush() and cycleKey() did, where they did anything. */
function settle(session: Session, failed: boolean): Promise<void> | undefined {
  if (!session.hasStoreChanges) return undefined;
  return failed ? session.discardStoreChanges() : session.commitStoreChanges();
}

async function saveAndSendCookie(
  settings: SessionSettings,
  now: () => number,
  request: FastifyRequest,
  reply: FastifyReply,
  session: Session,
  accessed: boolean,
  modified: boolean,
): Promise<void> {
  await session.load();
  // As Django, the cookie's expiry is worked out before saving, which applies the loaded
  // record: a key the store does not know is dropped here, so the save creates a new session.
  session.getExpireAtBrowserClose();
  try {
    await session.save();
  } catch (error) {
    (request as SessionRequest)[kExchange] = {
      read: session.readFromStore,
      written: false,
      setCookie: null,
      vary: false,
      reason:
        error instanceof UpdateError
          ? "The session was deleted (a logout elsewhere) before this request could save it: nothing written, a 400."
          : "The session could not be saved: nothing written, the response is an error page.",
    };
    await session.discardStoreChanges();
    dropReplacedResponseHeaders(reply);
    throw error instanceof UpdateError ? new SessionInterrupted() : error;
  }
  // Again after the save: the data it stored (merged with other requests' changes) decides.
  const maxAge = session.getExpireAtBrowserClose() ? undefined : session.getExpiryAge();
  const cookie = sessionCookie(settings, session.sessionKey!, maxAge, now());
  const size = Buffer.byteLength(cookie);
  if (size > MAX_COOKIE_BYTES) {
    request.log.error({ size, limit: MAX_COOKIE_BYTES }, "session cookie too large; not sent");
    await session.discardStoreChanges();
    dropReplacedResponseHeaders(reply);
    throw new SessionCookieTooLarge(size);
  }
  reply.header("set-cookie", cookie);
  if (accessed) addVaryCookie(reply);
  (request as SessionRequest)[kExchange] = {
    read: session.readFromStore,
    written: true,
    setCookie: cookie,
    vary: accessed,
    reason: modified
      ? "The session was changed: it was saved and its cookie sent again with a fresh expiry."
      : "SESSION_SAVE_EVERY_REQUEST is on: the session is saved, and its cookie sent, on every response.",
  };
  await settle(session, false);
}

async function releaseLock(request: FastifyRequest): Promise<void> {
  const release = (request as SessionRequest)[kRelease];
  if (!release) return;
  (request as SessionRequest)[kRelease] = null;
  try {
    await release();
  } catch (error) {
    // The lease ends by itself; the next request waits at most that long.
    request.log.warn({ err: error }, "could not release the session lock; it ends with its lease");
  }
}

const UNTOUCHED: SessionExchange = Object.freeze({
  read: false,
  written: false,
  setCookie: null,
  vary: false,
  reason: "The session was not touched: nothing read, nothing written, no session headers.",
});

const sessionPlugin: FastifyPluginCallback<SessionPluginOptions> = (fastify, { engine }, done) => {
  if (typeof engine?.open !== "function" || typeof engine.settings !== "object" || typeof engine.now !== "function") {
    // Through done(), so register()/ready() reject with it instead of an uncaught exception.
    done(
      new ImproperlyConfigured(
        "The sessions plugin needs { engine }: a SessionEngine, made by createSessionEngine() or defineEngine().",
      ),
    );
    return;
  }
  const { settings, now } = engine;
  const cookieName = settings.SESSION_COOKIE_NAME;

  /**
   * Whether the cookie's value can name a session. A server-side store is given only a key it can
   * hold (sessionKeyProblem); signed_cookies' value is the signed data, which its session
   * verifies, so there only Django's minimum length applies.
   */
  const usable = (value: string): boolean =>
    engine.clientSide ? value.length >= MIN_SESSION_KEY_LENGTH : sessionKeyProblem(value) === null;

  /**
   * The key the engine is given: a value no store can hold is no session, decided here, before
   * any engine, store or lock sees it (an 8 KB value would otherwise reach the file engine's
   * lock file name). The browser's cookie still counts as sent, so Django's rule A deletes it.
   */
  function keyOf(value: string | undefined, request: FastifyRequest): string | undefined {
    if (value === undefined || engine.clientSide) return value;
    const problem = sessionKeyProblem(value);
    if (problem === null) return value;
    request.log.warn({ cookie: cookieName, problem }, "session cookie is not a usable session key; no session");
    return undefined;
  }

  /** Django's SessionStore(request.COOKIES.get(name)): nothing is read until the data is. */
  function open(request: FastifyRequest): Session {
    const value = readCookie(request.headers.cookie, cookieName);
    (request as SessionRequest)[kHadCookie] = value !== undefined;
    const session = engine.open<AppSessionData>(keyOf(value, request), request.log);
    session.deferStoreChanges();
    return session;
  }

  fastify.decorateRequest(kSession, null);
  fastify.decorateRequest(kExchange, undefined);
  fastify.decorateRequest(kHadCookie, false);
  fastify.decorateRequest(kRelease, null);
  fastify.decorateReply(kDone, false);
  // Opened at the first use, so a request that never mentions the session costs nothing.
  fastify.decorateRequest("session", {
    getter(this: FastifyRequest): Session {
      return ((this as SessionRequest)[kSession] ??= open(this));
    },
  });

  /**
   * Before the route's preHandlers, where the route needs it: wait for this session's turn on a
   * route that locks, then fetch the record ahead of the handler where the engine cannot read
   * it synchronously. No key means no I/O at all.
   */
  function beforeHandler(lock: LockOptions | null, url: string) {
    return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
      const session = request.session;
      const key = session.sessionKey;
      if (key === null) return done();
      const locked = lock !== null && engine.locks !== null ? engine.locks.acquire(key, lock) : null;
      const fetch = () => (engine.loadsSynchronously ? Promise.resolve() : session.prefetch());
      if (locked === null) {
        fetch().then(() => done(), done);
        return;
      }
      locked
        .then((release) => {
          if (release === null) {
            request.log.warn({ waitedMs: lock!.waitMs, route: url }, "session lock not acquired in time");
            throw new SessionLockTimeout(lock!.waitMs / 1000);
          }
          (request as SessionRequest)[kRelease] = release;
          return fetch();
        })
        .then(() => done(), done);
    };
  }

  // Each route's lock options are checked once, as the route is added; routes that need it get
  // the hook above (first in their preValidation list: after the body is parsed and checked,
  // before any preHandler reads the session) and, when they lock, a last release on response.
  fastify.addHook("onRoute", (route) => {
    const config = route.config?.session;
    const lock = routeLock(config, route.url);
    if (config === false || (lock === null && engine.loadsSynchronously)) return;
    const own = route.preValidation === undefined ? [] : [route.preValidation].flat();
    route.preValidation = [beforeHandler(lock, route.url), ...own];
    if (lock !== null) {
      // In case the response ended without passing onSend (a hijacked reply); the lease would end
      // it otherwise.
      const onResponse = route.onResponse === undefined ? [] : [route.onResponse].flat();
      route.onResponse = [...onResponse, (request, _reply, next) => void releaseLock(request).then(() => next(), next)];
    }
  });

  // Beyond Django: expired records cleared in the background, one run at a time.
  if (settings.SESSION_CLEANUP_INTERVAL > 0) {
    let timer: NodeJS.Timeout | undefined;
    let running = false;
    const cleanup = async () => {
      if (running) return;
      running = true;
      try {
        const removed = await engine.clearExpired({ batchSize: 1000 });
        if (removed) fastify.log.info({ removed }, "expired sessions cleared");
      } catch (error) {
        if (error instanceof ClearExpiredNotSupported) {
          fastify.log.warn(
            `SESSION_CLEANUP_INTERVAL: the ${engine.name} engine cannot clear expired sessions; cleanup stopped`,
          );
          clearInterval(timer);
        } else {
          fastify.log.warn({ err: error }, "clearing expired sessions failed; will retry");
        }
      } finally {
        running = false;
      }
    };
    fastify.addHook("onReady", (next) => {
      timer = setInterval(() => void cleanup(), settings.SESSION_CLEANUP_INTERVAL * 1000);
      timer.unref();
      next();
    });
    fastify.addHook("onClose", (_instance, next) => {
      clearInterval(timer);
      next();
    });
  }

  fastify.addHook("onSend", (request, reply, payload, next) => {
    const r = request as SessionRequest;
    // Once per response: an error raised here re-enters onSend with the error page.
    if ((reply as SessionReply)[kDone] === true) return next(null, payload);
    (reply as SessionReply)[kDone] = true;
    // `?? null`: a plugin context made before this plugin was registered (static files, say)
    // has none of its request decorators, yet its responses pass this hook too.
    let session = r[kSession] ?? null;
    if (session === null) {
      // Never used: only a cookie that is no key (Django's rule A) or saving every request
      // still needs the session.
      const value = readCookie(request.headers.cookie, cookieName);
      if (value === undefined || (usable(value) && !settings.SESSION_SAVE_EVERY_REQUEST)) {
        r[kExchange] = UNTOUCHED;
        return next(null, payload);
      }
      session = r[kSession] = open(request);
    }
    const held = (r[kRelease] ?? null) !== null;
    let work: Promise<void> | undefined;
    try {
      work = respond(settings, now, request, reply, session);
      /* c8 ignore next 3 -- untested: respond() throws before its first await only on a bug; this turns one into the error path below instead of an exception inside onSend */
    } catch (error) {
      work = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // Most responses need no I/O: no promise then.
    if (work === undefined && !held) return next(null, payload);
    (work ?? Promise.resolve())
      // The save is done: the next request of this session may go.
      .finally(() => (held ? releaseLock(request) : undefined))
      .then(
        () => next(null, payload),
        (error: Error) => next(error),
      );
  });

  done();
};

export default fp(sessionPlugin, { fastify: "5.x", name: "django-sessions" });
