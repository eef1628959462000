/**
 * The cache the `cache` and `cached_db` engines store sessions in, in the spirit of Django's
 * cache framework: text under string keys, each with a time to live in seconds. Engines decide
 * what the text is (the session's JSON); the cache only stores it, and swap() lets a save
 * change an entry only if nobody else changed it since it was read.
 */
import type { LockStore } from "./locks.js";

/** What swap() found: it stored the new text, or another writer had changed the entry. */
export type SwapResult = { swapped: true } | { swapped: false; found: string | undefined };

export interface SessionCache {
  /** How logs name this cache (Django logs the cache object's repr). */
  readonly description: string;
  get(key: string): Promise<string | undefined>;
  /** The same, at once, where the cache is in this process (then sessions are read at first touch). */
  readonly getSync?: (key: string) => string | undefined;
  /** Stores unconditionally; a TTL of 0 or less removes the entry. */
  set(key: string, text: string, ttlSeconds: number): Promise<void>;
  /** Stores only if absent; false when the key is taken. */
  add(key: string, text: string, ttlSeconds: number): Promise<boolean>;
  /**
   * Atomically: if the entry is exactly `expected`, stores `text` (a TTL of 0 or less removes
   * the entry instead); otherwise leaves it and reports what is there.
   */
  swap(key: string, expected: string, text: string, ttlSeconds: number): Promise<SwapResult>;
  has(key: string): Promise<boolean>;
  /** The keys (as given to set) that start with `prefix`; for operators listing sessions. */
  keys(prefix: string): AsyncIterable<string>;
  /** When the entry's TTL ends (epoch ms); undefined when there is no entry. */
  expiresAt(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Leases for the route lock when the cache is shared by several processes (Redis); absent in-process. */
  readonly locks?: LockStore;
  /** Resolves when the cache answers; rejects with CacheUnavailable otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The cache cannot be reached (Redis down): a 503 for the `cache` engine, logged by `cached_db`. */
export class CacheUnavailable extends Error {
  override name = "CacheUnavailable";
  readonly statusCode = 503;
  constructor(description: string, cause: unknown) {
    super(
      `The session cache (${description}) is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
  }
}

/** Django's default key function: `<KEY_PREFIX>:<VERSION>:<key>`. */
export function cacheKeyFunction(prefix: string, version = 1): (key: string) => string {
  return (key) => `${prefix}:${version}:${key}`;
}
