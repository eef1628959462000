/**
 * The Fastify plugin: Django's SessionMiddleware. It attaches `request.session`, fetches the
 * record before the handler when the request carries a key, and applies the response rules in
 * onSend. It registers hooks and one request decorator, nothing else.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import vary from "vary";
import { deleteSessionCookie, readCookie, sessionCookie } from "./cookies.js";
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
import { resolveSessionSettings, type SessionSettings, type SessionSettingsInput } from "./settings.js";

/**
 * Augment this to declare your session's shape once; `get`/`set` are then checked:
 *   declare module "./sessions/index.js" { interface SessionTypes { data: MySession } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
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

export interface SessionPluginOptions {
  settings: SessionSettingsInput;
  engine: SessionEngine;
  /** Current time in milliseconds for cookie expiry; a test clock can replace it. */
  now?: () => number;
}

/** Laravel's block() defaults: a lease of 10 s, and 10 s of waiting for it. */
export const DEFAULT_LOCK: LockOptions = { waitMs: 10_000, leaseMs: 10_000 };

const kHadCookie = Symbol("session.hadCookie");
const kDone = Symbol("session.responded");
const kRelease = Symbol("session.releaseLock");

interface SessionRequest extends FastifyRequest {
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
      throw new ImproperlyConfigured(`Route ${url}: config.session.lock.${name} must be a number of seconds above 0 and at most 3600.`);
    }
    return value * 1000;
  };
  return { waitMs: seconds("waitSeconds", DEFAULT_LOCK.waitMs), leaseMs: seconds("leaseSeconds", DEFAULT_LOCK.leaseMs) };
}

/**
 * The response rules of Django's SessionMiddleware (process_response), in order, and then
 * what this request did to the store becomes final: kept when the response succeeded, undone
 * when it failed (beyond Django: a failed response never destroys the session it arrived with).
 */
async function respond(
  settings: SessionSettings,
  now: () => number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const session = request.session;
  const accessed = session.accessed;
  const modified = session.modified;
  const empty = session.isEmpty();
  const failed = reply.statusCode >= 500;

  // A: the browser holds a cookie but there is no session any more. Not when this failed
  // response flushed it: the flush is undone, so the browser keeps its cookie.
  if ((request as SessionRequest)[kHadCookie] && empty) {
    if (!(failed && session.flushedInRequest)) reply.header("set-cookie", deleteSessionCookie(settings));
    addVaryCookie(reply);
    await (failed ? session.discardStoreChanges() : session.commitStoreChanges());
    return;
  }
  // C: save (never on a server error) and send the cookie with the possibly new key.
  if ((modified || settings.SESSION_SAVE_EVERY_REQUEST) && !empty && !failed) {
    await session.load();
    // As Django, the cookie's expiry is worked out before saving, which applies the loaded
    // record: a key the store does not know is dropped here, so the save creates a new session.
    session.getExpireAtBrowserClose();
    try {
      await session.save();
    } catch (error) {
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
  }
  // B: the response depends on the cookie whenever the handler looked at the session.
  if (accessed) addVaryCookie(reply);
  await (failed ? session.discardStoreChanges() : session.commitStoreChanges());
}

async function releaseLock(request: FastifyRequest): Promise<void> {
  const release = (request as SessionRequest)[kRelease];
  if (release === null) return;
  (request as SessionRequest)[kRelease] = null;
  try {
    await release();
  } catch (error) {
    // The lease ends by itself; the next request waits at most that long.
    request.log.warn({ err: error }, "could not release the session lock; it ends with its lease");
  }
}

const sessionPlugin: FastifyPluginCallback<SessionPluginOptions> = (fastify, options, done) => {
  let settings: SessionSettings;
  try {
    settings = resolveSessionSettings(options.settings);
  } catch (error) {
    // Through done(), so register()/ready() reject with it instead of an uncaught exception.
    done(error as Error);
    return;
  }
  const { engine, now = Date.now } = options;
  const cookieName = settings.SESSION_COOKIE_NAME;
  // Each route's lock options, checked once as the route is added.
  const lockOf = new WeakMap<object, LockOptions | null>();

  fastify.decorateRequest("session", null as unknown as Session);
  fastify.decorateRequest(kHadCookie, false);
  fastify.decorateRequest(kRelease, null);
  fastify.decorateReply(kDone, false);

  fastify.addHook("onRoute", (route) => {
    routeLock(route.config?.session, route.url);
  });

  fastify.addHook("onRequest", (request, _reply, next) => {
    const value = readCookie(request.headers.cookie, cookieName);
    (request as SessionRequest)[kHadCookie] = value !== undefined;
    request.session = engine.open<AppSessionData>(value, request.log);
    request.session.deferStoreChanges();
    next();
  });

  // Fetch before the handler so the synchronous API can read; no key means no I/O at all. On a
  // route that locks, wait for this session's turn first, so the data read is the last saved.
  fastify.addHook("preHandler", async (request) => {
    const config = request.routeOptions.config;
    const key = request.session.sessionKey;
    if (key === null || config.session === false) return;
    if (engine.locks !== null) {
      let lock = lockOf.get(config);
      if (lock === undefined) lockOf.set(config, (lock = routeLock(config.session, request.routeOptions.url ?? "")));
      if (lock !== null) {
        const release = await engine.locks.acquire(key, lock);
        if (release === null) {
          request.log.warn({ waitedMs: lock.waitMs, route: request.routeOptions.url }, "session lock not acquired in time");
          throw new SessionLockTimeout(lock.waitMs / 1000);
        }
        (request as SessionRequest)[kRelease] = release;
      }
    }
    await request.session.prefetch();
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
          fastify.log.warn(`SESSION_CLEANUP_INTERVAL: the ${engine.name} engine cannot clear expired sessions; cleanup stopped`);
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

  fastify.addHook("onSend", async (request, reply, payload) => {
    // Once per response: an error raised here re-enters onSend with the error page.
    if (!request.session || (reply as SessionReply)[kDone]) return payload;
    (reply as SessionReply)[kDone] = true;
    try {
      await respond(settings, now, request, reply);
    } finally {
      // The save is done: the next request of this session may go.
      await releaseLock(request);
    }
    return payload;
  });

  // In case the response ended without passing onSend (a hijacked reply); the lease would end
  // it otherwise. Callback style, so a request holding nothing is logged as completed at once.
  fastify.addHook("onResponse", (request, _reply, next) => {
    if ((request as SessionRequest)[kRelease] === null) return next();
    releaseLock(request).then(() => next(), next);
  });

  done();
};

export default fp(sessionPlugin, { fastify: "5.x", name: "django-sessions" });
