/**
 * What the app runs on, opened once at start: the database (migrated or checked), the cache when
 * the engine needs one, and the session engine. Every failure is one clear line.
 */
import type { AppConfig } from "./config.js";
import { checkDatabase, openDatabase, type OpenedDatabase } from "./db/database.js";
import { hasTable, migrateToLatest } from "./db/migrations.js";
import {
  createSessionEngine,
  engineNeeds,
  MemoryCache,
  RedisCache,
  type SessionCache,
  type SessionEngine,
} from "fastify-django-sessions";

export class StartupError extends Error {
  override name = "StartupError";
}

export interface Runtime {
  database: OpenedDatabase;
  caches: Record<string, SessionCache>;
  engine: SessionEngine;
  /** Migrations applied at start. */
  applied: string[];
  close(): Promise<void>;
}

export function openCache(config: AppConfig, now?: () => number): SessionCache {
  const { backend, redisUrl, maxEntries, keyPrefix } = config.cache;
  return backend === "redis"
    ? new RedisCache({ url: redisUrl, keyPrefix })
    : new MemoryCache({ maxEntries, keyPrefix, now });
}

/**
 * `server`: a long-running server (SQLite then checkpoints its WAL in a worker thread, off the
 * event loop); commands leave it out.
 */
export async function openRuntime(config: AppConfig, { server = false }: { server?: boolean } = {}): Promise<Runtime> {
  const needs = engineNeeds(config.session.SESSION_ENGINE);
  const database = openDatabase(config, { backgroundCheckpoints: server });
  const caches: Record<string, SessionCache> = {};
  const close = async () => {
    await Promise.all(Object.values(caches).map((cache) => cache.close()));
    await database.close();
  };
  try {
    await checkDatabase(database);
    let applied: string[] = [];
    const sessionTable = config.session.SESSION_DB_TABLE;
    if (config.migrateOnStart) {
      const { results = [] } = await migrateToLatest(database.db, { sessionTable });
      applied = results.map((r) => r.migrationName);
    } else if (needs.database && !(await hasTable(database.db, sessionTable))) {
      throw new StartupError(
        `the sessions table (SESSION_DB_TABLE=${sessionTable}) does not exist in ${database.location}. ` +
          "Run `npm run migrate` to create it.",
      );
    }
    if (needs.cache) {
      const cache = openCache(config);
      caches.default = cache;
      try {
        await cache.ping();
      } catch (error) {
        throw new StartupError((error as Error).message);
      }
    }
    const engine = await createSessionEngine(config.session, {
      db: database.db,
      dateValue: database.dateValue,
      ...(database.sqlite ? { sqlite: database.sqlite } : {}),
      caches,
    });
    return { database, caches, engine, applied, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}
