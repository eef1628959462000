/**
 * This project's session framework: the `sessions` plugin with an engine from
 * `createSessionEngine`, on the engine BENCH_VARIANT names:
 *   db-sqlite       db on SQLite (better-sqlite3, WAL, synchronous=NORMAL), migrated at start;
 *                   the file is BENCH_SQLITE_PATH when set (the scale runs fill it first)
 *   db-postgres     db on PostgreSQL (DATABASE_URL, search_path = BENCH_PG_SCHEMA)
 *   cache-redis     cache on Redis (REDIS_URL, keys under BENCH_REDIS_PREFIX)
 *   cache-memory    cache on the in-process MemoryCache
 *   cached_db       cached_db: SQLite as above with Redis in front
 *   signed_cookies  signed_cookies: the cookie is the session
 * Django's defaults otherwise (SESSION_SAVE_EVERY_REQUEST off, cookies not Secure on plain HTTP).
 */
import { join } from "node:path";
import Fastify from "fastify";
import { openPostgres, openSqlite, type OpenedDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrations.js";
import {
  MemoryCache,
  RedisCache,
  createSessionEngine,
  sessions,
  withSessionTable,
  type SessionCache,
} from "fastify-django-sessions";
import { CACHE_KEY_PREFIX } from "fastify-django-sessions";
import {
  countIoredis,
  countPostgres,
  countSqlite,
  count,
  cookieValue,
  env,
  BENCH_SECRET,
  PATHS,
  serve,
  type VisitsBody,
} from "./link.js";

const variant = env("BENCH_VARIANT");
const ENGINES: Record<string, string> = {
  "db-sqlite": "db",
  "db-postgres": "db",
  "cache-redis": "cache",
  "cache-memory": "cache",
  cached_db: "cached_db",
  signed_cookies: "signed_cookies",
};
const engineName = ENGINES[variant];
if (!engineName) throw new Error(`ours.ts: unknown BENCH_VARIANT ${variant}`);

await countSqlite();
await countPostgres();
await countIoredis();

let database: OpenedDatabase | undefined;
if (variant === "db-postgres") {
  database = openPostgres(env("DATABASE_URL"), `-c search_path=${env("BENCH_PG_SCHEMA")}`);
} else if (variant === "db-sqlite" || variant === "cached_db") {
  // WAL, synchronous=NORMAL and checkpoints in a worker thread, as `npm start` opens it.
  database = openSqlite(process.env.BENCH_SQLITE_PATH || join(env("BENCH_DIR"), `ours-${variant}.sqlite3`), {
    backgroundCheckpoints: true,
  });
}
if (database) await migrateToLatest(database.db);

/** The in-process cache counted at its interface (every call is one store operation). */
function countedMemoryCache(cache: SessionCache): SessionCache {
  const read =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A) => (count("memory", "read"), f(...a));
  const write =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A) => (count("memory", "write"), f(...a));
  return {
    description: cache.description,
    get: read(cache.get.bind(cache)),
    // Without it the engine would take the asynchronous path the in-process cache does not need.
    ...(cache.getSync && { getSync: read(cache.getSync.bind(cache)) }),
    has: read(cache.has.bind(cache)),
    expiresAt: read(cache.expiresAt.bind(cache)),
    keys: cache.keys.bind(cache),
    set: write(cache.set.bind(cache)),
    add: write(cache.add.bind(cache)),
    swap: write(cache.swap.bind(cache)),
    delete: write(cache.delete.bind(cache)),
    ping: cache.ping.bind(cache),
    close: cache.close.bind(cache),
  };
}

let cache: SessionCache | undefined;
if (variant === "cache-redis" || variant === "cached_db") {
  cache = new RedisCache({ url: env("REDIS_URL"), keyPrefix: env("BENCH_REDIS_PREFIX") });
  await cache.ping();
} else if (variant === "cache-memory") {
  // Room for every session the run creates: with the default 10 000 entries, scenario B would
  // evict the sessions of the other scenarios (a bench artefact, not a finding).
  cache = countedMemoryCache(new MemoryCache({ maxEntries: 5_000_000 }));
}

const engine = await createSessionEngine(
  { SECRET_KEY: BENCH_SECRET, SESSION_ENGINE: engineName },
  {
    ...(database
      ? { db: database.db, dateValue: database.dateValue, ...(database.sqlite ? { sqlite: database.sqlite } : {}) }
      : {}),
    ...(cache ? { caches: { default: cache } } : {}),
  },
);

const app = Fastify();
await app.register(sessions, { engine });

// A: returning visitor, read-modify-write.
app.get(PATHS.A, (request): VisitsBody => {
  const visits = request.session.get("visits", 0) + 1;
  request.session.set("visits", visits);
  return { visits };
});
// B: new visitor; the same code, but no cookie arrives, so a session is created and saved.
app.get(PATHS.B, (request): VisitsBody => {
  const visits = request.session.get("visits", 0) + 1;
  request.session.set("visits", visits);
  return { visits };
});
// C: read-only.
app.get(PATHS.C, (request): VisitsBody => ({ visits: request.session.get("visits", 0) }));
// D: the session is never touched.
app.get(PATHS.D, (): VisitsBody => ({ visits: 1 }));
// E: A behind the per-session lock.
app.get(PATHS.E, { config: { session: { lock: true } } }, (request): VisitsBody => {
  const visits = request.session.get("visits", 0) + 1;
  request.session.set("visits", visits);
  return { visits };
});

await serve({
  app,
  async inspect({ cookies, count: wantCount }) {
    if (engine.clientSide) return {};
    const result: { visits?: number; missing?: number; sessions?: number } = {};
    if (cookies) {
      let visits = 0;
      let missing = 0;
      for (const header of cookies) {
        const session = engine.open(cookieValue(header, engine.settings.SESSION_COOKIE_NAME));
        await session.load();
        if (session.sessionKey === null) missing++;
        visits += Number(session.get("visits", 0));
      }
      Object.assign(result, { visits, missing });
    }
    if (wantCount) {
      if (database) {
        const row = await withSessionTable(database.db, engine.settings.SESSION_DB_TABLE)
          .selectFrom("sessions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow();
        result.sessions = Number(row.n);
      } else if (cache) {
        let n = 0;
        for await (const _ of cache.keys(CACHE_KEY_PREFIX)) n++;
        result.sessions = n;
      }
    }
    return result;
  },
  async close() {
    await engine.close();
    await cache?.close();
    await database?.db.destroy();
  },
});
