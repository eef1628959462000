/**
 * An in-process cache for one server (Django's LocMemCache): bounded by entry count, least
 * recently used entries evicted first, each entry with its own TTL. Entries are text, so a
 * caller can never change a cached session through a shared object. Everything here runs
 * synchronously, so add and swap are atomic by construction, and one process is all there is
 * to lock against (no lock store).
 */
import { LRUCache } from "lru-cache";
import { cacheKeyFunction, type SessionCache, type SwapResult } from "../cache.js";

export interface MemoryCacheOptions {
  /** Most entries kept (default 10 000). */
  maxEntries?: number;
  keyPrefix?: string;
  /** Current time in milliseconds; a test clock can replace it. */
  now?: () => number;
}

export class MemoryCache implements SessionCache {
  readonly description: string;
  private readonly entries: LRUCache<string, string>;
  private readonly key: (key: string) => string;
  private readonly now: () => number;

  constructor({ maxEntries = 10_000, keyPrefix = "", now }: MemoryCacheOptions = {}) {
    this.description = `in-process cache (max ${maxEntries} entries)`;
    this.key = cacheKeyFunction(keyPrefix);
    this.now = now ?? Date.now;
    this.entries = new LRUCache<string, string>({
      max: maxEntries,
      ttlAutopurge: false,
      // Read the clock on every check (the default caches it for a millisecond).
      ttlResolution: 0,
      ...(now ? { perf: { now } } : {}),
    });
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(this.key(key));
  }

  readonly getSync = (key: string): string | undefined => this.entries.get(this.key(key));

  async set(key: string, text: string, ttlSeconds: number): Promise<void> {
    this.store(key, text, ttlSeconds);
  }

  private store(key: string, text: string, ttlSeconds: number): void {
    if (ttlSeconds <= 0) this.entries.delete(this.key(key));
    else this.entries.set(this.key(key), text, { ttl: Math.ceil(ttlSeconds * 1000) });
  }

  async add(key: string, text: string, ttlSeconds: number): Promise<boolean> {
    if (this.entries.has(this.key(key))) return false;
    this.store(key, text, ttlSeconds);
    return true;
  }

  async swap(key: string, expected: string, text: string, ttlSeconds: number): Promise<SwapResult> {
    const found = this.entries.get(this.key(key));
    if (found !== expected) return { swapped: false, found };
    this.store(key, text, ttlSeconds);
    return { swapped: true };
  }

  async *keys(prefix: string): AsyncGenerator<string> {
    const full = this.key(prefix);
    const strip = this.key("").length;
    // keys() skips nothing stale by itself; has() checks the TTL.
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(full) && this.entries.has(key)) yield key.slice(strip);
    }
  }

  async expiresAt(key: string): Promise<number | undefined> {
    const remaining = this.entries.getRemainingTTL(this.key(key));
    return remaining > 0 ? this.now() + remaining : undefined;
  }

  async has(key: string): Promise<boolean> {
    return this.entries.has(this.key(key));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(this.key(key));
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.entries.clear();
  }
}
