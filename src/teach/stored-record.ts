/**
 * What the store holds for one session, read raw (not through the session object) so a page can
 * show it exactly as kept: the `sessions` row on db and cached_db, the cache entry on cache, the
 * file on file, and the cookie itself on signed_cookies. One read per page, demo pages only.
 */
import type { RawCacheEntry, RawRecord, SessionEngine, SessionSettings } from "fastify-django-sessions";
import { explainSignedValue, type SignedValueSteps } from "./signed-value.js";

export interface SessionRowView {
  session_key: string;
  session_data: string;
  /** As the column holds it: SQLite's UTC text, or PostgreSQL's timestamptz as ISO 8601. */
  expire_date: string;
}

export interface CacheEntryView {
  /** The key as the cache server holds it: `<CACHE_KEY_PREFIX>:1:<engine prefix><session key>`. */
  fullKey: string;
  /** Where the cache lives (Redis at ..., or the in-process cache). */
  where: string;
  redis: boolean;
  /** The entry's text, or null when there is none. */
  text: string | null;
  /** Seconds the cache keeps it; null without an entry. */
  ttlSeconds: number | null;
}

export type StoredRecord =
  | { kind: "nothing"; why: string }
  | {
      kind: "row";
      key: string;
      row: SessionRowView | null;
      steps: SignedValueSteps | null;
      /** cached_db: the copy in front of the row. */
      cacheCopy: CacheEntryView | null;
    }
  | { kind: "cache"; key: string; entry: CacheEntryView }
  | {
      kind: "file";
      key: string;
      path: string;
      contents: string | null;
      modified: string | null;
      steps: SignedValueSteps | null;
    }
  | { kind: "cookie"; value: string; steps: SignedValueSteps };

export interface RecordReaderOptions {
  /** The engine in use: its readRecord() reads what the store keeps, raw. */
  engine: SessionEngine;
  settings: SessionSettings;
  /** CACHE_BACKEND and CACHE_KEY_PREFIX, to name the entry as the cache server holds it. */
  cache: { backend: "locmem" | "redis"; keyPrefix: string };
  now?: () => number;
}

export type RecordReader = (sessionKey: string | null) => Promise<StoredRecord>;

/**
 * A reader for the configured engine. `sessionKey` is what the browser holds after this
 * response: the session key, or on signed_cookies the signed cookie value.
 */
export function recordReader({ engine, settings, cache, now = Date.now }: RecordReaderOptions): RecordReader {
  const secrets = settings;

  function cacheView(entry: RawCacheEntry): CacheEntryView {
    return {
      // Django's cache framework names a key <KEY_PREFIX>:<VERSION>:<key>.
      fullKey: `${cache.keyPrefix}:1:${entry.key}`,
      where: entry.where,
      redis: cache.backend === "redis",
      text: entry.text,
      ttlSeconds: entry.expiresAt === null ? null : Math.max(0, Math.round((entry.expiresAt - now()) / 1000)),
    };
  }

  function view(key: string, record: RawRecord): StoredRecord {
    switch (record.kind) {
      case "unusable-key":
        return { kind: "nothing", why: "The cookie holds no valid session key, so nothing was looked up." };
      case "row": {
        const found = record.row;
        const row = found && {
          ...found,
          expire_date: found.expire_date instanceof Date ? found.expire_date.toISOString() : found.expire_date,
        };
        return {
          kind: "row",
          key,
          row,
          steps: row ? explainSignedValue(row.session_data, record.salt, secrets) : null,
          cacheCopy: record.cacheCopy ? cacheView(record.cacheCopy) : null,
        };
      }
      case "cache":
        return { kind: "cache", key, entry: cacheView(record.entry) };
      case "file":
        return {
          kind: "file",
          key,
          path: record.path,
          contents: record.contents,
          modified: record.modified?.toISOString() ?? null,
          steps: record.contents ? explainSignedValue(record.contents, record.salt, secrets) : null,
        };
      case "cookie":
        return { kind: "cookie", value: record.value, steps: explainSignedValue(record.value, record.salt, secrets) };
    }
  }

  return async (sessionKey) => {
    if (sessionKey === null || sessionKey === "") {
      return {
        kind: "nothing",
        why: "Your browser holds no session cookie after this response, so there is nothing to look up.",
      };
    }
    if (!engine.readRecord) {
      return { kind: "nothing", why: `The custom engine ${settings.SESSION_ENGINE} keeps its records its own way.` };
    }
    return view(sessionKey, await engine.readRecord(sessionKey));
  };
}
