/**
 * The `cached_db` engine: the database holds every session and the cache a copy in front of it.
 * Reads hit the cache and fall back to the database; a cache failure is logged and the
 * database keeps serving, so sessions survive a Redis outage.
 *
 * Beyond Django, the copy is never older than the database, even with concurrent requests:
 * - a save first marks the entry "being written" (a token of its own), then writes the database
 *   (merging, as the db engine does), then swaps its own mark for the new data; if anything
 *   else touched the entry meanwhile, it marks it stale instead, so readers go to the database;
 * - a delete leaves a tombstone, so a reader that fetched the row just before the delete cannot
 *   put the session back into the cache;
 * - a reader fills an empty entry only with an atomic add, never over a mark or a tombstone;
 * - when the cache cannot be reached during a save or delete, this process remembers the entry,
 *   reads that session from the database only, and marks the entry stale as soon as the cache
 *   answers again, so the copy from before the outage is never served by this process.
 * exists() asks the database alone (the cache may hold marks for keys that are gone). Marks and
 * tombstones live MARK_SECONDS. What this cannot cover is a second process that can
 * reach Redis while this one cannot (a partition): see docs/concurrency.md.
 */
import { randomBytes } from "node:crypto";
import { datetimeColumnMs, toSqliteDatetime } from "../dates.js";
import type { SessionCache } from "../cache.js";
import { defineEngine, type EngineContext, type SessionEngine } from "../engine.js";
import { dumps } from "../json.js";
import type { LoadedRecord, RecordWrite, SessionContext, SessionData, SessionShape } from "../session-base.js";
import { MISSING_RECORD } from "../session-base.js";
import { parseEntry, readCacheEntry } from "./cache.js";
import {
  DbSession,
  dbStore,
  sessionsOnly,
  tableEngineOptions,
  type DbEngineOptions,
  type DbStore,
  type SessionsDatabase,
} from "./db.js";

export const CACHED_DB_KEY_PREFIX = "django.contrib.sessions.cached_db";

/** Entries that are not session data start with "!" (session data is a JSON object). */
const WRITING = "!writing:";
const STALE = "!stale";
const DELETED = "!deleted";
/** How long a mark or tombstone lives: far longer than any save or read takes. */
export const MARK_SECONDS = 60;
const RETRY_MS = 500;

/**
 * Cache entries this process could not mark while the cache was unreachable. Their sessions are
 * read from the database until the entry is marked stale, which is retried in the background.
 */
export class UnmarkedEntries {
  readonly #keys = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly cache: SessionCache) {}

  has(cacheKey: string): boolean {
    return this.#keys.has(cacheKey);
  }

  add(cacheKey: string): void {
    this.#keys.add(cacheKey);
    this.#schedule();
  }

  delete(cacheKey: string): void {
    this.#keys.delete(cacheKey);
  }

