/**
 * Shared helpers for the browser tests: the session cookie as the browser holds it, the
 * `sessions` row in SQLite (read-only), and a second app server the tests start and stop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import { expect, type BrowserContext, type Cookie, type Page } from "@playwright/test";
import SQLite from "better-sqlite3";

/** The project root (the webServer and the spawned servers run from here). */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where tests put their own files (ignored by git, cleaned by nobody but us). */
export const OUTPUT_DIR = path.join(ROOT, "e2e", ".output");

export const SESSION_COOKIE = "sessionid";
export const CSRF_COOKIE = "csrftoken";
/** SESSION_COOKIE_AGE's default: two weeks. */
export const TWO_WEEKS = 1_209_600;
/** Django's session key: 32 characters of lowercase letters and digits. */
export const SESSION_KEY_PATTERN = /^[a-z0-9]{32}$/;

// ---- cookies ----------------------------------------------------------------------------------

/** The `sessionid` cookie the browser context holds, or undefined when there is none. */
export async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
  const cookies = await context.cookies();
  return cookies.find((c) => c.name === SESSION_COOKIE);
}

/** The `sessionid` cookie, failing the test when the browser holds none. */
export async function requireSessionCookie(context: BrowserContext): Promise<Cookie> {
  const cookie = await sessionCookie(context);
  expect(cookie, "the browser should hold a sessionid cookie").toBeDefined();
  return cookie as Cookie;
}

/** Seconds from now until the cookie expires (Playwright's `expires` is epoch seconds, -1 = session cookie). */
export function secondsUntil(cookie: Cookie): number {
  return cookie.expires - Date.now() / 1000;
}

// ---- the page ---------------------------------------------------------------------------------

/** The full session key the panel shows (`#session-key[data-key]`); "" when the session has none. */
export async function panelKey(page: Page): Promise<string> {
  return (await page.locator("#session-key").getAttribute("data-key")) ?? "";
}

/** The panel's "Stored data", parsed from its JSON. */
export async function panelData(page: Page): Promise<Record<string, unknown>> {
  const text = await page.locator("#session-data").textContent();
  return JSON.parse(text ?? "null") as Record<string, unknown>;
}

export interface SessionJson {
  session_key: string | null;
  session: Record<string, unknown>;
}

/** GET /session/json/ through the browser context (its cookies are sent and kept). */
export async function sessionJson(page: Page): Promise<SessionJson> {
  const response = await page.request.get("/session/json/");
  expect(response.status()).toBe(200);
  return (await response.json()) as SessionJson;
}

// ---- the database -----------------------------------------------------------------------------

/** The database of the Playwright webServer (playwright.config.ts sets E2E_DATABASE_PATH). */
export function e2eDatabasePath(): string {
  const configured = process.env.E2E_DATABASE_PATH;
  if (!configured) throw new Error("E2E_DATABASE_PATH is not set: run the tests through playwright.config.ts");
  return path.resolve(ROOT, configured);
}

export interface SessionRow {
  session_key: string;
  session_data: string;
  expire_date: string;
}

/** The `sessions` row for `key`, read through a read-only connection, or undefined. */
export function sessionRow(key: string, databasePath: string = e2eDatabasePath()): SessionRow | undefined {
  const db = new SQLite(databasePath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], SessionRow>("SELECT session_key, session_data, expire_date FROM sessions WHERE session_key = ?")
      .get(key);
  } finally {
    db.close();
  }
}

/**
 * The data of a stored row. The column holds Django's signed format,
 * `[.]base64url(payload):timestamp:signature` where a leading "." means zlib-compressed JSON.
 * The signature is not checked here: the app reading the row back is what proves it valid.
 */
export function decodeSessionData(sessionData: string): Record<string, unknown> {
  const parts = sessionData.split(":");
  expect(parts.length, `signed session data: ${sessionData}`).toBe(3);
  let payload = parts[0] ?? "";
  const compressed = payload.startsWith(".");
  if (compressed) payload = payload.slice(1);
  let bytes = Buffer.from(payload, "base64url");
  if (compressed) bytes = inflateSync(bytes);
  return JSON.parse(bytes.toString("latin1")) as Record<string, unknown>;
}

/** `expire_date` (UTC text, `YYYY-MM-DD HH:MM:SS[.ffffff]`) as epoch milliseconds. */
export function expireDateMs(row: SessionRow): number {
  return Date.parse(`${row.expire_date.replace(" ", "T")}Z`);
}

// ---- a server of our own ----------------------------------------------------------------------

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The first free loopback port from `from` upward. */
export async function freePort(from = 3101): Promise<number> {
  for (let port = from; port < from + 200; port++) {
    if (await portIsFree(port)) return port;
  }
  throw new Error(`no free port in ${from}..${from + 199}`);
}

export interface ServerOptions {
  /** SQLite file; kept between start() calls so a restart sees the same sessions. */
  databasePath: string;
  port: number;
  secretKey?: string;
}

export interface StoppedServer {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The app as a child process: `node --import tsx src/server.ts` (node itself, so the PID we keep
 * is the server's and SIGTERM reaches its shutdown handler directly).
 */
export class AppServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private output = "";

  constructor(readonly options: ServerOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  /** A fresh database file under e2e/.output/ named after `name`. */
  static databaseFor(name: string): string {
    const dir = path.join(OUTPUT_DIR, "servers");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${name.replace(/[^a-z0-9-]+/gi, "-")}-${process.pid}-${Date.now()}.sqlite3`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    return file;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the server printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** Starts the server and resolves once GET / answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error(`server on ${this.url} is already running (pid ${this.pid})`);
    const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        // SQLite, whatever CI exports for the service tests.
        DATABASE_URL: "",
        HOST: "127.0.0.1",
        PORT: String(this.options.port),
        DATABASE_PATH: this.options.databasePath,
        SECRET_KEY: this.options.secretKey ?? "e2e-own-server-secret",
        MIGRATE_ON_START: "true",
        LOG_LEVEL: "warn",
        NODE_ENV: "test",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString()));

    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`server exited before answering (code ${child.exitCode}, signal ${child.signalCode}):\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}/`, { signal: AbortSignal.timeout(1_000) });
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.stop();
    throw new Error(`server on ${this.url} did not answer within ${timeoutMs} ms:\n${this.output}`);
  }

  /** Sends SIGTERM to our child's PID and waits for it to exit (SIGKILL to the same PID after 10 s). */
  async stop(): Promise<StoppedServer> {
    const child = this.child;
    if (!child || child.pid === undefined) return { code: null, signal: null };
    if (this.running) {
      const exited = once(child, "exit");
      process.kill(child.pid, "SIGTERM");
      const timer = setTimeout(() => {
        if (this.running && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      }, 10_000);
      await exited;
      clearTimeout(timer);
    }
    return { code: child.exitCode, signal: child.signalCode };
  }
}
