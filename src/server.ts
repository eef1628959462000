/**
 * `npm start`: read the configuration, open what the app runs on, serve it. `main()` does the
 * start-up and is exported so that tests can run it in-process; run as a program (`tsx
 * src/server.ts`), this file also loads `.env`, stops gracefully on SIGTERM/SIGINT and exits 1
 * after a start-up error.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import dotenv from "dotenv";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.js";
import { loadConfig } from "./config.js";
import { DatabaseUnavailable } from "./db/database.js";
import { MigrationFailed } from "./db/migrations.js";
import { openRuntime, StartupError, type Runtime } from "./runtime.js";
import { trackConnections } from "./shutdown.js";
import { ImproperlyConfigured } from "fastify-django-sessions";

/** The start-up errors that are the operator's to fix: one line each, never a stack trace. */
const EXPECTED = [ImproperlyConfigured, StartupError, DatabaseUnavailable, MigrationFailed];
/** How long in-flight requests get to finish after SIGTERM/SIGINT (orchestrators wait ~30 s). */
const SHUTDOWN_TIMEOUT_MS = 25_000;

export interface MainOptions {
  /** The settings (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Where the applied migrations are reported (default standard output). */
  stdout?: (text: string) => void;
  /** Where a start-up error's one line goes (default standard error). */
  stderr?: (text: string) => void;
}

/**
 * Starts the app: configuration, database and cache, migrations, then listen. Resolves with the
 * listening app, or with `undefined` after writing `error: <message>` for an expected start-up
 * error (a bad setting, a missing table, a store that cannot be reached, a port in use); anything
 * else is a bug and rejects. Nothing is left open after a failed start.
 */
export async function main({
  env = process.env,
  stdout = (text) => process.stdout.write(text),
  stderr = (text) => process.stderr.write(text),
}: MainOptions = {}): Promise<FastifyInstance | undefined> {
  let app: FastifyInstance;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
    const runtime: Runtime = await openRuntime(config, { server: true });
    for (const name of runtime.applied) stdout(`applied migration ${name}\n`);
    try {
      app = await buildApp(config, { db: runtime.database.db, engine: runtime.engine, runtime });
    } catch (error) {
      await runtime.close();
      throw error;
    }
    app.addHook("onClose", () => runtime.close());
    // A lost PostgreSQL connection is a warning in the app's own log from here on.
    runtime.database.logConnectionErrorsTo?.(app.log);
  } catch (error) {
    if (!EXPECTED.some((type) => error instanceof type)) throw error;
    stderr(`error: ${(error as Error).message}\n`);
    return undefined;
  }
  if (config.session.SESSION_COOKIE_SECURE && !config.trustProxy) {
    app.log.warn(
      "SESSION_COOKIE_SECURE is on but this server speaks plain HTTP (TRUST_PROXY is off): browsers " +
        "will not send the session cookie back over http://, so every visit looks new. Serve HTTPS " +
        "through a proxy and set TRUST_PROXY=true, or turn SESSION_COOKIE_SECURE off for local use.",
    );
  }
  if (config.usingDevelopmentSecret) {
    app.log.warn("SECRET_KEY is not set: using the insecure development key. Set SECRET_KEY in .env.");
  }
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    stderr(`error: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}\n`);
    await app.close();
    return undefined;
  }
  return app;
}

/**
 * On SIGTERM or SIGINT: stop accepting connections, let in-flight requests finish, close the
 * database and the cache (onClose hooks), exit 0. A close that takes longer than
 * SHUTDOWN_TIMEOUT_MS (a request that never ends) exits 1. A repeated signal changes nothing:
 * under `npm start` (tsx) one Ctrl-C can arrive twice.
 */
function stopOnSignals(app: FastifyInstance): void {
  const connections = trackConnections(app.server);
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down: no new connections, finishing in-flight requests");
    const deadline = setTimeout(() => {
      app.log.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, "shutdown did not finish in time; exiting");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    const closed = app.close();
    connections.closeIdle();
    try {
      await closed;
    } catch (error) {
      app.log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
    app.log.info("shutdown complete: requests finished, database and cache closed");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

/** Whether this module is the program (`tsx src/server.ts`), not imported by a test. */
function isProgram(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  dotenv.config({ quiet: true });
  const app = await main();
  if (app) stopOnSignals(app);
  else process.exit(1);
}
