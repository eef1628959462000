/** Builds the demo app: plugins, the session framework, pages and error pages. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import cookie from "@fastify/cookie";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import fastifyStatic from "@fastify/static";
import view from "@fastify/view";
import ejs from "ejs";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { AppConfig } from "./config.js";
import type { Database } from "./db/database.js";
import { clientErrorPage, registerErrorPages } from "./error-pages.js";
import { cartRoutes } from "./routes/cart.js";
import { counterRoutes } from "./routes/counter.js";
import { expiryRoutes } from "./routes/expiry.js";
import { healthRoutes } from "./routes/health.js";
import { homeRoutes } from "./routes/home.js";
import { sessionRoutes } from "./routes/session.js";
import "./session-data.js";
import { loggerOptions } from "./logging.js";
import type { Runtime } from "./runtime.js";
import { settingsRoutes } from "./routes/settings.js";
import { learnRoutes } from "./routes/learn.js";
import { authRoutes } from "./routes/auth.js";
import { adminRoutes } from "./routes/admin.js";
import { StoredSessions } from "./admin/stored-sessions.js";
import { Users } from "./auth/users.js";
import { UserSessions } from "./auth/user-sessions.js";
import { EndedSessions } from "./auth/ended-sessions.js";
import { tellEndedSessions } from "./routes/signed-out.js";
import auth from "./auth/plugin.js";
import { sessions, toSqliteDatetime, type SessionCache, type SessionEngine } from "fastify-django-sessions";
import teach from "./teach/plugin.js";
import { recordReader } from "./teach/stored-record.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

declare module "fastify" {
  interface FastifyInstance {
    config: AppConfig;
  }
}

export interface AppDependencies {
  db: Kysely<Database>;
  engine: SessionEngine;
  /** What the app runs on, for the settings page and /healthz. */
  runtime?: Pick<Runtime, "database" | "caches">;
  logger?: FastifyServerOptions["logger"];
  /** The caches when there is no runtime (tests): the teaching panel reads the session's entry. */
  caches?: Readonly<Record<string, SessionCache>>;
}

export async function buildApp(config: AppConfig, deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(config),
    // Forms here are a few fields; anything bigger is refused with a 413 page.
    bodyLimit: 64 * 1024,
    // X-Forwarded-Proto/-For are believed only when a proxy we control sets them.
    trustProxy: config.trustProxy,
    clientErrorHandler: clientErrorPage,
  });
  app.decorate("config", config);
  const engine = deps.engine;
  // The session settings as the engine holds them: the one copy the plugin and the store follow.
  const sessionSettings = engine.settings;

  await app.register(helmet, {
    contentSecurityPolicy: {
      // Upgrading to https would break the stylesheet on a plain-HTTP demo.
      directives: { upgradeInsecureRequests: sessionSettings.SESSION_COOKIE_SECURE ? [] : null },
    },
  });
  await app.register(rateLimit, { global: false });
  await app.register(cookie);
  await app.register(formbody);
  await app.register(csrf, {
    cookieKey: "csrftoken",
    cookieOpts: { path: "/", sameSite: "lax", httpOnly: true, secure: sessionSettings.SESSION_COOKIE_SECURE },
  });
  await app.register(view, {
    engine: { ejs },
    root: path.join(ROOT, "views"),
    layout: "layout.ejs",
    defaultContext: { title: "Sessions" },
    // Compiled once, not on every render (5x a page's CPU); `npm run dev` restarts on a template edit.
    production: true,
    // The same for the partials a page includes: ejs compiles an include() on every call unless
    // its own cache is on (they were most of a page's CPU: reading, checking and compiling files).
    // Includes name their file from views/ (`include('/partials/teach')`): a relative one is also
    // looked up on disk at every call.
    options: { cache: true, root: path.join(ROOT, "views") },
  });
  await app.register(async (assets) => {
    // Static files never need the session: no store read even when a cookie is sent.
    assets.addHook("onRoute", (route) => {
      route.config = { ...route.config, session: false };
    });
    await assets.register(fastifyStatic, { root: path.join(ROOT, "public"), prefix: "/static/" });
    // Browsers ask for /favicon.ico whatever the page links to: the same small SVG.
    assets.get("/favicon.ico", (_request, reply) => reply.type("image/svg+xml").sendFile("favicon.svg"));
  });
  await app.register(sessions, { engine });
  const dateValue = deps.runtime?.database.dateValue ?? toSqliteDatetime;
  const users = new Users(deps.db, dateValue);
  const endedSessions = new EndedSessions({
    db: deps.db,
    dateValue,
    lifetimeSeconds: sessionSettings.SESSION_COOKIE_AGE,
  });
  const userSessions = new UserSessions({
    db: deps.db,
    engine,
    secrets: sessionSettings,
    dateValue,
    ended: endedSessions,
  });
  await app.register(auth, { findUser: (id) => users.byId(id), secrets: sessionSettings, userSessions });
  // After the session plugin, so its onSend sees the response's session headers as sent.
  await app.register(teach, {
    config,
    clientSide: engine.clientSide,
    views: path.join(ROOT, "views"),
    readRecord: recordReader({
      engine,
      settings: sessionSettings,
      cache: { backend: config.cache.backend, keyPrefix: config.cache.keyPrefix },
    }),
  });

  // Every state-changing request needs the form's CSRF token (checked after the body is parsed).
  app.addHook("preValidation", (request, reply, done) => {
    if (SAFE_METHODS.has(request.method)) done();
    else app.csrfProtection(request, reply, done);
  });

  // Only server-side engines can end a session from elsewhere.
  if (!engine.clientSide) tellEndedSessions(app, endedSessions);

  registerErrorPages(app);
  await app.register(homeRoutes);
  await app.register(sessionRoutes, { clientSide: engine.clientSide });
  await app.register(counterRoutes, { clientSide: engine.clientSide });
  await app.register(cartRoutes, { clientSide: engine.clientSide });
  await app.register(expiryRoutes);
  await app.register(healthRoutes, { db: deps.db, caches: deps.runtime?.caches });
  await app.register(settingsRoutes, { engine, runtime: deps.runtime });
  await app.register(learnRoutes);
  await app.register(authRoutes, {
    users,
    userSessions,
    attemptsPerMinute: config.loginAttemptsPerMinute,
    passwordHasher: config.passwordHasher,
  });
  await app.register(adminRoutes, { storedSessions: new StoredSessions(engine, users, userSessions, endedSessions) });
  app.addHook("onClose", () => engine.close());
  return app;
}
