/**
 * More than one server: two real app processes (`node --import tsx src/server.ts`) with the same
 * SECRET_KEY share one store, and a session written, changed or flushed through one is seen by the
 * other. Three setups: `cache` on Redis (each process with a SQLite file of its own, which stays
 * empty), `db` on PostgreSQL (a schema of its own, chosen by `search_path` in DATABASE_URL), and
 * `cached_db` on both. Then one session sends 100 requests at once, half to each process: the
 * locked counter counts all 100, 100 different keys are all kept, and so are 100 cart adds. Redis keys carry a unique
 * prefix; the schema is dropped afterwards.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test, type TestContext } from "node:test";
import SQLite from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";
import { CACHED_DB_KEY_PREFIX } from "fastify-django-sessions";
import { CACHE_KEY_PREFIX } from "fastify-django-sessions";
import { CookieJar, csrfToken, TEST_SECRET } from "./helpers.js";
import { DATABASE_URL, NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "./services.js";
import { PROJECT_ROOT, SERVER_ARGS } from "./processes.js";

const START_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = 120_000;

/** Every app process this file started, so a last `after` can stop what a test left behind. */
const started = new Set<ChildProcess>();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Stops one child we started, by its PID: SIGTERM, SIGKILL after 5 s, each wait bounded. */
async function stopProcess(child: ChildProcess): Promise<void> {
  const running = () => child.exitCode === null && child.signalCode === null;
  if (!running() || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(child.pid, "SIGTERM");
  } catch {
    return; // already gone
  }
  await Promise.race([exited, sleep(5000)]);
  if (running()) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch {
      // exited in between
    }
    await Promise.race([exited, sleep(2000)]);
  }
}

after(async () => {
  await Promise.all([...started].map(stopProcess));
});

/** Cleanup steps of one test, run last-registered first; every step runs even if one fails. */
class Cleanup {
  private readonly steps: Array<() => unknown> = [];
  add(step: () => unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "cleanup failed");
  }
}

// Settings the app reads; an inherited value (a developer's shell) must not change these runs.
const APP_SETTINGS =
  /^(HOST|PORT|DATABASE_PATH|DATABASE_URL|MIGRATE_ON_START|CACHE_\w+|REDIS_URL|LOG_LEVEL|NODE_ENV|SECRET_KEY\w*|SESSION_\w+)$/;

interface AppProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
}

