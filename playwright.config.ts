import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type PlaywrightTestConfig } from "@playwright/test";
import {
  E2E_SECRET_KEY,
  ENGINES,
  ENGINE_PORTS,
  RESTART_PORTS_FROM,
  engineEnv,
  type Engine,
  type EngineProject,
} from "./e2e/engines.js";

// scripts/test.mjs finds a Chromium (Playwright's own, a system one, or installs Debian's) and
// passes it here; without it Playwright looks for its own download.
const executablePath = process.env.CHROMIUM_PATH || undefined;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const OUTPUT = path.join(ROOT, "e2e", ".output");

/** The db project's port (the others are in e2e/engines.ts). */
export const E2E_PORT = ENGINE_PORTS.db;

const databaseFor = (engine: Engine) => path.join(OUTPUT, `e2e-${engine}.sqlite3`);
const SESSION_FILES = path.join(OUTPUT, "session-files");

// Fresh stores per run: the runner (the first to load this file) removes the last run's SQLite
// files, session files and restart-test servers' stores (e2e/.output/servers/), and picks a run
// id for the Redis key prefixes; workers inherit E2E_RUN_ID and leave everything alone.
const firstLoad = !process.env.E2E_RUN_ID;
if (firstLoad) {
  process.env.E2E_RUN_ID = `${Date.now().toString(36)}-${process.pid}`;
  for (const engine of ENGINES) {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(databaseFor(engine) + suffix, { force: true });
  }
  rmSync(path.join(OUTPUT, "servers"), { recursive: true, force: true });
  // The file engine's directory must exist before its server starts.
  rmSync(SESSION_FILES, { recursive: true, force: true });
  mkdirSync(SESSION_FILES, { recursive: true });
}
const RUN_ID = process.env.E2E_RUN_ID!;

// The cache engine needs Redis; cached_db falls back to the in-process cache without it.
const redisUrl = process.env.REDIS_URL?.trim() || null;
const engines = ENGINES.filter((engine) => engine !== "cache" || redisUrl !== null);
if (!redisUrl && firstLoad) {
  console.warn("e2e: REDIS_URL is not set, so the `cache` project is left out (cached_db uses the in-process cache).");
}

function projectFor(engine: Engine): EngineProject {
  const port = ENGINE_PORTS[engine];
  const cacheBackend = engine === "cache" || engine === "cached_db" ? (redisUrl ? "redis" : "locmem") : null;
  return {
    engine,
    port,
    baseURL: `http://127.0.0.1:${port}`,
    restartPortFrom: RESTART_PORTS_FROM[engine],
    databasePath: databaseFor(engine),
    sessionFilePath: engine === "file" ? SESSION_FILES : null,
    cacheBackend,
    redisUrl: cacheBackend === "redis" ? redisUrl : null,
    cacheKeyPrefix: cacheBackend === "redis" ? `e2e-${RUN_ID}-${engine}` : null,
  };
}

const projects = engines.map(projectFor);

/** Each project's server: its engine's stores, its port, the e2e settings. */
const servers = projects.map((project) => ({
  name: project.engine,
  port: project.port,
  env: {
    ...engineEnv(project),
    HOST: "127.0.0.1",
    PORT: String(project.port),
    MIGRATE_ON_START: "true",
    SECRET_KEY: E2E_SECRET_KEY,
    LOG_LEVEL: "warn",
    NODE_ENV: "test",
    // Every browser comes from 127.0.0.1: e2e/auth.spec.ts alone makes 11 login and password
    // attempts per server within a minute, more than the default 10.
    LOGIN_ATTEMPTS_PER_MINUTE: "1000",
  },
}));

// One webServer entry that starts all five at once (e2e/servers.mjs): Playwright starts and stops
// webServer entries one after another. Each server is still a process of its own, run with node
// itself (not npx tsx), so SIGTERM reaches the server's shutdown handler.
const webServer: PlaywrightTestConfig["webServer"] = {
  name: "servers",
  command: `${JSON.stringify(process.execPath)} e2e/servers.mjs`,
  // Ready once every server answers GET / (the launcher prints this line then).
  wait: { stdout: /e2e servers ready/ },
  timeout: 60_000,
  gracefulShutdown: { signal: "SIGTERM", timeout: 5_000 },
  // Added to the runner's environment, which the servers inherit as before.
  env: { E2E_SERVERS: JSON.stringify(servers) },
};

export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/.output/results",
  globalTeardown: "./e2e/global-teardown.ts",
  timeout: 30_000,
  workers: 2,
  fullyParallel: true,
  retries: 0,
  // `list`, then the ten slowest tests (e2e/slowest-reporter.ts).
  reporter: [["list"], ["./e2e/slowest-reporter.ts"]],
  use: {
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath,
      args: [
        ...(isRoot ? ["--no-sandbox"] : []),
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: projects.map((project) => ({
    name: project.engine,
    metadata: project,
    use: { baseURL: project.baseURL },
  })),
  webServer,
});
