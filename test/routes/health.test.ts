/**
 * GET /healthz: 200 while the database (and Redis, when the session cache is Redis) answer; 503
 * naming what failed, with a short reason and a warning in the log, when one does not; never a
 * hang, never the session.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { describe, test, type TestContext } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { openPostgres, openSqlite, type OpenedDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrations.js";
import { loggerOptions } from "../../src/logging.js";
import { openRuntime } from "../../src/runtime.js";
import { createSessionEngine, RedisCache, type SessionCache } from "fastify-django-sessions";
import { appFixture, TEST_SECRET } from "../helpers.js";
import { DATABASE_URL, NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "../services.js";
import { freePort } from "../processes.js";

type LogLine = Record<string, unknown>;

interface Health {
  status: string;
  checks: Record<string, string>;
}

/**
 * The app on `database` with these caches, logging JSON lines into `logs`. The session engine
 * runs on an in-memory SQLite of its own: /healthz must not need it.
 */
async function healthApp(t: TestContext, database: OpenedDatabase, caches: Record<string, SessionCache> = {}) {
  const config = loadConfig({
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: "info",
    DATABASE_URL: "",
    NODE_ENV: "test",
    PASSWORD_HASHER: "fast",
  });
  const logs: LogLine[] = [];
  const stream = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };
  const sessionsDb = openSqlite(":memory:");
  await migrateToLatest(sessionsDb.db);
  const engine = await createSessionEngine(config.session, { db: sessionsDb.db });
  const app = await buildApp(config, {
    db: database.db,
    engine,
    runtime: { database, caches },
    logger: loggerOptions(config, stream),
  });
  t.after(async () => {
    await app.close();
    await Promise.all(Object.values(caches).map((cache) => cache.close()));
    await sessionsDb.db.destroy();
  });
  return { app, logs };
}

async function probe(app: FastifyInstance, cookie?: string) {
  const response = await app.inject({ method: "GET", url: "/healthz", headers: cookie ? { cookie } : {} });
  return { response, health: JSON.parse(response.body) as Health };
}

function assertNoStack(body: string): void {
  assert.doesNotMatch(body, /\n\s+at |\bat .+:\d+:\d+\)|node:internal|node_modules/, "no stack trace in the answer");
}

/** The one warning the failed probe logged. */
function failureLog(logs: LogLine[]): LogLine {
  const warnings = logs.filter((l) => l.level === 40 && String(l.msg).startsWith("health check failed"));
  assert.equal(warnings.length, 1, `one warning: ${JSON.stringify(logs)}`);
  return warnings[0]!;
}

test("200 on SQLite: the database answers; no Redis check without a Redis cache; quiet and sessionless", async () => {
  const f = await appFixture();
  const { response, health } = await probe(f.app);
  assert.equal(response.statusCode, 200);
  assert.deepEqual(health, { status: "ok", checks: { database: "ok" } });
  assert.match(String(response.headers["content-type"]), /^application\/json/);
  assert.equal(response.headers["cache-control"], "no-store");
  assert.equal(response.headers["set-cookie"], undefined, "no session or CSRF cookie");

  // A session cookie for a key the store does not have: a page reads the session and deletes the
  // cookie, the probe does not look at it at all.
  const stale = `sessionid=${"a".repeat(32)}`;
  const page = await f.app.inject({ method: "GET", url: "/counter/", headers: { cookie: stale } });
  assert.ok(
    [page.headers["set-cookie"]].flat().some((c) => String(c).startsWith("sessionid=")),
    "a page answers the cookie",
  );
  const withCookie = await probe(f.app, stale);
  assert.equal(withCookie.response.statusCode, 200);
  assert.equal(withCookie.response.headers["set-cookie"], undefined, "the probe leaves the session alone");
  assert.equal(await f.engine.open(null).exists("a".repeat(32)), false, "and creates nothing");

  const logged = f.logs.length;
  for (let i = 0; i < 3; i++) assert.equal((await probe(f.app)).response.statusCode, 200);
  assert.deepEqual(f.logs.slice(logged), [], "a healthy probe logs nothing");

  const head = await f.app.inject({ method: "HEAD", url: "/healthz" });
  assert.equal(head.statusCode, 200);
  await f.app.close();
});

