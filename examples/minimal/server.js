// The smallest app on fastify-django-sessions: sessions in a SQLite file (the db engine).
// Run: SECRET_KEY=<a long random string> node server.js; then /set?name=Ada, /, /flush.
import SQLite from "better-sqlite3";
import Fastify from "fastify";
import { Kysely, SqliteDialect } from "kysely";
import { createSessionEngine, sessions, sessionSettingsFromEnv } from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";

const sqlite = new SQLite(process.env.DATABASE_PATH ?? "sessions.sqlite3");
const db = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
await sessionTablesMigration().up(db); // the sessions tables, if absent
let engine;
try {
  // SECRET_KEY and the SESSION_* settings from the environment; Django's defaults for the rest.
  engine = await createSessionEngine(sessionSettingsFromEnv(process.env), { db, sqlite });
} catch (error) {
  console.error(error.message); // ImproperlyConfigured names each bad or missing setting
  process.exit(1);
}

const app = Fastify({ logger: true });
await app.register(sessions, { engine });
app.get("/set", async (request) => {
  request.session.set("name", request.query.name ?? "world");
  return "saved\n";
});
app.get("/", async (request) => `hello ${request.session.get("name", "stranger")}\n`);
app.get("/flush", async (request) => {
  await request.session.flush();
  return "flushed\n";
});
app.addHook("onClose", async () => {
  await engine.close();
  await db.destroy();
});
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 3000) });
