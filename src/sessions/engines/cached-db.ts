/**
 * The `cached_db` engine: write-through. Saves go to the database first, then the cache; reads
 * hit the cache and fall back to the database. A cache failure is logged and the database
 * still serves, so sessions survive a Redis outage.
 */
import { datetimeColumnMs, toSqliteDatetime } from "../dates.js";
import type { SessionCache } from "../cache.js";
import { defineEngine, type EngineContext, type SessionEngine } from "../engine.js";
import type { LoadedRecord, SessionContext, SessionData, SessionShape } from "../session-base.js";
import { MISSING_RECORD } from "../session-base.js";
import { CursorCodec } from "../listing.js";
import { clearExpiredRows, countRows, DbSession, listRows, sessionsOnly, type DbEngineOptions, type DbStore, type SessionsDatabase } from "./db.js";

export const CACHED_DB_KEY_PREFIX = "django.contrib.sessions.cached_db";

export class CachedDbSession<T extends SessionShape<T> = SessionData> extends DbSession<T> {
  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    store: DbStore,
    private readonly cache: SessionCache,
  ) {
    super(sessionKey, context, store);
  }

  private cacheKey(key: string): string {
    return CACHED_DB_KEY_PREFIX + key;
  }

  private cacheFailed(error: unknown): void {
    this.context.log.error(
      { logger: "django.contrib.sessions", err: error },
      `Error saving to cache (${this.cache.description})`,
    );
  }

  protected override async loadRecord(): Promise<LoadedRecord> {
    const key = this.cacheKey(this.sessionKey!);
    try {
      const cached = await this.cache.get(key);
      if (cached) return { data: cached };
    } catch (error) {
      this.context.log.error({ logger: "django.contrib.sessions", err: error }, "Error reading from cache; using the database");
    }
    const row = await this.fetchRow();
    if (!row) return MISSING_RECORD;
    const data = this.decode(row.session_data);
    const ttl = (datetimeColumnMs(row.expire_date) - this.context.now()) / 1000;
    try {
      await this.cache.set(key, data, ttl);
    } catch (error) {
      this.cacheFailed(error);
    }
    return { data };
  }

  override async exists(key: string): Promise<boolean> {
    try {
      if (await this.cache.has(this.cacheKey(key))) return true;
    } catch (error) {
      this.cacheFailed(error);
    }
    return super.exists(key);
  }

  override async save(mustCreate = false): Promise<void> {
    if (this.sessionKey === null) return this.create();
    await super.save(mustCreate);
    try {
      await this.cache.set(this.cacheKey(this.sessionKey), this.dataForSave(mustCreate), this.getExpiryAge());
    } catch (error) {
      this.cacheFailed(error);
    }
  }

  override async deleteRecord(key: string | null = this.sessionKey): Promise<void> {
    await super.deleteRecord(key);
    if (key === null) return;
    try {
      await this.cache.delete(this.cacheKey(key));
    } catch (error) {
      this.cacheFailed(error);
    }
  }
}

/** clearExpired removes database rows only: cache entries age out by their TTL. */
export function cachedDbEngine<DB extends SessionsDatabase>(
  context: EngineContext,
  { db, dateValue = toSqliteDatetime }: DbEngineOptions<DB>,
  cache: SessionCache,
): SessionEngine {
  const store: DbStore = { db: sessionsOnly(db), dateValue };
  const cursors = new CursorCodec(context.settings.SECRET_KEY);
  return defineEngine("cached_db", context, (key, ctx) => new CachedDbSession(key, ctx, store, cache), {
    clearExpired: (options) => clearExpiredRows(context, store, options),
    listSessions: (options) => listRows(context, store, cursors, options),
    countSessions: (options) => countRows(context, store, cursors, options),
    listOrder: "expiry",
  });
}
