/** Shared fixtures: an in-memory SQLite with migrations applied, settings, a controllable clock. */
import type { FastifyInstance } from "fastify";
import type { Kysely } from "kysely";
import { openSqlite, type Database, type OpenedDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";
import {
  MemoryCache,
  createSessionEngine,
  toSqliteDatetime,
  type SessionCache,
  resolveSessionSettings,
  type SessionEngine,
  type SessionLogger,
  type SessionSettings,
  type SessionSettingsInput,
} from "fastify-django-sessions";

export const TEST_SECRET = "test-secret-key-123";

export function testSettings(overrides: Partial<SessionSettingsInput> = {}): SessionSettings {
  return resolveSessionSettings({ SECRET_KEY: TEST_SECRET, ...overrides });
}

/** One call to a SessionLogger, as recordingLogger keeps it. */
export interface LogEntry {
  obj: Record<string, unknown>;
  msg: string;
}

/** A SessionLogger that keeps what it is told, warnings and errors apart, for assertions. */
export function recordingLogger(): SessionLogger & { warnings: LogEntry[]; errors: LogEntry[] } {
  const warnings: LogEntry[] = [];
  const errors: LogEntry[] = [];
  return {
    warnings,
    errors,
    warn(obj, msg) {
      warnings.push({ obj: obj as Record<string, unknown>, msg });
    },
    error(obj, msg) {
      errors.push({ obj: obj as Record<string, unknown>, msg });
    },
  };
}

/** A clock tests can move: `clock.now()` in ms, `clock.advance(seconds)`. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 22, 1, 0, 0)) {}
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** A migrated in-memory SQLite: the kysely instance and the better-sqlite3 handle behind it. */
export async function memoryStore(): Promise<{ db: Kysely<Database>; sqlite: NonNullable<OpenedDatabase["sqlite"]> }> {
  const { db, sqlite } = openSqlite(":memory:");
  await migrateToLatest(db);
  return { db, sqlite: sqlite! };
}

export async function memoryDatabase(): Promise<Kysely<Database>> {
  return (await memoryStore()).db;
}

export interface EngineFixture {
  db: Kysely<Database>;
  /** The better-sqlite3 handle behind `db`, which the engine uses directly. */
  sqlite: NonNullable<OpenedDatabase["sqlite"]>;
  engine: SessionEngine;
  settings: SessionSettings;
  clock: TestClock;
}

export async function dbFixture(overrides: Partial<SessionSettingsInput> = {}): Promise<EngineFixture> {
  const { db, sqlite } = await memoryStore();
  const settings = testSettings(overrides);
  const clock = new TestClock();
  const engine = await createSessionEngine(settings, { db, sqlite }, { now: clock.now });
  return { db, sqlite, engine, settings, clock };
}

/** Where the demo app of appFixture keeps things, when not an in-memory SQLite and cache. */
export interface FixtureStores {
  /** A migrated PostgreSQL database (e.g. a schema from test/services.ts). */
  database?: Pick<OpenedDatabase, "db" | "dateValue">;
  /** The `default` cache (e.g. a RedisCache with a unique prefix). */
  cache?: SessionCache;
}

/** The demo app on an in-memory database, configured as from these environment variables. */
export async function appFixture(env: Record<string, string> = {}, stores: FixtureStores = {}) {
  const { buildApp } = await import("../src/app.js");
  const { loadConfig } = await import("../src/config.js");
  const { loggerOptions } = await import("../src/logging.js");
  const memory = stores.database ? undefined : await memoryStore();
  const db = stores.database?.db ?? memory!.db;
  const dateValue = stores.database?.dateValue ?? toSqliteDatetime;
  // The cheap hasher: a password hash is not what these tests are about (test/auth/passwords.test.ts is).
  const config = loadConfig({ SECRET_KEY: TEST_SECRET, LOG_LEVEL: "silent", PASSWORD_HASHER: "fast", ...env });
  const logs: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const caches = { default: stores.cache ?? new MemoryCache() };
  const engine = await createSessionEngine(config.session, {
    db,
    dateValue,
    caches,
    ...(memory ? { sqlite: memory.sqlite } : {}),
  });
  // The app's own logger options (serializers, redaction), as JSON lines into `logs`.
  const app = await buildApp(config, {
    db,
    engine,
    ...(stores.database
      ? {
          runtime: {
            database: { db, dateValue, dialect: "postgres", location: "test", close: () => db.destroy() },
            caches,
          },
        }
      : {}),
    logger: loggerOptions({ ...config, logLevel: "info" }, stream),
    caches,
  });
  return { app, db, config, engine, logs };
}

/**
 * Counts the SQL statements `sqlite` runs (through kysely or directly), transaction control
 * (BEGIN, COMMIT, SAVEPOINT, ...) left out. Call `restore()` when done.
 */
export function countStatements(sqlite: EngineFixture["sqlite"]) {
  const proto = Object.getPrototypeOf(sqlite.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  const statements: string[] = [];
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method]!;
    originals.set(method, original);
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (!/^\s*(begin|commit|rollback|savepoint|release)\b/i.test(this.source)) statements.push(this.source);
      return original.apply(this, args);
    };
  }
  return {
    statements,
    count: () => statements.length,
    reset: () => void statements.splice(0),
    restore: () => {
      for (const [method, original] of originals) proto[method] = original;
    },
  };
}

/** A browser-like cookie jar for inject(): keeps what Set-Cookie says, sends it back. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      // A browser drops a cookie whose Max-Age is zero or negative (a negative setExpiry()).
      if (/Max-Age=(0|-\d+)/.test(line) || value === "" || value === '""') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** The hidden `_csrf` field of the first form on a page. */
export function csrfToken(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error("no CSRF token on the page");
  return token;
}

/** A browser stand-in for inject(): keeps cookies, GETs pages and POSTs their forms with the token. */
export function visitor(app: { inject: FastifyInstance["inject"] }) {
  const jar = new CookieJar();
  let lastToken = "";
  return {
    jar,
    // Arrow functions, so a test can destructure them: const { get, post } = visitor(app).
    get: async (url: string) => {
      const response = await app.inject({ method: "GET", url, headers: { cookie: jar.header() } });
      jar.store(response.headers["set-cookie"]);
      if (String(response.headers["content-type"]).startsWith("text/html") && /name="_csrf"/.test(response.body)) {
        lastToken = csrfToken(response.body);
      }
      return response;
    },
    /** `token` null sends the form without its CSRF token. */
    post: async (url: string, fields: Record<string, string> = {}, token: string | null = lastToken) => {
      const response = await app.inject({
        method: "POST",
        url,
        payload: new URLSearchParams(token === null ? fields : { _csrf: token, ...fields }).toString(),
        headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
      });
      jar.store(response.headers["set-cookie"]);
      return response;
    },
    sessionKey: () => jar.cookies.get("sessionid"),
  };
}

/** The one-time notice a page shows (`#notice`), its messages unescaped and one per line, or null. */
export function noticeOf(html: string): string | null {
  const match = /<div class="flash feedback" id="notice" role="status">(.*?)<\/div>/s.exec(html);
  if (!match) return null;
  const messages = [...match[1]!.matchAll(/<p>([^<]*)<\/p>/g)].map((m) =>
    m[1]!.replace(/&#39;/g, "'").replace(/&#34;/g, '"').replace(/&amp;/g, "&"),
  );
  return messages.join("\n");
}
