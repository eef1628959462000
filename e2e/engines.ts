/**
 * The session engines the browser tests run against, one Playwright project each. Shared by
 * playwright.config.ts (which builds the projects and their servers) and e2e/support.ts (which
 * reads a test's project back). Plain data only: the config imports this file.
 */

export const ENGINES = ["db", "cache", "cached_db", "file", "signed_cookies"] as const;
export type Engine = (typeof ENGINES)[number];

/** Each project's own server: db keeps 3100 as before; 3101 is left to the restart servers' search. */
export const ENGINE_PORTS: Record<Engine, number> = {
  db: 3100,
  cache: 3102,
  cached_db: 3103,
  file: 3104,
  signed_cookies: 3105,
};

/** Where each project's restart test starts looking for a free port (distinct ranges, so two
 *  workers never race for the same one). */
export const RESTART_PORTS_FROM: Record<Engine, number> = {
  db: 3110,
  cache: 3120,
  cached_db: 3130,
  file: 3140,
  signed_cookies: 3150,
};

/** The SECRET_KEY of every e2e server; settings.spec.ts checks it never appears in clear. */
export const E2E_SECRET_KEY = "e2e-secret-key";

/** Where an engine keeps its sessions: enough for a test to read the store directly. */
export interface SessionStoreLocation {
  engine: Engine;
  /** Absolute path of the server's SQLite file (every server has one; only db and cached_db keep sessions there). */
  databasePath: string;
  /** SESSION_FILE_PATH of the file engine (absolute), else null. */
  sessionFilePath: string | null;
  /** The `default` cache of cache and cached_db, else null. */
  cacheBackend: "redis" | "locmem" | null;
  redisUrl: string | null;
  /** CACHE_KEY_PREFIX (unique per run) when the cache is Redis, else null. */
  cacheKeyPrefix: string | null;
}

/** What each Playwright project carries in `metadata` (read with `projectOf(testInfo)`). */
export interface EngineProject extends SessionStoreLocation {
  port: number;
  baseURL: string;
  restartPortFrom: number;
}

/** The server's environment for a store location: the engine and where it keeps sessions. */
export function engineEnv(store: SessionStoreLocation): Record<string, string> {
  return {
    SESSION_ENGINE: store.engine,
    DATABASE_PATH: store.databasePath,
    // SQLite always, whatever CI exports for the service tests.
    DATABASE_URL: "",
    CACHE_BACKEND: store.cacheBackend ?? "locmem",
    CACHE_KEY_PREFIX: store.cacheKeyPrefix ?? "",
    ...(store.redisUrl ? { REDIS_URL: store.redisUrl } : {}),
    // "" is "unset" (the OS temp directory), overriding anything inherited.
    SESSION_FILE_PATH: store.sessionFilePath ?? "",
  };
}
