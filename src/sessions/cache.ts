/**
 * The cache the `cache` and `cached_db` engines store sessions in, in the spirit of Django's
 * cache framework: raw session dicts under string keys, each with a time to live in seconds.
 */
import type { JsonValue } from "./json.js";
import type { SessionData } from "./session-base.js";

export type CacheValue = SessionData | ReadonlyMap<string, JsonValue>;

export interface SessionCache {
  /** How logs name this cache (Django logs the cache object's repr). */
  readonly description: string;
  get(key: string): Promise<SessionData | undefined>;
  /** Stores unconditionally; a TTL of 0 or less removes the entry. */
  set(key: string, value: CacheValue, ttlSeconds: number): Promise<void>;
  /** Stores only if absent; false when the key is taken. */
  add(key: string, value: CacheValue, ttlSeconds: number): Promise<boolean>;
  /** Stores only if present; false when there is no entry to replace. */
  replace(key: string, value: CacheValue, ttlSeconds: number): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** The keys (as given to set) that start with `prefix`; for operators listing sessions. */
  keys(prefix: string): AsyncIterable<string>;
  /** When the entry's TTL ends (epoch ms); undefined when there is no entry. */
  expiresAt(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Resolves when the cache answers; rejects with CacheUnavailable otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The cache cannot be reached (Redis down): a 503 for the `cache` engine, logged by `cached_db`. */
export class CacheUnavailable extends Error {
  override name = "CacheUnavailable";
  readonly statusCode = 503;
  constructor(description: string, cause: unknown) {
    super(`The session cache (${description}) is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/** Django's default key function: `<KEY_PREFIX>:<VERSION>:<key>`. */
export function cacheKeyFunction(prefix: string, version = 1): (key: string) => string {
  return (key) => `${prefix}:${version}:${key}`;
}
