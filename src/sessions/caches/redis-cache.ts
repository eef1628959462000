/**
 * Redis as the session cache, for several app processes (ioredis). Entries are JSON with a
 * millisecond TTL; add and replace are single atomic SET NX / SET XX commands. While Redis is
 * unreachable every call fails at once with CacheUnavailable (no queueing), and the client
 * reconnects in the background, so the app recovers by itself when Redis returns.
 */
import { Redis } from "ioredis";
import { dumps } from "../json.js";
import { CacheUnavailable, cacheKeyFunction, type CacheValue, type SessionCache } from "../cache.js";
import type { SessionData } from "../session-base.js";

export interface RedisCacheOptions {
  url: string;
  keyPrefix?: string;
  /** How long to wait for Redis at start (ping) and per command, in ms. */
  timeoutMs?: number;
}

function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "redis";
  }
}

export class RedisCache implements SessionCache {
  readonly description: string;
  private readonly client: Redis;
  private readonly key: (key: string) => string;
  /** Why the connection failed ("Connection is closed." alone would not say). */
  private lastConnectionError: Error | undefined;

  constructor({ url, keyPrefix = "", timeoutMs = 2000 }: RedisCacheOptions) {
    this.description = `Redis at ${redacted(url)}`;
    this.key = cacheKeyFunction(keyPrefix);
    this.client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
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

  async get(key: string): Promise<SessionData | undefined> {
    const text = await this.run(() => this.client.get(this.key(key)));
    return text === null ? undefined : (JSON.parse(text) as SessionData);
  }

  async set(key: string, value: CacheValue, ttlSeconds: number): Promise<void> {
    if (ttlSeconds <= 0) return this.delete(key);
    const text = dumps(value);
    await this.run(() => this.client.set(this.key(key), text, "PX", RedisCache.px(ttlSeconds)));
  }

  async add(key: string, value: CacheValue, ttlSeconds: number): Promise<boolean> {
    if (ttlSeconds <= 0) return !(await this.has(key));
    const text = dumps(value);
    const result = await this.run(() => this.client.set(this.key(key), text, "PX", RedisCache.px(ttlSeconds), "NX"));
    return result === "OK";
  }

  async replace(key: string, value: CacheValue, ttlSeconds: number): Promise<boolean> {
    if (ttlSeconds <= 0) {
      const removed = await this.run(() => this.client.del(this.key(key)));
      return removed > 0;
    }
    const text = dumps(value);
    const result = await this.run(() => this.client.set(this.key(key), text, "PX", RedisCache.px(ttlSeconds), "XX"));
    return result === "OK";
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
