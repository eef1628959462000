/**
 * The `cache` engine: sessions live only in the cache (in-process or Redis), with the session's
 * expiry age as TTL. Fast, but a session is gone when the cache evicts it.
 */
import type { CacheValue, SessionCache } from "../cache.js";
import { CacheUnavailable } from "../cache.js";
import { defineEngine, type EngineContext, type ListOptions, type SessionEngine, type StoredSession } from "../engine.js";
import { dumps } from "../json.js";
import { hasKeyAlphabet } from "../keys.js";
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

/** The sessions in the cache (its whole key space under the engine's prefix, walked once). */
async function* listCached(cache: SessionCache, { keyPrefix = "" }: ListOptions = {}): AsyncGenerator<StoredSession> {
  if (keyPrefix !== "" && !hasKeyAlphabet(keyPrefix)) return;
  for await (const cacheKey of cache.keys(CACHE_KEY_PREFIX + keyPrefix)) {
    const [data, expiresAt] = await Promise.all([cache.get(cacheKey), cache.expiresAt(cacheKey)]);
    // Gone between the walk and the read (expired or evicted).
    if (data === undefined) continue;
    yield {
      key: cacheKey.slice(CACHE_KEY_PREFIX.length),
      data,
      expiresAt: expiresAt === undefined ? null : new Date(expiresAt),
      size: Buffer.byteLength(dumps(data)),
    };
  }
}

/** The cache expires entries itself, so there is nothing to clear. */
export function cacheEngine(context: EngineContext, cache: SessionCache): SessionEngine {
  return defineEngine("cache", context, (key, ctx) => new CacheSession(key, ctx, cache), {
    listSessions: (options) => listCached(cache, options),
  });
}