/** Starts `src/server.ts` on a loopback port of its own and resolves once it listens. */
async function startApp(name: string, env: Record<string, string>, cleanup: Cleanup): Promise<AppProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !APP_SETTINGS.test(key)));
  const child = spawn(process.execPath, SERVER_ARGS, {
    cwd: PROJECT_ROOT,
    // NODE_ENV=test: JSON log lines, which loggedErrors reads (development would print pretty ones).
    env: {
      ...inherited,
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      SECRET_KEY: TEST_SECRET,
      PASSWORD_HASHER: "fast",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  cleanup.add(() => stopProcess(child));
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const url = await new Promise<string>((resolve, reject) => {
    const finish = (error: Error | null, found?: string) => {
      clearTimeout(timer);
      child.stdout.off("data", check);
      child.off("exit", exited);
      if (error) reject(error);
      else resolve(found!);
    };
    const check = () => {
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (found) finish(null, found[1]);
    };
    const exited = (code: number | null, signal: string | null) =>
      finish(new Error(`app ${name} exited (${code ?? signal}) before listening\n${output()}`));
    const timer = setTimeout(
      () => finish(new Error(`app ${name} did not listen within ${START_TIMEOUT_MS / 1000} s\n${output()}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.on("data", check);
    child.once("exit", exited);
    check();
  });
  return { name, url, child, output };
}

/** Pino's JSON lines at error level or above. */
function loggedErrors(app: AppProcess): string[] {
  return app
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .filter((line) => {
      try {
        return Number((JSON.parse(line) as { level?: unknown }).level) >= 50;
      } catch {
        return false;
      }
    });
}

interface Page {
  status: number;
  body: string;
  setCookies: string[];
  location: string | null;
}

/** A browser for several servers: one cookie jar, fetch with manual redirects, every wait bounded. */
class Browser {
  readonly jar = new CookieJar();

  async request(
    app: AppProcess,
    path: string,
    init: { form?: Record<string, string>; cookie?: string } = {},
  ): Promise<Page> {
    const headers: Record<string, string> = {};
    const cookie = init.cookie ?? this.jar.header();
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(`${app.url}${path}`, {
      method: init.form ? "POST" : "GET",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const setCookies = response.headers.getSetCookie();
    // A request sent with a cookie other than the jar's (an old key) must not change the jar.
    if (init.cookie === undefined) this.jar.store(setCookies);
    return {
      status: response.status,
      body: await response.text(),
      setCookies,
      location: response.headers.get("location"),
    };
  }

  get sessionKey(): string | undefined {
    return this.jar.cookies.get("sessionid");
  }
}

function visitsOn(page: Page): number | undefined {
  const found = /<strong id="visits">(\d+)<\/strong>/.exec(page.body);
  return found ? Number(found[1]) : undefined;
}

function sessionCookie(page: Page): string | undefined {
  return page.setCookies.find((line) => line.startsWith("sessionid="));
}

function isDeleteCookie(line: string | undefined): boolean {
  return line !== undefined && /^sessionid=(""|);/.test(line) && /Max-Age=0/i.test(line);
}

/** Where a test looks for a session key in the shared store. */
interface SharedStore {
  /** Whether the store holds the session (every place it should be). */
  holds(key: string): Promise<boolean>;
  /** Extra checks while a session is live, e.g. that it is nowhere else. */
  whileLive?(key: string): Promise<void>;
}

/**
 * The scenario every setup runs: a session counted on A, continued on B, continued on A, flushed
 * on B; A then no longer knows the old key.
 */
async function shareOneSession(a: AppProcess, b: AppProcess, store: SharedStore): Promise<void> {
  const browser = new Browser();
  const visit = async (app: AppProcess, expected: number) => {
    const page = await browser.request(app, "/counter/");
    assert.equal(page.status, 200, `GET /counter/ on ${app.name}: ${page.body.slice(0, 300)}`);
    assert.equal(visitsOn(page), expected, `GET /counter/ on ${app.name} counts ${expected}`);
    return page;
  };

  await visit(a, 1);
  const key = browser.sessionKey;
  assert.ok(key, "the first visit sets the sessionid cookie");
  assert.match(key, /^[a-z0-9]{32}$/);
  assert.ok(browser.jar.cookies.has("csrftoken"), "the page sets the csrftoken cookie");
  await visit(a, 2);
  assert.ok(await store.holds(key), "the session is in the shared store");

  // B has never seen this browser; it reads the session A wrote, and A reads what B changed.
  await visit(b, 3);
  const last = await visit(a, 4);
  assert.equal(browser.sessionKey, key, "the key is the same on both processes");
  await store.whileLive?.(key);

  const flush = await browser.request(b, "/session/flush/", { form: { _csrf: csrfToken(last.body) } });
  assert.equal(flush.status, 303, `POST /session/flush/ on B: ${flush.body.slice(0, 300)}`);
  assert.equal(flush.location, "/session/set/");
  assert.ok(isDeleteCookie(sessionCookie(flush)), `B sends the delete cookie: ${JSON.stringify(flush.setCookies)}`);
  assert.equal(browser.sessionKey, undefined, "the jar dropped the session cookie");
  assert.equal(await store.holds(key), false, "the flush removed the session from the shared store");

  // A browser that kept the old cookie (a copy, a race) gets nothing from A any more.
  const csrf = browser.jar.cookies.get("csrftoken");
  const oldCookie = `sessionid=${key}${csrf ? `; csrftoken=${csrf}` : ""}`;
  const json = await browser.request(a, "/session/json/", { cookie: oldCookie });
  assert.equal(json.status, 200);
  // (session_key is read before the session is loaded, so it still echoes the cookie, as in Django.)
  assert.deepEqual(
    (JSON.parse(json.body) as { session: unknown }).session,
    {},
    "A sees an empty session for the old key",
  );
  assert.ok(
    isDeleteCookie(sessionCookie(json)),
    `A sends the delete cookie for the old key: ${JSON.stringify(json.setCookies)}`,
  );

  const fresh = await browser.request(a, "/counter/", { cookie: oldCookie });
  assert.equal(fresh.status, 200);
  assert.equal(visitsOn(fresh), 1, "counting starts over on A");
  const newKey = /^sessionid=([a-z0-9]{32});/.exec(sessionCookie(fresh) ?? "")?.[1];
  assert.ok(newKey, `A sets a new session cookie: ${JSON.stringify(fresh.setCookies)}`);
  assert.notEqual(newKey, key, "the new session has a new key");
  assert.ok(await store.holds(newKey), "the new session is in the shared store");
  assert.equal(await store.holds(key), false, "the old key stays gone");

  await bothAtOnce(a, b);
  for (const app of [a, b]) assert.deepEqual(loggedErrors(app), [], `no errors logged by ${app.name}`);
}

/**
 * One session, many requests at once, half through each process: the locked counter counts
 * every one (its lock lives in the shared store), and different keys set through either are all
 * kept (merged in the store).
 */
async function bothAtOnce(a: AppProcess, b: AppProcess): Promise<void> {
  const browser = new Browser();
  await browser.request(a, "/counter/");
  const hits = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      browser.request(i % 2 ? a : b, "/counter/", { cookie: browser.jar.header() }),
    ),
  );
  assert.deepEqual([...new Set(hits.map((page) => page.status))], [200]);
  const counts = hits.map((page) => visitsOn(page)!).sort((x, y) => x - y);
  assert.deepEqual(
    counts,
    Array.from({ length: 100 }, (_, i) => i + 2),
    "every hit saw the one before it, whichever process served it",
  );
  const sets = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      browser.request(i % 2 ? a : b, `/session/set/?key=k${i}&value=${i}`, { cookie: browser.jar.header() }),
    ),
  );
  assert.deepEqual([...new Set(sets.map((page) => page.status))], [200]);
  const token = csrfToken((await browser.request(a, "/cart/")).body);
  const adds = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      browser.request(i % 2 ? a : b, "/cart/add/", {
        form: { _csrf: token, item: `item ${i}` },
        cookie: browser.jar.header(),
      }),
    ),
  );
  assert.deepEqual([...new Set(adds.map((page) => page.status))], [303]);
  const json = JSON.parse((await browser.request(b, "/session/json/")).body) as { session: Record<string, unknown> };
  assert.equal(json.session.visits, 101);
  const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => json.session[`k${i}`] === String(i));
  assert.equal(kept.length, 100, `kept ${kept.length} of 100 keys`);
  assert.equal((json.session.cart as string[]).length, 100, "every cart add kept");
}

// ----- the stores, looked at directly -----

function redisProbe(cleanup: Cleanup) {
  const prefix = uniquePrefix("multi");
  const redis = new Redis(REDIS_URL!, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    commandTimeout: 5000,
  });
  cleanup.add(async () => {
    try {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });
  return {
    prefix,
    /**
     * Whether `<prefix>:1:<sessionPrefix><key>` (Django's cache key function) holds session data:
     * a JSON object, not one of cached_db's marks or tombstones ("!...").
     */
    async has(sessionPrefix: string, key: string): Promise<boolean> {
      if (redis.status === "wait") await redis.connect();
      return (await redis.get(`${prefix}:1:${sessionPrefix}${key}`))?.startsWith("{") ?? false;
    },
    async keys(): Promise<string[]> {
      if (redis.status === "wait") await redis.connect();
      return redis.keys(`${prefix}:*`);
    },
  };
}

async function withPg<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: DATABASE_URL,
    connectionTimeoutMillis: 5000,
    query_timeout: 10_000,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function tableExists(schema: string, table: string): Promise<boolean> {
  return withPg(async (client) => {
    const { rows } = await client.query<{ found: string | null }>("select to_regclass($1)::text as found", [
      `${schema}.${table}`,
    ]);
    return rows[0]?.found != null;
  });
}

/** The app's DATABASE_URL for a schema of its own: libpq's `options`, which pg honours too. */
function urlInSchema(schema: string): string {
  const separator = DATABASE_URL!.includes("?") ? "&" : "?";
  return `${DATABASE_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * An empty schema for the app to migrate itself into, dropped afterwards; public must have no
 * sessions table before and after, so the one in the schema can only be the app's.
 */
async function postgresProbe(cleanup: Cleanup) {
  const schema = `t_multi_${randomBytes(4).toString("hex")}`;
  assert.equal(await tableExists("public", "sessions"), false, "precondition: public has no sessions table");
  await withPg((client) => client.query(`create schema ${schema}`));
  cleanup.add(async () => {
    await withPg((client) => client.query(`drop schema if exists ${schema} cascade`));
    assert.equal(await tableExists("public", "sessions"), false, "afterwards public still has no sessions table");
  });
  return {
    schema,
    url: urlInSchema(schema),
    async has(key: string): Promise<boolean> {
      return withPg(async (client) => {
        const { rows } = await client.query(`select 1 from ${schema}.sessions where session_key = $1`, [key]);
        return rows.length === 1;
      });
    },
    /** The app's tables are in the schema and not in public. */
    async checkTables(): Promise<void> {
      for (const table of ["sessions", "kysely_migration", "kysely_migration_lock"]) {
        assert.ok(await tableExists(schema, table), `${table} was created in ${schema}`);
        assert.equal(await tableExists("public", table), false, `${table} is not in public`);
      }
    },
  };
}

/** A test's cleanup, run by its after hook even when it fails, and a temp directory of its own. */
function setUp(t: TestContext): { cleanup: Cleanup; dir: string } {
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  const dir = mkdtempSync(join(tmpdir(), "multi-process-test-"));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return { cleanup, dir };
}

describe("more than one server", { concurrency: true, timeout: TEST_TIMEOUT_MS * 2 }, () => {
  test(
    "cache engine on Redis: the session lives only in Redis",
    { skip: NO_REDIS, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { cleanup, dir } = setUp(t);
      const redis = redisProbe(cleanup);
      const sqlite = { A: join(dir, "a.sqlite3"), B: join(dir, "b.sqlite3") };
      const env = (name: "A" | "B") => ({
        SESSION_ENGINE: "cache",
        CACHE_BACKEND: "redis",
        REDIS_URL: REDIS_URL!,
        CACHE_KEY_PREFIX: redis.prefix,
        DATABASE_URL: "",
        DATABASE_PATH: sqlite[name],
      });
      const [a, b] = await Promise.all([startApp("A", env("A"), cleanup), startApp("B", env("B"), cleanup)]);

      await shareOneSession(a, b, {
        holds: (key) => redis.has(CACHE_KEY_PREFIX, key),
        async whileLive(key) {
          assert.deepEqual(
            await redis.keys(),
            [`${redis.prefix}:1:${CACHE_KEY_PREFIX}${key}`],
            "Redis holds the one session",
          );
          for (const [name, path] of Object.entries(sqlite)) {
            const db = new SQLite(path, { readonly: true, fileMustExist: true });
            try {
              const { n } = db.prepare("select count(*) as n from sessions").get() as { n: number };
              assert.equal(n, 0, `process ${name}'s SQLite file has no session rows`);
            } finally {
              db.close();
            }
          }
        },
      });
    },
  );

  test(
    "db engine on PostgreSQL: both processes in one schema",
    { skip: NO_POSTGRES, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { cleanup, dir } = setUp(t);
      const pgStore = await postgresProbe(cleanup);
      const env = (name: string) => ({
        SESSION_ENGINE: "db",
        DATABASE_URL: pgStore.url,
        DATABASE_PATH: join(dir, `${name}.sqlite3`),
        CACHE_BACKEND: "locmem",
      });
      const [a, b] = await Promise.all([startApp("A", env("a"), cleanup), startApp("B", env("b"), cleanup)]);
      await pgStore.checkTables();

      await shareOneSession(a, b, { holds: (key) => pgStore.has(key) });
    },
  );

  test(
    "cached_db engine on PostgreSQL and Redis: both places agree",
    { skip: NO_REDIS || NO_POSTGRES, timeout: TEST_TIMEOUT_MS },
    async (t) => {
      const { cleanup, dir } = setUp(t);
      const redis = redisProbe(cleanup);
      const pgStore = await postgresProbe(cleanup);
      const env = (name: string) => ({
        SESSION_ENGINE: "cached_db",
        DATABASE_URL: pgStore.url,
        DATABASE_PATH: join(dir, `${name}.sqlite3`),
        CACHE_BACKEND: "redis",
        REDIS_URL: REDIS_URL!,
        CACHE_KEY_PREFIX: redis.prefix,
      });
      const [a, b] = await Promise.all([startApp("A", env("a"), cleanup), startApp("B", env("b"), cleanup)]);
      await pgStore.checkTables();

      await shareOneSession(a, b, {
        // Write-through: a live session is in both; a flushed one in neither.
        async holds(key) {
          const [inDb, inCache] = await Promise.all([pgStore.has(key), redis.has(CACHED_DB_KEY_PREFIX, key)]);
          assert.equal(inCache, inDb, `the cache and the database agree about ${key}`);
          return inDb;
        },
      });
    },
  );

  test(
    "the app migrates its own schema while another schema has kysely_migration",
    {
      skip: NO_POSTGRES,
      timeout: TEST_TIMEOUT_MS,
    },
    async (t) => {
      const { cleanup, dir } = setUp(t);
      const other = await postgresSchema("multi_other"); // migrated with its own kysely_migration
      cleanup.add(() => other.drop());
      const pgStore = await postgresProbe(cleanup);
      const app = await startApp(
        "A",
        { SESSION_ENGINE: "db", DATABASE_URL: pgStore.url, DATABASE_PATH: join(dir, "a.sqlite3") },
        cleanup,
      );
      await pgStore.checkTables();
      const page = await new Browser().request(app, "/counter/");
      assert.equal(page.status, 200);
    },
  );
});
