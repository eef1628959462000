/**
 * The session engines the browser tests run against, one Playwright project each. Shared by
 * playwright.config.ts (which builds the projects and their servers) and e2e/support.ts (which
 * reads a test's project back). Plain data only: the config imports this file.
 */

export const ENGINES = ["db", "cache", "cached_db", "file", "signed_cookies"] as const;
export type Engine = (typeof ENGINES)[number];

/** Where the e2e ports start (3100); E2E_PORT_BASE moves them, so two checkouts can run at once. */
const BASE = Number(process.env.E2E_PORT_BASE) || 3100;

/** Each project's own server: db on the base port; base + 1 is left to the restart servers' search. */
export const ENGINE_PORTS: Record<Engine, number> = {
  db: BASE,
  cache: BASE + 2,
  cached_db: BASE + 3,
  file: BASE + 4,
  signed_cookies: BASE + 5,
};

/** Where each project's restart test starts looking for a free port (distinct ranges, so two
 *  workers never race for the same one). */
export const RESTART_PORTS_FROM: Record<Engine, number> = {
  db: BASE + 10,
  cache: BASE + 20,
  cached_db: BASE + 30,
  file: BASE + 40,
  signed_cookies: BASE + 50,
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
    // Every e2e server and createuser run is a test's: the cheap password hasher (same format),
    // since no browser test is about the hash's cost (test/auth/passwords.test.ts is about the hash).
    PASSWORD_HASHER: "fast",
  };
}
