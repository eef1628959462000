/**
 * PostgreSQL not there (nothing listens on its port): pages that need the database answer 503
 * with the app's error page and one log line, never a 500 or a stack trace; the errors that mean
 * "unreachable right now" are told from the ones that are bugs. No PostgreSQL needed.
 * test/db/postgres-restart.test.ts restarts a real one under load.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { isDatabaseUnavailable } from "../../src/db/connection-errors.js";
import { openPostgres } from "../../src/db/database.js";
import { loggerOptions } from "../../src/logging.js";
import { createSessionEngine } from "fastify-django-sessions";
import { TEST_SECRET } from "../helpers.js";
import { freePort } from "../processes.js";

test("GET /counter/ with PostgreSQL down: a 503 page saying the store is unavailable, logged in one line", async (t) => {
  const port = await freePort();
  const database = openPostgres(`postgres://postgres@127.0.0.1:${port}/test`);
  const config = loadConfig({
    SECRET_KEY: TEST_SECRET,
    LOG_LEVEL: "info",
    DATABASE_URL: database.location,
    NODE_ENV: "test",
    PASSWORD_HASHER: "fast",
  });
  const logs: Array<Record<string, unknown>> = [];
  const engine = await createSessionEngine(config.session, { db: database.db, dateValue: database.dateValue });
  const app = await buildApp(config, {
    db: database.db,
    engine,
    runtime: { database, caches: {} },
    logger: loggerOptions(config, { write: (line) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
  });
  t.after(async () => {
    await app.close();
    await database.close();
  });

  const response = await app.inject({ url: "/counter/", headers: { cookie: `sessionid=${"a".repeat(32)}` } });
  assert.equal(response.statusCode, 503);
  assert.match(response.headers["content-type"] as string, /^text\/html/);
  assert.match(response.body, /Service Unavailable \(503\)/);
  assert.match(response.body, /The session store is unavailable right now\. Please try again in a moment\./);
  assert.doesNotMatch(response.body, /ECONNREFUSED|\n\s+at |node_modules/, "no error details or stack trace");
  assert.equal(response.headers["set-cookie"], undefined, "the cookie the browser has is left alone");

  const lines = logs.filter((l) => l.msg === "database unavailable: answered 503");
  assert.equal(lines.length, 1, JSON.stringify(logs));
  assert.equal(lines[0]!.level, 50);
  assert.equal(lines[0]!.code, "ECONNREFUSED");
  assert.equal(lines[0]!.reason, `connect ECONNREFUSED 127.0.0.1:${port}`);
  assert.equal(lines[0]!.err, undefined, "no stack trace per request");
  assert.equal(logs.filter((l) => l.msg === "request failed").length, 0);
});

test("which errors count as the database being unreachable", () => {
  const withCode = (message: string, code: string, extra: object = {}) =>
    Object.assign(new Error(message), { code, ...extra });
  const unavailable = [
    withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
    withCode("terminating connection due to administrator command", "57P01"),
    withCode("the database system is starting up", "57P03"),
    withCode("the database system is shutting down", "57P03"),
    withCode("sorry, too many clients already", "53300"),
    withCode("connection failure", "08006"),
    withCode("read ECONNRESET", "ECONNRESET"),
    withCode("connect ENOENT /tmp/.s.PGSQL.5432", "ENOENT", { syscall: "connect" }),
    new Error("Connection terminated unexpectedly"),
    new Error("Connection terminated due to connection timeout"),
    new Error("timeout exceeded when trying to connect"),
    new Error("Client has encountered a connection error and is not queryable"),
    new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], ""),
    new Error("wrapped", { cause: withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED") }),
  ];
  for (const error of unavailable) assert.equal(isDatabaseUnavailable(error), true, error.message);
  const bugs = [
    withCode('relation "sessions" does not exist', "42P01"),
    withCode("duplicate key value violates unique constraint", "23505"),
    withCode("terminating connection: database dropped", "57P04"),
    withCode("ENOENT: no such file or directory, open 'views/x.ejs'", "ENOENT", { syscall: "open" }),
    new Error("Cannot read properties of undefined"),
    "Connection terminated unexpectedly",
    undefined,
  ];
  for (const error of bugs) assert.equal(isDatabaseUnavailable(error), false, String(error));
});
