import { rmSync } from "node:fs";
import { defineConfig } from "@playwright/test";

// scripts/test.mjs finds a Chromium (Playwright's own, a system one, or installs Debian's) and
// passes it here; without it Playwright looks for its own download.
const executablePath = process.env.CHROMIUM_PATH || undefined;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

export const E2E_PORT = 3100;
// A fresh database per run: the runner (the first to load this file) removes the last run's;
// workers inherit the variable and leave the file alone.
if (!process.env.E2E_DATABASE_PATH) {
  process.env.E2E_DATABASE_PATH = "e2e/.output/e2e.sqlite3";
  for (const suffix of ["", "-wal", "-shm"]) rmSync(process.env.E2E_DATABASE_PATH + suffix, { force: true });
}

export default defineConfig({
  testDir: "e2e",
  outputDir: "e2e/.output/results",
  timeout: 30_000,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
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
  webServer: {
    command: "npx tsx src/server.ts",
    url: `http://127.0.0.1:${E2E_PORT}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      HOST: "127.0.0.1",
      PORT: String(E2E_PORT),
      DATABASE_PATH: process.env.E2E_DATABASE_PATH,
      // SQLite here, whatever CI exports for the service tests.
      DATABASE_URL: "",
      SECRET_KEY: "e2e-secret-key",
      LOG_LEVEL: "warn",
      NODE_ENV: "test",
    },
  },
});
