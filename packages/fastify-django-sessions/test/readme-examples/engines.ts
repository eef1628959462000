import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import {
  createSessionEngine,
  MemoryCache,
  RedisCache,
  type SessionEngine,
  type SessionsDatabase,
} from "fastify-django-sessions";

const SECRET_KEY = process.env.SECRET_KEY!;

// db on PostgreSQL: a kysely instance; instants are written as Date (SQLite's default is text).
export async function postgresEngine(): Promise<SessionEngine> {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  // A PostgreSQL restart must not end the process: every pooled client needs an error listener
  // (a checked-out client has none, node-postgres #1324); the pool reconnects once it is back.
  const lost = (error: Error) => console.warn(`PostgreSQL connection lost: ${error.message}`);
  pool.on("connect", (client) => client.on("error", lost));
  pool.on("error", lost);
  const db = new Kysely<SessionsDatabase>({ dialect: new PostgresDialect({ pool }) });
  return createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "db" }, { db, dateValue: (ms) => new Date(ms) });
}

// cache on Redis: the caches by alias, as Django's CACHES; SESSION_CACHE_ALIAS picks one.
export async function redisEngine(): Promise<SessionEngine> {
  const redis = new RedisCache({ url: "redis://127.0.0.1:6379", keyPrefix: "myapp" });
  return createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "cache" }, { caches: { default: redis } });
}

// cached_db: both (here SQLite's kysely instance and an in-process cache).
export async function cachedDbEngine(db: Kysely<SessionsDatabase>): Promise<SessionEngine> {
  const caches = { default: new MemoryCache({ maxEntries: 10_000 }) };
  return createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "cached_db" }, { db, caches });
}

// file and signed_cookies need nothing from the app.
export async function fileEngine(): Promise<SessionEngine> {
  return createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "file", SESSION_FILE_PATH: "/var/lib/myapp/sessions" }, {});
}

export async function cookieEngine(): Promise<SessionEngine> {
  return createSessionEngine({ SECRET_KEY, SESSION_ENGINE: "signed_cookies", SESSION_COOKIE_SECURE: true }, {});
}
