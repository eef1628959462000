/**
 * Shared helpers for the browser tests: which engine a test's project runs, the session cookie as
 * the browser holds it, what the engine's store holds (the `sessions` row in SQLite, the session
 * file, the Redis entry, or the signed cookie itself), and a second app server the tests start
 * and stop.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import {
  expect,
  test as base,
  type Browser,
  type BrowserContext,
  type Cookie,
  type Page,
  type TestInfo,
  type WorkerInfo,
} from "@playwright/test";
import SQLite from "better-sqlite3";
import { Redis } from "ioredis";
import { main as createuserMain } from "../src/cli/createuser.js";
import { runInProcess } from "../test/cli/in-process.js";
import { engineEnv, type Engine, type EngineProject, type SessionStoreLocation } from "./engines.js";

export { E2E_SECRET_KEY, type Engine, type EngineProject, type SessionStoreLocation } from "./engines.js";

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
/**
 * A signed_cookies value: Django's `signing.dumps` output, `[.]payload:timestamp:signature`, with
 * a base64url payload ("." = zlib-compressed), a base-62 timestamp and a 43-character base64url
 * HMAC-SHA256.
 */
export const SIGNED_COOKIE_PATTERN = /^\.?[A-Za-z0-9_-]+:[0-9A-Za-z]+:[A-Za-z0-9_-]{43}$/;

// ---- the engine under test --------------------------------------------------------------------

/** The project's engine and stores (playwright.config.ts puts them in the project's `metadata`). */
export function projectOf(testInfo: TestInfo = base.info()): EngineProject {
  const project = testInfo.project.metadata as Partial<EngineProject>;
  if (!project.engine) {
    throw new Error(
      `project "${testInfo.project.name}" has no engine in its metadata: run the tests through playwright.config.ts`,
    );
  }
  return project as EngineProject;
}

/** The session engine the test's project runs against. */
export function engineOf(testInfo: TestInfo = base.info()): Engine {
  return projectOf(testInfo).engine;
}

/** Whether the engine keeps sessions on the server (all but signed_cookies, whose cookie is the session). */
export function isServerSide(engine: Engine = engineOf()): boolean {
  return engine !== "signed_cookies";
}

/** What the `sessionid` cookie holds: a 32-character key, or on signed_cookies the signed data. */
export function sessionKeyPattern(engine: Engine = engineOf()): RegExp {
  return isServerSide(engine) ? SESSION_KEY_PATTERN : SIGNED_COOKIE_PATTERN;
}

/**
 * The browser's session cookie after a change that must keep the session. Server-side engines
 * keep the key, so it must still be `previous`. On signed_cookies the value is the signed data,
 * so every save re-signs it: the new value is checked for its shape instead. Returns the value.
 */
export async function keptKey(
  context: BrowserContext,
  previous: string,
  testInfo: TestInfo = base.info(),
): Promise<string> {
  const current = (await requireSessionCookie(context)).value;
  if (isServerSide(engineOf(testInfo))) expect(current, "the session keeps its key").toBe(previous);
  else expect(current).toMatch(SIGNED_COOKIE_PATTERN);
  return current;
}

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

// ---- the store ---------------------------------------------------------------------------------

export interface SessionRow {
  session_key: string;
  session_data: string;
  expire_date: string;
}

/** The `sessions` row for `key` in a SQLite file, read through a read-only connection, or undefined. */
export function sessionRow(key: string, databasePath: string): SessionRow | undefined {
  const db = new SQLite(databasePath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare<[string], SessionRow>(
        "SELECT session_key, session_data, expire_date FROM sessions WHERE session_key = ?",
      )
      .get(key);
  } finally {
    db.close();
  }
}

/** Django's cache key (`<prefix>:1:<key>`) of the cache engine's entry for a session. */
function cacheEntryKey(store: SessionStoreLocation, key: string): string {
  return `${store.cacheKeyPrefix}:1:django.contrib.sessions.cache${key}`;
}

