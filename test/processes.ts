/** What test files that start processes share: a temp directory, cleanup by PID, free ports. */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";

/** Children spawned with `detached: true`: each leads a process group of its own. */
export const groupLeaders = new WeakSet<ChildProcess>();

/**
 * A temp directory and a set of child processes for one test file. After the file, any child
 * still running (a test failed half-way) is killed by its PID and the directory removed.
 */
export function processScope(prefix: string): { dir: string; children: Set<ChildProcess> } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const children = new Set<ChildProcess>();
  after(() => {
    for (const child of children) {
      if (child.pid === undefined) continue;
      // A child started in a process group of its own (`npm start`) is ended with everything it
      // started: a server left behind would keep this file's pipes, and so the test run, open.
      if (groupLeaders.has(child)) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (child.exitCode === null && child.signalCode === null) {
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

/**
 * `npm test` runs the tests compiled by esbuild into .build/ (no TypeScript loader in each test
 * process); `node --import tsx --test test/x.test.ts` runs them as they are. Both find the same
 * project root, and a module a test hands to SESSION_ENGINE in this process as something it can
 * import either way.
 */
const COMPILED = import.meta.url.endsWith(".js");
export const PROJECT_ROOT = fileURLToPath(new URL(COMPILED ? "../.." : "..", import.meta.url));

/** `./test/x.ts` as this process imports it: itself under tsx, `./.build/test/x.js` compiled. */
export function importableModule(tsPath: string): string {
  return COMPILED ? compiledModule(tsPath) : tsPath;
}

const compiledModule = (tsPath: string) => `./.build/${tsPath.replace(/^\.\//, "").replace(/\.ts$/, ".js")}`;

/**
 * The node arguments that run one of the project's entry points (`src/server.ts`,
 * `src/cli/*.ts`) as a process of its own: through tsx, as `npm start` and `npm run <command>` do,
 * or, when the tests themselves run compiled (`npm test`), its compiled file in .build/ without a
 * TypeScript loader, which starts in a third of the CPU time. The process's start-up, signals,
 * exit status and output are the same either way; the `npm start` test keeps tsx itself.
 */
export function entryArgs(tsPath: string): string[] {
  return COMPILED
    ? ["--enable-source-maps", compiledModule(tsPath)]
    : ["--conditions=fastify-django-sessions-source", "--import", "tsx", tsPath];
}

/** The server as `npm start` runs it (see entryArgs). */
export const SERVER_ARGS = entryArgs("src/server.ts");

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
