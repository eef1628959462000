/**
 * The `cache` engine: sessions live only in the cache (in-process or Redis), with the session's
 * expiry age as TTL. Fast, but a session is gone when the cache evicts it. A save swaps the
 * entry only if it is still what this session read; if another request changed it meanwhile,
 * this request's changes are applied to what is there and the swap is tried again.
 */
import type { SessionCache } from "../cache.js";
import { CacheUnavailable } from "../cache.js";
import { defineEngine, type EngineContext, type RawCacheEntry, type SessionEngine } from "../engine.js";
import { hasKeyAlphabet, isStorableKey } from "../keys.js";
import { countInKeyOrder, CursorCodec, listInKeyOrder, type KeyOrderStore } from "../listing.js";
import { CreateError } from "../errors.js";
import { isJsonObject } from "../json.js";
import {
  MISSING_RECORD,
  SessionBase,
  type LoadedRecord,
  type SessionContext,
  type SessionData,
  type SessionShape,
} from "../session-base.js";

export const CACHE_KEY_PREFIX = "django.contrib.sessions.cache";

/** A cache entry's data; anything but a JSON object reads as undefined (a miss). */
export function parseEntry(text: string): SessionData | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export class CacheSession<T extends SessionShape<T> = SessionData> extends SessionBase<T> {
  protected override maxCreateAttempts = 10_000;

  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    private readonly cache: SessionCache,
  ) {
    super(sessionKey, context);
  }

  private cacheKey(key: string): string {
    return CACHE_KEY_PREFIX + key;
  }

  /** Django's cache holds the raw dict: here its JSON. */
  protected override encodeJson(json: string): string {
    return json;
  }

  protected override decodeRecord(text: string): SessionData {
    return parseEntry(text) ?? {};
  }

  protected override get loadsSynchronously(): boolean {
    return this.cache.getSync !== undefined;
  }

  protected override loadRecordSync(): LoadedRecord | undefined {
    if (this.cache.getSync === undefined) return undefined;
    return this.loadedEntry(this.cache.getSync(this.cacheKey(this.sessionKey!)));
  }

  private loadedEntry(text: string | undefined): LoadedRecord {
    const data = text === undefined ? undefined : parseEntry(text);
    return data ? { data, stored: text } : MISSING_RECORD;
  }

  protected async loadRecord(): Promise<LoadedRecord> {
    let text: string | undefined;
    try {
      text = await this.cache.get(this.cacheKey(this.sessionKey!));
    } catch (error) {
      // Beyond Django, which treats any error as a miss (and so logs the visitor out):
      // an unreachable cache is a 503, and the session is still there when it returns.
      if (error instanceof CacheUnavailable) throw error;
      text = undefined;
    }
    return this.loadedEntry(text);
  }

  async exists(key: string): Promise<boolean> {
    return this.cache.has(this.cacheKey(key));
  }

  override async recordExpiryDate(): Promise<Date | null> {
    if (this.sessionKey === null) return null;
    const at = await this.cache.expiresAt(this.cacheKey(this.sessionKey));
    return at === undefined ? null : new Date(at);
  }

  async save(mustCreate = false): Promise<void> {
    const key = await this.keyToSave(mustCreate);
    if (key === null) return;
    const cacheKey = this.cacheKey(key);
    if (mustCreate) {
      const write = this.newRecord();
      if (!(await this.cache.add(cacheKey, write.text, write.ageSeconds))) throw new CreateError(key);
      this.recordWritten(write);
      return;
    }
    const own = this.ownRecord();
    await this.beforeWrite(key);
    // First try: the entry is still what this session read (one round trip in the usual case).
    let current = this.storedText ?? (await this.cache.get(cacheKey));
    for (;;) {
      const write = this.updatedRecord(current, own);
      const result = await this.cache.swap(cacheKey, current!, write.text, write.ageSeconds);
      if (result.swapped) {
        this.recordWritten(write);
        return;
      }
      current = result.found;
    }
  }

  async deleteRecord(key: string | null = this.sessionKey): Promise<void> {
    if (key === null) return;
    await this.cache.delete(this.cacheKey(key));
  }
}

/**
 * The cache's sessions as a key-order store. A cache cannot sort (Redis SCAN walks its hash
 * table in no useful order), so each page walks the engine's keys under its prefix (SCAN in
 * batches, never KEYS) and reads only the page's entries. An entry the cache shows is unexpired.
 */
function cachedSessions(cache: SessionCache, keyPrefix: string): KeyOrderStore {
  return {
    async *keys() {
      for await (const cacheKey of cache.keys(CACHE_KEY_PREFIX + keyPrefix))
        yield cacheKey.slice(CACHE_KEY_PREFIX.length);
    },
    async read(key) {
      const cacheKey = CACHE_KEY_PREFIX + key;
      const [text, expiresAt] = await Promise.all([cache.get(cacheKey), cache.expiresAt(cacheKey)]);
      // Gone between the walk and the read (expired or evicted).
      if (text === undefined) return null;
      const data = parseEntry(text) ?? null;
      return {
        key,
        data,
        expiresAt: expiresAt === undefined ? null : new Date(expiresAt),
        size: Buffer.byteLength(text),
      };
    },
  };
}

/** The entry under `cacheKey` exactly as the cache keeps it, for SessionEngine.readRecord. */
export async function readCacheEntry(cache: SessionCache, cacheKey: string): Promise<RawCacheEntry> {
  const [text, expiresAt] = await Promise.all([cache.get(cacheKey), cache.expiresAt(cacheKey)]);
  return {
    key: cacheKey,
    where: cache.description,
    text: text ?? null,
    expiresAt: text === undefined ? null : (expiresAt ?? null),
  };
}

/** The cache expires entries itself, so there is nothing to clear. */
export function cacheEngine(context: EngineContext, cache: SessionCache): SessionEngine {
  const cursors = new CursorCodec(context.settings.SECRET_KEY);
  const valid = (keyPrefix = "") => keyPrefix === "" || hasKeyAlphabet(keyPrefix);
  return defineEngine("cache", context, (key, ctx) => new CacheSession(key, ctx, cache), {
    loadsSynchronously: cache.getSync !== undefined,
    async *listSessions(options = {}) {
      if (valid(options.keyPrefix))
        yield* listInKeyOrder(cachedSessions(cache, options.keyPrefix ?? ""), cursors, options);
    },
    countSessions: async (options = {}) =>
      valid(options.keyPrefix) ? countInKeyOrder(cachedSessions(cache, options.keyPrefix ?? ""), cursors, options) : 0,
    listOrder: "key",
    mergesSaves: true,
    lockStore: cache.locks ?? null,
    readRecord: async (key) =>
      isStorableKey(key)
        ? { kind: "cache", entry: await readCacheEntry(cache, CACHE_KEY_PREFIX + key) }
        : { kind: "unusable-key" },
  });
}
