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
import { ClearExpiredNotSupported, MAX_COOKIE_BYTES, SessionCookieTooLarge, SessionInterrupted, UpdateError } from "./errors.js";
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

const kHadCookie = Symbol("session.hadCookie");
const kDone = Symbol("session.responded");

interface SessionRequest extends FastifyRequest {
  [kHadCookie]: boolean;
}

interface SessionReply extends FastifyReply {
  [kDone]: boolean;
}

function addVaryCookie(reply: FastifyReply): void {
  const current = reply.getHeader("vary");
  reply.header("vary", vary.append(Array.isArray(current) ? current.join(", ") : String(current ?? ""), "Cookie"));
}

/** Django answers a failed save with a new response: nothing the handler set survives. */
function discardHeaders(reply: FastifyReply): void {
  for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
}

/** The response rules of Django's SessionMiddleware (reference section 3.2), in order. */
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

  // A: the browser holds a cookie but there is no session any more.
  if ((request as SessionRequest)[kHadCookie] && empty) {
    reply.header("set-cookie", deleteSessionCookie(settings));
    addVaryCookie(reply);
    return;
  }
  // C: save (never on a server error) and send the cookie with the possibly new key.
  if ((modified || settings.SESSION_SAVE_EVERY_REQUEST) && !empty) {
    await session.load();
    const maxAge = session.getExpireAtBrowserClose() ? undefined : session.getExpiryAge();
    if (reply.statusCode < 500) {
      try {
        await session.save();
      } catch (error) {
        discardHeaders(reply);
        throw error instanceof UpdateError ? new SessionInterrupted() : error;
      }
      const cookie = sessionCookie(settings, session.sessionKey!, maxAge, now());
      const size = Buffer.byteLength(cookie);
      if (size > MAX_COOKIE_BYTES) {
        request.log.error({ size, limit: MAX_COOKIE_BYTES }, "session cookie too large; not sent");
        discardHeaders(reply);
        throw new SessionCookieTooLarge(size);
      }
      reply.header("set-cookie", cookie);
    }
  }
  // B: the response depends on the cookie whenever the handler looked at the session.
  if (accessed) addVaryCookie(reply);
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

  fastify.decorateRequest("session", null as unknown as Session);
  fastify.decorateRequest(kHadCookie, false);
  fastify.decorateReply(kDone, false);

  fastify.addHook("onRequest", (request, _reply, next) => {
    const value = readCookie(request.headers.cookie, cookieName);
    (request as SessionRequest)[kHadCookie] = value !== undefined;
    request.session = engine.open<AppSessionData>(value, request.log);
    next();
  });

  // Fetch before the handler so the synchronous API can read; no key means no I/O at all.
  fastify.addHook("preHandler", (request, _reply, next) => {
    if (request.session.sessionKey === null || request.routeOptions.config.session === false) {
      next();
      return;
    }
    request.session.prefetch().then(() => next(), next);
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
    await respond(settings, now, request, reply);
    return payload;
  });

  done();
};

export default fp(sessionPlugin, { fastify: "5.x", name: "django-sessions" });