async function withRedis<T>(store: SessionStoreLocation, use: (redis: Redis) => Promise<T>): Promise<T> {
  if (store.cacheBackend !== "redis" || !store.redisUrl) {
    throw new Error(`the ${store.engine} store has no Redis to read`);
  }
  const redis = new Redis(store.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/**
 * The session data the engine's store holds for `key` (the cookie value), or undefined when it
 * holds none, read where the engine keeps it:
 * - db, cached_db: the SQLite `sessions` row (cached_db writes through to it);
 * - file: the file `sessionid<key>` in SESSION_FILE_PATH (the same signed format as a row);
 * - cache: the Redis entry (plain JSON);
 * - signed_cookies: the cookie value itself, which is the data (so it is never "gone": a copied
 *   cookie stays valid, the documented limitation).
 */
export async function storedData(
  key: string,
  store: SessionStoreLocation = projectOf(),
): Promise<Record<string, unknown> | undefined> {
  switch (store.engine) {
    case "db":
    case "cached_db": {
      const row = sessionRow(key, store.databasePath);
      return row && decodeSessionData(row.session_data);
    }
    case "file": {
      expect(key, "a file session's key").toMatch(SESSION_KEY_PATTERN);
      let content: string;
      try {
        content = readFileSync(path.join(store.sessionFilePath!, SESSION_COOKIE + key), "latin1");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      return content === "" ? {} : decodeSessionData(content);
    }
    case "cache": {
      const text = await withRedis(store, (redis) => redis.get(cacheEntryKey(store, key)));
      return text === null ? undefined : (JSON.parse(text) as Record<string, unknown>);
    }
    case "signed_cookies":
      expect(key).toMatch(SIGNED_COOKIE_PATTERN);
      return decodeSessionData(key);
  }
}

/**
 * Seconds until the store itself expires the session, where it keeps such a date: the row's
 * `expire_date` (db, cached_db) or the Redis entry's TTL (cache). Undefined for file (expiry is
 * the file's mtime plus SESSION_COOKIE_AGE, and a positive per-session expiry is never enforced,
 * Django's quirk) and signed_cookies (only SESSION_COOKIE_AGE since signing is enforced).
 */
export async function storedExpirySeconds(
  key: string,
  store: SessionStoreLocation = projectOf(),
): Promise<number | undefined> {
  switch (store.engine) {
    case "db":
    case "cached_db": {
      const row = sessionRow(key, store.databasePath);
      expect(row, `a sessions row for ${key}`).toBeDefined();
      return (expireDateMs(row!) - Date.now()) / 1000;
    }
    case "cache": {
      const ttl = await withRedis(store, (redis) => redis.pttl(cacheEntryKey(store, key)));
      expect(ttl, `a Redis entry with a TTL for ${key}`).toBeGreaterThan(0);
      return ttl / 1000;
    }
    default:
      return undefined;
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

// ---- users ------------------------------------------------------------------------------------

export interface CreateUserOptions {
  /** Mark the user staff (`--staff`): they may open /admin/sessions/. */
  staff?: boolean;
  /** The server whose database gets the user; the test's project server by default. */
  store?: SessionStoreLocation;
}

/**
 * Creates the user `name` with `password` in the project server's database, through the createuser
 * command as an operator would (`createuser NAME --noinput [--staff]` with CREATEUSER_PASSWORD),
 * with the same store environment as the server (its SQLite file, never CI's PostgreSQL URL). The
 * command's `main()` runs in this worker (no `tsx` start-up per user, as in test/cli/in-process.ts;
 * the entry point itself is test/cli/createuser.test.ts's subject). Fails the test with the
 * command's output when it does not succeed.
 */
export async function createUser(
  name: string,
  password: string,
  { staff = false, store = projectOf() }: CreateUserOptions = {},
): Promise<void> {
  const { status, stdout, stderr } = await runInProcess(
    createuserMain,
    [name, "--noinput", ...(staff ? ["--staff"] : [])],
    { ...process.env, ...engineEnv(store), CREATEUSER_PASSWORD: password, NODE_ENV: "test" },
  );
  if (status !== 0) throw new Error(`createuser ${name} failed with status ${status}\n${stdout}${stderr}`);
  expect(stdout, "the command's confirmation").toContain(`Created user ${name}${staff ? " (staff)" : ""}`);
}

let usersMade = 0;
/** A user of the test's own (unique per run, worker and test), made with the createuser CLI. */
export async function newUser(testInfo: TestInfo, password: string, { staff = false } = {}): Promise<string> {
  const name = `${staff ? "staff" : "u"}-${testInfo.workerIndex}-${Date.now().toString(36)}-${(usersMade++).toString(36)}`;
  await createUser(name, password, { staff });
  return name;
}

/** Fills and sends the login form on the current page (which must be /login/). */
export async function submitLogin(page: Page, username: string, password: string): Promise<void> {
  await page.locator("#username").fill(username);
  await page.locator("#password").fill(password);
  await page.locator("#login-button").click();
}

// ---- the browsers a test gets ----------------------------------------------------------------

/** A second browser: a context of its own (its own cookies) on the project's server. */
export interface OtherBrowser {
  context: BrowserContext;
  page: Page;
}

/** The viewport every test starts with (Playwright's default). */
const VIEWPORT = { width: 1280, height: 720 } as const;

/**
 * A browser context and its page kept for all the tests of a worker. Opening a context and a page
 * per test costs a renderer process each time (and, with `screenshot: "only-on-failure"`, a
 * screenshot of every page when the context closes), several times what a short test takes.
 */
class KeptBrowser implements OtherBrowser {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, baseURL: string): Promise<KeptBrowser> {
    const context = await browser.newContext({ baseURL, viewport: VIEWPORT });
    return new KeptBrowser(context, await context.newPage());
  }

  /**
   * What a new context would be, as far as the app can tell: no cookies (the app keeps nothing
   * else in the browser: no storage, no scripts of its own), one page at the default viewport and
   * the mouse in the corner (no hover left over). The next test's first navigation replaces the
   * document, and with it focus and scroll position.
   */
  async reset(): Promise<void> {
    for (const page of this.context.pages()) if (page !== this.page) await page.close();
    await this.context.clearCookies();
    const size = this.page.viewportSize();
    if (size?.width !== VIEWPORT.width || size.height !== VIEWPORT.height) await this.page.setViewportSize(VIEWPORT);
    await this.page.mouse.move(0, 0);
  }
}

/** A worker fixture: one kept browser on the project's server, closed when the worker ends. */
async function keptBrowser(
  { browser }: { browser: Browser },
  use: (kept: KeptBrowser) => Promise<void>,
  workerInfo: WorkerInfo,
): Promise<void> {
  const kept = await KeptBrowser.open(browser, (workerInfo.project.metadata as EngineProject).baseURL);
  await use(kept);
  await kept.context.close();
}

/**
 * Playwright's `test` for these specs: `context` and `page` are a context and page kept for the
 * worker (reset before each test: no cookies, the default viewport, no other pages), and `other`
 * is a second browser with cookies of its own, kept and reset the same way. A failed test ends
 * its worker, so nothing carries over from a failure.
 */
export const test = base.extend<
  { fresh: KeptBrowser; other: OtherBrowser },
  { keptPage: KeptBrowser; keptOther: KeptBrowser }
>({
  keptPage: [keptBrowser, { scope: "worker" }],
  keptOther: [keptBrowser, { scope: "worker" }],
  fresh: async ({ keptPage }, use) => {
    await keptPage.reset();
    await use(keptPage);
  },
  context: async ({ fresh }, use) => use(fresh.context),
  page: async ({ fresh }, use) => use(fresh.page),
  other: async ({ keptOther }, use) => {
    await keptOther.reset();
    await use(keptOther);
  },
});

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
  /** The engine and its stores; kept between start() calls so a restart sees the same sessions. */
  store: SessionStoreLocation;
  port: number;
  secretKey?: string;
}

export interface StoppedServer {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The app as a child process: `node --import tsx src/server.ts` or, under `npm test`, its compiled
 * file (E2E_SERVER_ENTRY); node itself, so the PID we keep
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
    const file = path.join(dir, `${AppServer.uniqueName(name)}.sqlite3`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    return file;
  }

  private static uniqueName(name: string): string {
    return `${name.replace(/[^a-z0-9-]+/gi, "-")}-${process.pid}-${Date.now()}`;
  }

  /**
   * Fresh stores of their own for the project's engine: a new SQLite file, a new session-file
   * directory (file), a new Redis key prefix (cache, cached_db on Redis; an in-process cache
   * stays in-process).
   */
  static storeFor(name: string, testInfo: TestInfo = base.info()): SessionStoreLocation {
    const project = projectOf(testInfo);
    const unique = AppServer.uniqueName(`${name}-${project.engine}`);
    let sessionFilePath: string | null = null;
    if (project.engine === "file") {
      sessionFilePath = path.join(OUTPUT_DIR, "servers", `${unique}-files`);
      rmSync(sessionFilePath, { recursive: true, force: true });
      mkdirSync(sessionFilePath, { recursive: true });
    }
    return {
      engine: project.engine,
      databasePath: AppServer.databaseFor(`${name}-${project.engine}`),
      sessionFilePath,
      cacheBackend: project.cacheBackend,
      redisUrl: project.redisUrl,
      // Under the run's prefix, so the global teardown removes these entries too.
      cacheKeyPrefix: project.cacheKeyPrefix === null ? null : `${project.cacheKeyPrefix}-${unique}`,
    };
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
    // Under `npm test`, the server compiled into .build/ (E2E_SERVER_ENTRY): a third of the start-up CPU.
    const entry = process.env.E2E_SERVER_ENTRY;
    const args = entry
      ? ["--enable-source-maps", entry]
      : ["--conditions=fastify-django-sessions-source", "--import", "tsx", "src/server.ts"];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        // The engine, SQLite (whatever CI exports for the service tests) and the other stores.
        ...engineEnv(this.options.store),
        HOST: "127.0.0.1",
        PORT: String(this.options.port),
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
        throw new Error(
          `server exited before answering (code ${child.exitCode}, signal ${child.signalCode}):\n${this.output}`,
        );
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
