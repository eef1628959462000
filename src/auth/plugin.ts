/**
 * Authentication as a Fastify plugin, in the way of Django's AuthenticationMiddleware:
 * `request.getUser()` resolves the session's user lazily (once per request, verifying the
 * password hash), and login/logout/password changes go through the request so the list of a
 * user's sessions (UserSessions) follows every key change. Register it after the sessions plugin.
 */
import type { FastifyPluginCallback, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import {
  authenticatedUser,
  login,
  logout,
  sessionUserId,
  updateSessionAuthHash,
  type Secrets,
} from "./session-auth.js";
import type { User } from "./users.js";
import type { UserSessions } from "./user-sessions.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The logged-in user, or null (Django's request.user); checked once per request. */
    getUser(): Promise<User | null>;
    /** Django's login(): see src/auth/session-auth.ts. */
    login(user: User): Promise<void>;
    /** Django's logout(): the session is flushed. */
    logout(): Promise<void>;
    /**
     * After this request changed the user's password: keeps this session logged in under a new
     * key (update_session_auth_hash) and ends every other session of the user. Resolves to how
     * many were ended on the server (0 for signed cookies, which end at their next request).
     */
    passwordChanged(user: User): Promise<number>;
  }
}

export interface AuthPluginOptions {
  findUser: (id: number) => Promise<User | undefined>;
  secrets: Secrets;
  userSessions: UserSessions;
}

const kAuth = Symbol("auth.state");

interface AuthState {
  /** The key the request arrived with, when its session was logged in. */
  loggedInKey: string | null;
  user: Promise<User | null> | undefined;
  resolved: User | null;
  /** This request logged in (the session's row starts afresh). */
  loggedIn: boolean;
  synced: boolean;
}

type AuthRequest = FastifyRequest & { [kAuth]: AuthState };

const stateOf = (request: FastifyRequest): AuthState => (request as AuthRequest)[kAuth];

const authPlugin: FastifyPluginCallback<AuthPluginOptions> = (fastify, { findUser, secrets, userSessions }, done) => {
  fastify.decorateRequest(kAuth, null);

  /** Notes that the session, as it arrived, was logged in (so a key change must move its row). */
  function noteLoggedIn(request: FastifyRequest): void {
    const state = stateOf(request);
    if (state.loggedInKey === null && sessionUserId(request.session) !== undefined) {
      state.loggedInKey = request.session.sessionKey;
    }
  }

  fastify.decorateRequest("getUser", function (this: FastifyRequest) {
    const state = stateOf(this);
    state.user ??= (async () => {
      noteLoggedIn(this);
      state.resolved = await authenticatedUser(this.session, findUser);
      return state.resolved;
    })();
    return state.user;
  });

  fastify.decorateRequest("login", async function (this: FastifyRequest, user: User) {
    const state = stateOf(this);
    noteLoggedIn(this);
    await login(this.session, user, secrets);
    state.user = Promise.resolve(user);
    state.resolved = user;
    state.loggedIn = true;
  });

  fastify.decorateRequest("logout", async function (this: FastifyRequest) {
    const state = stateOf(this);
    noteLoggedIn(this);
    await logout(this.session);
    state.user = Promise.resolve(null);
    state.resolved = null;
  });

  fastify.decorateRequest("passwordChanged", async function (this: FastifyRequest, user: User) {
    const state = stateOf(this);
    noteLoggedIn(this);
    const before = this.session.sessionKey;
    await updateSessionAuthHash(this.session, user, secrets);
    state.user = Promise.resolve(user);
    state.resolved = user;
    return userSessions.endOthers(user, [before, this.session.sessionKey], "password");
  });

  fastify.addHook("onRequest", (request, _reply, next) => {
    (request as AuthRequest)[kAuth] = {
      loggedInKey: null,
      user: undefined,
      resolved: null,
      loggedIn: false,
      synced: false,
    };
    next();
  });

  // After the sessions plugin has saved: the key is final, so the user's session list follows it.
  fastify.addHook("onSend", async (request, reply, payload) => {
    const state = stateOf(request);
    if (!state || state.synced || reply.statusCode >= 400) return payload;
    state.synced = true;
    const key = request.session.sessionKey;
    const user = state.resolved;
    if (state.loggedInKey !== null && state.loggedInKey !== key) {
      if (user && key && !state.loggedIn) await userSessions.moved(state.loggedInKey, key);
      else await userSessions.forget(state.loggedInKey);
    }
    if (user && key) {
      const sighting = { userAgent: request.headers["user-agent"] ?? "", ip: request.ip };
      await userSessions.seen(key, user.id, sighting, { loggedIn: state.loggedIn });
    }
    return payload;
  });

  done();
};

export default fp(authPlugin, { fastify: "5.x", name: "auth", dependencies: ["django-sessions"] });