test("503 naming redis, with a short reason and a warning, when the Redis cache cannot be reached", async (t) => {
  const port = await freePort();
  const database = openSqlite(":memory:");
  t.after(() => database.db.destroy());
  const { app, logs } = await healthApp(t, database, { default: new RedisCache({ url: `redis://127.0.0.1:${port}` }) });
  const { response, health } = await probe(app);
  assert.equal(response.statusCode, 503);
  assert.equal(health.status, "unavailable");
  assert.deepEqual(Object.keys(health.checks).sort(), ["database", "redis"]);
  assert.equal(health.checks.database, "ok");
  assert.equal(health.checks.redis, `unavailable: connect ECONNREFUSED 127.0.0.1:${port}`);
  assertNoStack(response.body);
  const line = failureLog(logs);
  assert.equal(line.msg, `health check failed: redis unavailable: connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.deepEqual(line.checks, health.checks);
  assert.equal(line.stack, undefined);
});

test("503 naming the database when PostgreSQL refuses the connection", async (t) => {
  const port = await freePort();
  const database = openPostgres(`postgres://postgres@127.0.0.1:${port}/test`);
  t.after(() => database.db.destroy());
  const { app, logs } = await healthApp(t, database);
  const { response, health } = await probe(app);
  assert.equal(response.statusCode, 503);
  assert.deepEqual(health, {
    status: "unavailable",
    checks: { database: `unavailable: connect ECONNREFUSED 127.0.0.1:${port}` },
  });
  assertNoStack(response.body);
  assert.equal(
    failureLog(logs).msg,
    `health check failed: database unavailable: connect ECONNREFUSED 127.0.0.1:${port}`,
  );
});

test("503 naming the database when its connection is closed (SQLite)", async () => {
  const f = await appFixture();
  await f.db.destroy();
  const { response, health } = await probe(f.app);
  assert.equal(response.statusCode, 503);
  assert.equal(health.status, "unavailable");
  assert.match(health.checks.database!, /^unavailable: \S.{0,200}$/);
  assert.doesNotMatch(health.checks.database!, /\n/);
  assertNoStack(response.body);
  assert.match(String(failureLog(f.logs).msg), /^health check failed: database unavailable: /);
  await f.app.close();
});

test("a database that accepts the connection and never answers: 503 after the check's timeout, not a hang", async (t) => {
  // A TCP server that takes connections and says nothing: PostgreSQL hung.
  const sockets = new Set<Socket>();
  const silent: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const address = silent.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const database = openPostgres(`postgres://postgres@127.0.0.1:${port}/test`);
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await database.db.destroy();
  });
  const { app, logs } = await healthApp(t, database);
  const { response, health } = await probe(app);
  assert.equal(response.statusCode, 503);
  // pg itself would give up only after its 5 s connection timeout, with another message.
  assert.deepEqual(health, { status: "unavailable", checks: { database: "unavailable: no answer within 2000 ms" } });
  assert.ok(sockets.size > 0, "the probe did reach the silent server");
  assert.equal(failureLog(logs).msg, "health check failed: database unavailable: no answer within 2000 ms");
});

describe("against the real services", () => {
  test("200 with PostgreSQL and Redis: both checked", { skip: NO_POSTGRES || NO_REDIS }, async (t) => {
    const schema = await postgresSchema("health");
    t.after(() => schema.drop());
    const separator = DATABASE_URL!.includes("?") ? "&" : "?";
    const config = loadConfig({
      SECRET_KEY: TEST_SECRET,
      PASSWORD_HASHER: "fast",
      LOG_LEVEL: "info",
      NODE_ENV: "test",
      DATABASE_URL: `${DATABASE_URL}${separator}options=${encodeURIComponent(`-c search_path=${schema.schema}`)}`,
      SESSION_ENGINE: "cached_db",
      CACHE_BACKEND: "redis",
      REDIS_URL: REDIS_URL!,
      CACHE_KEY_PREFIX: uniquePrefix("health"),
    });
    const runtime = await openRuntime(config);
    t.after(() => runtime.close().catch(() => {}));
    assert.equal(runtime.database.dialect, "postgres");
    const logs: LogLine[] = [];
    const stream = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };
    const app = await buildApp(config, {
      db: runtime.database.db,
      engine: runtime.engine,
      runtime,
      logger: loggerOptions(config, stream),
    });
    t.after(() => app.close());
    const { response, health } = await probe(app);
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(health, { status: "ok", checks: { database: "ok", redis: "ok" } });
    assert.deepEqual(
      logs.filter((l) => Number(l.level) >= 40),
      [],
    );

    // What shutdown runs last: runtime.close() ends the PostgreSQL pool and the Redis client.
    await runtime.close();
    const closed = await probe(app);
    assert.equal(closed.response.statusCode, 503);
    assert.equal(closed.health.status, "unavailable");
    assert.match(closed.health.checks.database!, /^unavailable: /);
    assert.match(closed.health.checks.redis!, /^unavailable: /);
  });

  test(
    "Redis as the cache backend but an engine that does not use a cache: no Redis check",
    { skip: NO_REDIS },
    async (t) => {
      const config = loadConfig({
        SECRET_KEY: TEST_SECRET,
        PASSWORD_HASHER: "fast",
        LOG_LEVEL: "silent",
        NODE_ENV: "test",
        DATABASE_URL: "",
        DATABASE_PATH: ":memory:",
        SESSION_ENGINE: "db",
        CACHE_BACKEND: "redis",
        REDIS_URL: REDIS_URL!,
      });
      const runtime = await openRuntime(config);
      t.after(() => runtime.close());
      const app = await buildApp(config, { db: runtime.database.db, engine: runtime.engine, runtime });
      t.after(() => app.close());
      const { response, health } = await probe(app);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(health, { status: "ok", checks: { database: "ok" } });
    },
  );
});