  /** Marks every remembered entry stale; stops at the first failure (the cache is still away). */
  async retry(): Promise<void> {
    for (const cacheKey of [...this.#keys]) {
      try {
        await this.cache.set(cacheKey, STALE, MARK_SECONDS);
      } catch {
        break;
      }
      this.#keys.delete(cacheKey);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#keys.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.retry();
    }, RETRY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

export class CachedDbSession<T extends SessionShape<T> = SessionData> extends DbSession<T> {
  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    store: DbStore,
    private readonly cache: SessionCache,
    private readonly unmarked: UnmarkedEntries,
  ) {
    super(sessionKey, context, store);
  }

  private cacheKey(key: string): string {
    return CACHED_DB_KEY_PREFIX + key;
  }

  private cacheFailed(error: unknown, cacheKey?: string): void {
    this.context.log.error(
      { logger: "django.contrib.sessions", err: error },
      `Error saving to cache (${this.cache.description})`,
    );
    if (cacheKey !== undefined) this.unmarked.add(cacheKey);
  }

  /**
   * Reads go to the cache first, so never straight to the row: not even with the better-sqlite3
   * handle, whose synchronous read the db engine uses at first touch.
   */
  protected override get loadsSynchronously(): boolean {
    return false;
  }

  protected override loadRecordSync(): LoadedRecord | undefined {
    return undefined;
  }

  protected override async loadRecord(): Promise<LoadedRecord> {
    const cacheKey = this.cacheKey(this.sessionKey!);
    let fill = false;
    if (!this.unmarked.has(cacheKey)) {
      try {
        const text = await this.cache.get(cacheKey);
        if (text === DELETED) return MISSING_RECORD;
        const data = text === undefined ? undefined : parseEntry(text);
        if (data) return { data };
        // Empty: fill it from the database. A mark: a save is under way or failed; leave it.
        fill = text === undefined;
      } catch (error) {
        this.context.log.error(
          { logger: "django.contrib.sessions", err: error },
          "Error reading from cache; using the database",
        );
      }
    }
    const row = await this.fetchRow();
    if (!row) return MISSING_RECORD;
    const data = this.decode(row.session_data);
    if (fill) {
      const ttl = (datetimeColumnMs(row.expire_date) - this.context.now()) / 1000;
      try {
        await this.cache.add(cacheKey, dumps(data), ttl);
      } catch (error) {
        this.cacheFailed(error);
      }
    }
    return { data, stored: row.session_data };
  }

  override async save(mustCreate = false): Promise<void> {
    const key = await this.keyToSave(mustCreate);
    if (key === null) return;
    const cacheKey = this.cacheKey(key);
    if (mustCreate) {
      const write = await this.insertRecord();
      this.recordWritten(write);
      await this.putInCache(cacheKey, write);
      return;
    }
    const mark = WRITING + randomBytes(9).toString("base64url");
    let marked = false;
    if (!this.unmarked.has(cacheKey)) {
      try {
        await this.cache.set(cacheKey, mark, MARK_SECONDS);
        marked = true;
      } catch (error) {
        this.cacheFailed(error, cacheKey);
      }
    }
    const write = await this.updateRecord(key);
    this.recordWritten(write);
    if (!marked) return;
    try {
      const swapped = await this.cache.swap(cacheKey, mark, dumps(write.data), write.ageSeconds);
      // Someone else wrote or deleted meanwhile: readers must go to the database (a tombstone stays).
      if (!swapped.swapped && swapped.found !== DELETED) await this.cache.set(cacheKey, STALE, MARK_SECONDS);
    } catch (error) {
      this.cacheFailed(error, cacheKey);
    }
  }

  private async putInCache(cacheKey: string, write: RecordWrite): Promise<void> {
    try {
      await this.cache.set(cacheKey, dumps(write.data), write.ageSeconds);
    } catch (error) {
      this.cacheFailed(error, cacheKey);
    }
  }

  override async deleteRecord(key: string | null = this.sessionKey): Promise<void> {
    await super.deleteRecord(key);
    if (key === null) return;
    const cacheKey = this.cacheKey(key);
    try {
      await this.cache.set(cacheKey, DELETED, MARK_SECONDS);
    } catch (error) {
      this.cacheFailed(error, cacheKey);
    }
  }
}

/** clearExpired removes database rows only: cache entries age out by their TTL. */
export function cachedDbEngine<DB extends SessionsDatabase>(
  context: EngineContext,
  { db, dateValue = toSqliteDatetime, sqlite }: DbEngineOptions<DB>,
  cache: SessionCache,
): SessionEngine {
  const store = dbStore(sessionsOnly(db), dateValue, sqlite, context.settings.SESSION_DB_TABLE);
  const unmarked = new UnmarkedEntries(cache);
  const table = tableEngineOptions(context, store);
  return defineEngine("cached_db", context, (key, ctx) => new CachedDbSession(key, ctx, store, cache, unmarked), {
    // Purge, listing and the route locks' leases are the table's, as for db.
    ...table,
    // The row, and the copy in front of it.
    async readRecord(key) {
      const record = await table.readRecord(key);
      return record.kind === "row"
        ? { ...record, cacheCopy: await readCacheEntry(cache, CACHED_DB_KEY_PREFIX + key) }
        : record;
    },
    close: async () => unmarked.stop(),
  });
}
