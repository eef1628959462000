import Fastify from "fastify";
import SQLite from "better-sqlite3";
import { Kysely, Migrator, SqliteDialect } from "kysely";
import { createSessionEngine, sessions, sessionSettingsFromEnv, type SessionsDatabase } from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";
import "./session-types.js";

const sqlite = new SQLite("app.sqlite3");
sqlite.pragma("journal_mode = WAL");
sqlite.pragma("synchronous = NORMAL");
const db = new Kysely<SessionsDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });

// The sessions table (and the route locks' table), as a kysely migration.
const migrator = new Migrator({
  db,
  provider: { getMigrations: async () => ({ "0001_sessions": sessionTablesMigration() }) },
});
const { error } = await migrator.migrateToLatest();
if (error) throw new Error("the sessions migration failed", { cause: error });

// SECRET_KEY and SESSION_* from the environment, Django's defaults for the rest;
// a bad value throws ImproperlyConfigured naming it. `sqlite`: the db engine then reads and
// writes through the better-sqlite3 handle directly (several times faster than through kysely).
const engine = await createSessionEngine(sessionSettingsFromEnv(process.env), { db, sqlite });

const app = Fastify({ logger: true });
await app.register(sessions, { engine });

app.get("/", async (request) => {
  const visits = request.session.get("visits", 0) + 1; // a number
  request.session.set("visits", visits); // a string here would not compile
  return { visits };
});

app.addHook("onClose", async () => {
  await engine.close();
  await db.destroy();
});
await app.listen({ host: "127.0.0.1", port: 3000 });
