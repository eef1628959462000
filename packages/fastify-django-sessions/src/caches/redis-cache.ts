/**
 * Redis as the session cache, for several app processes (ioredis). Entries are text with a
 * millisecond TTL; add is one atomic SET NX, swap one small Lua script (compare, then SET or
 * DEL), and the route lock a SET NX PX lease given back by a compare-and-delete script. While
 * Redis is unreachable every call fails at once with CacheUnavailable (no queueing), and the
 * client reconnects in the background, so the app recovers by itself when Redis returns.
 */
import type { Redis } from "ioredis";
import { CacheUnavailable, cacheKeyFunction, type SessionCache, type SwapResult } from "../cache.js";
import type { LockStore } from "../locks.js";
import { requirePeer } from "../optional-peers.js";
import { maskUrl } from "../urls.js";

// KEYS[1]: the entry; ARGV: expected text, new text, TTL in ms (0: delete). Returns 1 when it
// swapped, else {0, what is there} (false for no entry).
const SWAP = `
local found = redis.call("GET", KEYS[1])
if found ~= ARGV[1] then return {0, found} end
if ARGV[3] == "0" then redis.call("DEL", KEYS[1]) else redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) end
return 1`;

// KEYS[1]: the lock; ARGV[1]: the holder's token. Deletes only the holder's own lease.
const UNLOCK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

/** The route lock's key beside the sessions (`<prefix>:1:django.contrib.sessions.lock<key>`). */
const LOCK_KEY_PREFIX = "django.contrib.sessions.lock";

interface ScriptedRedis extends Redis {
  sessionSwap(key: string, expected: string, text: string, ttlMs: string): Promise<1 | [0, string | null]>;
  sessionUnlock(key: string, token: string): Promise<number>;
}

export interface RedisCacheOptions {
  url: string;
  keyPrefix?: string;
  /** How long to wait for Redis at start (ping) and per command, in ms. */
  timeoutMs?: number;
}

export class RedisCache implements SessionCache {
  readonly description: string;
  private readonly client: ScriptedRedis;
  readonly locks: LockStore;
  private readonly key: (key: string) => string;
  /** Why the connection failed ("Connection is closed." alone would not say). */
  private lastConnectionError: Error | undefined;

  constructor({ url, keyPrefix = "", timeoutMs = 2000 }: RedisCacheOptions) {
    this.description = `Redis at ${maskUrl(url)}`;
    this.key = cacheKeyFunction(keyPrefix);
    // ioredis is loaded here, not when the package is imported: apps without Redis need not install it.
    const { Redis: RedisClient } = requirePeer<{ Redis: typeof Redis }>("ioredis", "RedisCache");
    this.client = new RedisClient(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    }) as ScriptedRedis;
    // EVALSHA, falling back to EVAL once per script when Redis does not know it yet.
    this.client.defineCommand("sessionSwap", { numberOfKeys: 1, lua: SWAP });
    this.client.defineCommand("sessionUnlock", { numberOfKeys: 1, lua: UNLOCK });
    this.locks = {
      tryAcquire: async (name, token, leaseMs) => {
        const lockKey = this.key(LOCK_KEY_PREFIX + name);
        return (await this.run(() => this.client.set(lockKey, token, "PX", Math.max(1, leaseMs), "NX"))) === "OK";
      },
      release: async (name, token) => {
        await this.run(() => this.client.sessionUnlock(this.key(LOCK_KEY_PREFIX + name), token));
      },
    };
    // Connection errors surface through the commands that fail; without a listener ioredis
    // would print each reconnect failure as an unhandled error event.
    this.client.on("error", (error: Error) => {
      this.lastConnectionError = error;
    });
    this.client.on("ready", () => {
      this.lastConnectionError = undefined;
    });
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status === "wait") await this.client.connect();
      return await command();
    } catch (error) {
      throw new CacheUnavailable(this.description, this.lastConnectionError ?? error);
    }
  }

  private static px(ttlSeconds: number): number {
    return Math.max(1, Math.ceil(ttlSeconds * 1000));
  }

  async get(key: string): Promise<string | undefined> {
    const text = await this.run(() => this.client.get(this.key(key)));
    return text ?? undefined;
  }

  async set(key: string, text: string, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return this.delete(key);
    await this.run(() => this.client.set(this.key(key), text, "PX", RedisCache.px(ttlSeconds)));
  }

  async add(key: string, text: string, ttlSeconds: number): Promise<boolean> {
    if (ttlSeconds <= 0) return !(await this.has(key));
    const result = await this.run(() => this.client.set(this.key(key), text, "PX", RedisCache.px(ttlSeconds), "NX"));
    return result === "OK";
  }

  async swap(key: string, expected: string, text: string, ttlSeconds: number): Promise<SwapResult> {
    const ttl = ttlSeconds <= 0 ? "0" : String(RedisCache.px(ttlSeconds));
    const result = await this.run(() => this.client.sessionSwap(this.key(key), expected, text, ttl));
    return result === 1 ? { swapped: true } : { swapped: false, found: result[1] ?? undefined };
  }

  /** SCAN (never KEYS): Redis keeps answering other clients while the keys are walked. */
  async *keys(prefix: string): AsyncGenerator<string> {
    const pattern = `${this.key(prefix).replace(/[*?[\]\\]/g, "\\$&")}*`;
    const strip = this.key("").length;
    let cursor = "0";
    do {
      const [next, found] = await this.run(() => this.client.scan(cursor, "MATCH", pattern, "COUNT", 500));
      cursor = next;
      for (const key of found) yield key.slice(strip);
    } while (cursor !== "0");
  }

  async expiresAt(key: string): Promise<number | undefined> {
    // PTTL: -2 no such key, -1 no TTL (never written so by this cache).
    const remaining = await this.run(() => this.client.pttl(this.key(key)));
    return remaining >= 0 ? Date.now() + remaining : undefined;
  }

  async has(key: string): Promise<boolean> {
    return (await this.run(() => this.client.exists(this.key(key)))) > 0;
  }

  async delete(key: string): Promise<void> {
    await this.run(() => this.client.del(this.key(key)));
  }

  /** Connects if needed and checks Redis answers. */
  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
