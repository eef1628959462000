/** What test files that start processes share: a temp directory, cleanup by PID, free ports. */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";

/**
 * A temp directory and a set of child processes for one test file. After the file, any child
 * still running (a test failed half-way) is killed by its PID and the directory removed.
 */
export function processScope(prefix: string): { dir: string; children: Set<ChildProcess> } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const children = new Set<ChildProcess>();
  after(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, children };
}

/** A loopback port nothing listens on (right now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `node --import tsx src/server.ts`: the server as `npm start` runs it. */
export const SERVER_ARGS = ["--import", "tsx", "src/server.ts"];

/**
 * A server process's environment: loopback, any free port, info logs, and SQLite without Redis
 * whatever CI exports (REDIS_URL/DATABASE_URL are for the service tests); `env` overrides.
 * The cheap password hasher (the app hashes a stand-in password at start), except under
 * NODE_ENV=production, which refuses it.
 */
export function serverEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const hasher = env.NODE_ENV === "production" ? {} : { PASSWORD_HASHER: "fast" };
  return {
    ...process.env,
    DATABASE_URL: "",
    REDIS_URL: "",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "info",
    ...hasher,
    ...env,
  };
}
