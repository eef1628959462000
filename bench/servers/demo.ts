/**
 * The demo app's whole /counter/ page, built as src/server.ts builds it: loadConfig, openRuntime
 * (SQLite at DATABASE_PATH, migrated at start), buildApp with the runtime. What a real page
 * costs on top of the session: helmet's headers, the CSRF token, the user lookup, the EJS page.
 * Differences from `npm start`, each for a comparable figure:
 *   NODE_ENV=production   templates compiled once (as in production); JSON logs
 *   LOG_LEVEL=warn        no two log lines per request (no other server logs)
 */
import { withSessionTable } from "fastify-django-sessions";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { openRuntime } from "../../src/runtime.js";
import { cookieValue, countSqlite, serve } from "./link.js";

await countSqlite();
const config = loadConfig(process.env);
// As src/server.ts: WAL, synchronous=NORMAL, checkpoints in a worker thread.
const runtime = await openRuntime(config, { server: true });
const app = await buildApp(config, { db: runtime.database.db, engine: runtime.engine, runtime });
app.addHook("onClose", () => runtime.close());
const { engine } = runtime;
const cookieName = config.session.SESSION_COOKIE_NAME;

await serve({
  app,
  cookieName,
  async inspect({ cookies, count: wantCount }) {
    const result: { visits?: number; missing?: number; sessions?: number } = {};
    if (cookies) {
      let visits = 0;
      let missing = 0;
      for (const header of cookies) {
        const session = engine.open(cookieValue(header, cookieName));
        await session.load();
        if (session.sessionKey === null) missing++;
        visits += Number(session.get("visits", 0));
      }
      Object.assign(result, { visits, missing });
    }
    if (wantCount) {
      const row = await withSessionTable(runtime.database.db, engine.settings.SESSION_DB_TABLE)
        .selectFrom("sessions")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .executeTakeFirstOrThrow();
      result.sessions = Number(row.n);
    }
    return result;
  },
});
