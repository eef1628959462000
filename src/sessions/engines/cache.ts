/**
 * The `cache` engine: sessions live only in the cache (in-process or Redis), with the session's
 * expiry age as TTL. Fast, but a session is gone when the cache evicts it.
 */
import type { CacheValue, SessionCache } from "../cache.js";
import { CacheUnavailable } from "../cache.js";
import { defineEngine, type EngineContext, type SessionEngine } from "../engine.js";
import { dumps } from "../json.js";
import { hasKeyAlphabet } from "../keys.js";
import { countInKeyOrder, CursorCodec, listInKeyOrder, type KeyOrderStore } from "../listing.js";
import { CreateError, UpdateError } from "../errors.js";
import {
  MISSING_RECORD,
  SessionBase,
  type LoadedRecord,
  type SessionContext,
  type SessionData,
  type SessionShape,
} from "../session-base.js";

export const CACHE_KEY_PREFIX = "django.contrib.sessions.cache";

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

  protected async loadRecord(): Promise<LoadedRecord> {
    let data: SessionData | undefined;
    try {
      data = await this.cache.get(this.cacheKey(this.sessionKey!));
    } catch (error) {
      // Beyond Django, which treats any error as a miss (and so logs the visitor out):
      // an unreachable cache is a 503, and the session is still there when it returns.
      if (error instanceof CacheUnavailable) throw error;
      data = undefined;
    }
    return data ? { data } : MISSING_RECORD;
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
    if (this.sessionKey === null) return this.create();
    if (!mustCreate) await this.load();
    const key = this.cacheKey(this.sessionKey);
    const data: CacheValue = this.dataForSave(mustCreate);
    const ttl = this.getExpiryAge();
    if (mustCreate) {
      if (!(await this.cache.add(key, data, ttl))) throw new CreateError(this.sessionKey);
    } else if (!(await this.cache.replace(key, data, ttl))) {
      throw new UpdateError(this.sessionKey);
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
      for await (const cacheKey of cache.keys(CACHE_KEY_PREFIX + keyPrefix)) yield cacheKey.slice(CACHE_KEY_PREFIX.length);
    },
    async read(key) {
      const cacheKey = CACHE_KEY_PREFIX + key;
      const [data, expiresAt] = await Promise.all([cache.get(cacheKey), cache.expiresAt(cacheKey)]);
      // Gone between the walk and the read (expired or evicted).
      if (data === undefined) return null;
      return { key, data, expiresAt: expiresAt === undefined ? null : new Date(expiresAt), size: Buffer.byteLength(dumps(data)) };
    },
  };
}

/** The cache expires entries itself, so there is nothing to clear. */
export function cacheEngine(context: EngineContext, cache: SessionCache): SessionEngine {
  const cursors = new CursorCodec(context.settings.SECRET_KEY);
  const valid = (keyPrefix = "") => keyPrefix === "" || hasKeyAlphabet(keyPrefix);
  return defineEngine("cache", context, (key, ctx) => new CacheSession(key, ctx, cache), {
    async *listSessions(options = {}) {
      if (valid(options.keyPrefix)) yield* listInKeyOrder(cachedSessions(cache, options.keyPrefix ?? ""), cursors, options);
    },
    countSessions: async (options = {}) => (valid(options.keyPrefix) ? countInKeyOrder(cachedSessions(cache, options.keyPrefix ?? ""), cursors, options) : 0),
    listOrder: "key",
  });
}
