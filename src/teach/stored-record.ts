/**
 * What the store holds for one session, read raw (not through the session object) so a page can
 * show it exactly as kept: the `sessions` row on db and cached_db, the cache entry on cache, the
 * file on file, and the cookie itself on signed_cookies. One read per page, demo pages only.
 */
import { readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Kysely } from "kysely";
import {
  builtInEngineName,
  type SessionCache,
  type SessionsDatabase,
  type SessionSettings,
} from "fastify-django-sessions";
import { MIN_SESSION_KEY_LENGTH } from "fastify-django-sessions";
import { STORED_DATA_SALT } from "fastify-django-sessions";
import { CACHE_KEY_PREFIX } from "fastify-django-sessions";
import { CACHED_DB_KEY_PREFIX } from "fastify-django-sessions";
import { SIGNED_COOKIE_SALT } from "fastify-django-sessions";

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

export interface RecordReaderOptions<DB extends SessionsDatabase = SessionsDatabase> {
  settings: SessionSettings;
  db: Kysely<DB>;
  caches: Readonly<Record<string, SessionCache>>;
  /** CACHE_BACKEND and CACHE_KEY_PREFIX, to name the entry as the cache server holds it. */
  cache: { backend: "locmem" | "redis"; keyPrefix: string };
  now?: () => number;
}

export type RecordReader = (sessionKey: string | null) => Promise<StoredRecord>;

const KEY_ALPHABET = /^[a-z0-9]+$/;

function isServerKey(key: string | null): key is string {
  return key !== null && key.length >= MIN_SESSION_KEY_LENGTH && KEY_ALPHABET.test(key);
}

/**
 * A reader for the configured engine. `sessionKey` is what the browser holds after this
 * response: the session key, or on signed_cookies the signed cookie value.
 */
export function recordReader<DB extends SessionsDatabase>({
  settings,
  db: appDb,
  caches,
  cache: cacheConfig,
  now = Date.now,
}: RecordReaderOptions<DB>): RecordReader {
  const db = appDb as unknown as Kysely<SessionsDatabase>;
  const engine = builtInEngineName(settings.SESSION_ENGINE);
  const cache = caches[settings.SESSION_CACHE_ALIAS];
  const secrets = settings;

  async function cacheEntry(enginePrefix: string, key: string): Promise<CacheEntryView | null> {
    if (!cache) return null;
    const [text, expiresAt] = await Promise.all([cache.get(enginePrefix + key), cache.expiresAt(enginePrefix + key)]);
    return {
      fullKey: `${cacheConfig.keyPrefix}:1:${enginePrefix}${key}`,
      where: cache.description,
      redis: cacheConfig.backend === "redis",
      text: text ?? null,
      ttlSeconds:
        text === undefined || expiresAt === undefined ? null : Math.max(0, Math.round((expiresAt - now()) / 1000)),
    };
  }

  async function row(key: string): Promise<SessionRowView | null> {
    const found = await db
      .selectFrom("sessions")
      .select(["session_key", "session_data", "expire_date"])
      .where("session_key", "=", key)
      .executeTakeFirst();
    if (!found) return null;
    const expire = found.expire_date;
    return { ...found, expire_date: expire instanceof Date ? expire.toISOString() : expire };
  }

  return async (sessionKey) => {
    if (sessionKey === null || sessionKey === "") {
      return {
        kind: "nothing",
        why: "Your browser holds no session cookie after this response, so there is nothing to look up.",
      };
    }
    switch (engine) {
      case "db":
      case "cached_db": {
        if (!isServerKey(sessionKey))
          return { kind: "nothing", why: "The cookie holds no valid session key, so nothing was looked up." };
        const found = await row(sessionKey);
        return {
          kind: "row",
          key: sessionKey,
          row: found,
          steps: found ? explainSignedValue(found.session_data, STORED_DATA_SALT, secrets) : null,
          cacheCopy: engine === "cached_db" ? await cacheEntry(CACHED_DB_KEY_PREFIX, sessionKey) : null,
        };
      }
      case "cache": {
        if (!isServerKey(sessionKey))
          return { kind: "nothing", why: "The cookie holds no valid session key, so nothing was looked up." };
        const entry = await cacheEntry(CACHE_KEY_PREFIX, sessionKey);
        return entry ? { kind: "cache", key: sessionKey, entry } : { kind: "nothing", why: "No cache is configured." };
      }
      case "file": {
        if (!isServerKey(sessionKey))
          return { kind: "nothing", why: "The cookie holds no valid session key, so no file was opened." };
        const file = path.join(settings.SESSION_FILE_PATH ?? tmpdir(), settings.SESSION_COOKIE_NAME + sessionKey);
        try {
          const [contents, info] = await Promise.all([readFile(file, "latin1"), stat(file)]);
          return {
            kind: "file",
            key: sessionKey,
            path: file,
            contents,
            modified: info.mtime.toISOString(),
            steps: contents === "" ? null : explainSignedValue(contents, STORED_DATA_SALT, secrets),
          };
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
          return { kind: "file", key: sessionKey, path: file, contents: null, modified: null, steps: null };
        }
      }
      case "signed_cookies":
        return {
          kind: "cookie",
          value: sessionKey,
          steps: explainSignedValue(sessionKey, SIGNED_COOKIE_SALT, secrets),
        };
      default:
        return { kind: "nothing", why: `The custom engine ${settings.SESSION_ENGINE} keeps its records its own way.` };
    }
  };
}
