/** `npm start`: read the configuration, prepare the database, serve the app. */
import dotenv from "dotenv";
import { buildApp } from "./app.js";
import { loadConfig, type AppConfig } from "./config.js";
import { openSqlite } from "./db/database.js";
import { hasSessionsTable, migrateToLatest } from "./db/migrations.js";
import { ImproperlyConfigured } from "./sessions/index.js";

dotenv.config({ quiet: true });

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

let config: AppConfig;
try {
  config = loadConfig();
} catch (error) {
  fail((error as Error).message);
}

const { db, location } = openSqlite(config.databasePath);
try {
  if (config.migrateOnStart) {
    const { results = [] } = await migrateToLatest(db);
    for (const r of results) process.stdout.write(`applied migration ${r.migrationName}\n`);
  } else if (!(await hasSessionsTable(db))) {
    fail(`the sessions table does not exist in ${location}. Run \`npm run migrate\` to create it.`);
  }
} catch (error) {
  fail((error as Error).message);
}

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp(config, { db });
} catch (error) {
  if (error instanceof ImproperlyConfigured) fail(error.message);
  throw error;
}
if (config.usingDevelopmentSecret) {
  app.log.warn("SECRET_KEY is not set: using the insecure development key. Set SECRET_KEY in .env.");
}

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, "shutting down");
  await app.close();
  await db.destroy();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
