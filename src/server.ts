/** `npm start`: read the configuration, open what the app runs on, serve it. */
import dotenv from "dotenv";
import { buildApp } from "./app.js";
import { loadConfig } from "./config.js";
import { DatabaseUnavailable } from "./db/database.js";
import { MigrationFailed } from "./db/migrations.js";
import { openRuntime, StartupError, type Runtime } from "./runtime.js";
import { trackConnections } from "./shutdown.js";
import { ImproperlyConfigured } from "./sessions/index.js";

dotenv.config({ quiet: true });

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

const EXPECTED = [ImproperlyConfigured, StartupError, DatabaseUnavailable, MigrationFailed];
/** How long in-flight requests get to finish after SIGTERM/SIGINT (orchestrators wait ~30 s). */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const runtime: Runtime = await openRuntime(config, { server: true });
  for (const name of runtime.applied) process.stdout.write(`applied migration ${name}\n`);
  const app = await buildApp(config, { db: runtime.database.db, engine: runtime.engine, runtime });
  app.addHook("onClose", () => runtime.close());
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

  // On SIGTERM or SIGINT: stop accepting connections, let in-flight requests finish, close the
  // database and the cache (onClose hooks), exit 0. A close that takes longer than
  // SHUTDOWN_TIMEOUT_MS (a request that never ends) exits 1. A repeated signal changes nothing:
  // under `npm start` (tsx) one Ctrl-C can arrive twice.
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

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
  }
}

main().catch((error: unknown) => {
  if (EXPECTED.some((type) => error instanceof type)) fail((error as Error).message);
  throw error;
});
