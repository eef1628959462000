/**
 * How the engines differ at the edges (docs/django-sessions.md#how-the-engines-differ-at-the-edges),
 * over HTTP: how each engine answers the same edge situations, as a
 * request that reads the session sees it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createSessionEngine, MemoryCache, sessions, type SessionEngine } from "../src/index.js";
import { memoryDatabase, TestClock, testSettings } from "../../../test/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "engine-differences-"));
after(() => rmSync(directory, { recursive: true, force: true }));

const DELETE = /^sessionid=""; Max-Age=0;/;
const NEW_KEY = /^sessionid=([a-z0-9]{32}); Max-Age=1209600;/;
const EMPTY_SIGNED = /^sessionid=e30:[0-9A-Za-z]+:[\w-]{43}; Max-Age=1209600;/;

type Engine = "db" | "cache" | "cached_db" | "file" | "signed_cookies";
const SERVER_SIDE: Engine[] = ["db", "cache", "cached_db", "file"];

interface Harness {
  app: FastifyInstance;
  engine: SessionEngine;
  clock: TestClock;
  /** Saves a session with these values (and expiry) and returns its cookie value. */
  seed(values: Record<string, string>, expiry?: number): Promise<string>;
  read(cookie: string): Promise<{ status: number; body: string; setCookie: string }>;
}

async function harness(name: Engine): Promise<Harness> {
  const clock = new TestClock();
  const settings = testSettings({ SESSION_ENGINE: name, SESSION_FILE_PATH: directory });
  const engine = await createSessionEngine(
    settings,
    { db: await memoryDatabase(), caches: { default: new MemoryCache({ now: clock.now }) } },
    { now: clock.now },
  );
  const app = Fastify();
  await app.register(sessions, { engine });
  app.get("/read", async (request) => {
    const value = request.session.get("a", "none");
    return typeof value === "string" ? value : JSON.stringify(value);
  });
  app.get("/write-after-delete", async (request) => {
    // This request has read its session when a concurrent logout deletes the record.
    request.session.get("a");
    const other = engine.open(request.session.sessionKey);
    await other.deleteRecord();
    request.session.set("a", "late");
    return "ok";
  });
  app.get("/big", async (request) => {
    request.session.set("big", randomBytes(4000).toString("base64"));
    return "ok";
  });
  app.setErrorHandler((error: Error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send(`${status}: ${error.message}`);
  });
  after(() => app.close());
  return {
    app,
    engine,
    clock,
    async seed(values, expiry) {
      const session = engine.open(null);
      session.update(values);
      if (expiry !== undefined) session.setExpiry(expiry);
      await session.save();
      return session.sessionKey!;
    },
    async read(cookie) {
      const r = await app.inject({ url: "/read", headers: { cookie: `sessionid=${cookie}` } });
      return { status: r.statusCode, body: r.body, setCookie: String(r.headers["set-cookie"] ?? "") };
    },
  };
}

describe("edge outcomes by engine", () => {
  for (const name of SERVER_SIDE) {
    test(`${name}: an unknown key gives the delete cookie`, async () => {
      const h = await harness(name);
      const r = await h.read("unknownkeyunknownkeyunknownkey00");
      assert.equal(r.body, "none");
      assert.match(r.setCookie, DELETE);
    });
  }

  test("signed_cookies: an unknown (unsigned) value gives a new cookie holding a signed empty dict", async () => {
    const h = await harness("signed_cookies");
    const r = await h.read("unknownkeyunknownkeyunknownkey00");
    assert.equal(r.body, "none");
    assert.match(r.setCookie, EMPTY_SIGNED);
  });

  for (const name of ["db", "cache", "cached_db"] as const) {
    test(`${name}: a negative expiry reads as expired: delete cookie`, async () => {
      const h = await harness(name);
      const key = await h.seed({ a: "x" }, -10);
      assert.match((await h.read(key)).setCookie, DELETE);
    });

    test(`${name}: a positive expiry that has elapsed: delete cookie`, async () => {
      const h = await harness(name);
      const key = await h.seed({ a: "x" }, 60);
      h.clock.advance(61);
      assert.match((await h.read(key)).setCookie, DELETE);
    });

    test(`${name}: SESSION_COOKIE_AGE elapsed since the last save: delete cookie`, async () => {
      const h = await harness(name);
      const key = await h.seed({ a: "x" });
      h.clock.advance(1_209_600 + 1);
      assert.match((await h.read(key)).setCookie, DELETE);
    });
  }

  test("file: an expired session gets a new key at once, with the default age", async () => {
    const h = await harness("file");
    const key = await h.seed({ a: "x" }, -10);
    const r = await h.read(key);
    assert.equal(r.body, "none");
    const fresh = NEW_KEY.exec(r.setCookie)?.[1];
    assert.ok(fresh && fresh !== key, r.setCookie);
  });

  test("file: a positive integer expiry never expires server-side (Django's quirk)", async () => {
    const h = await harness("file");
    const key = await h.seed({ a: "x" }, 60);
    h.clock.advance(3600);
    assert.equal((await h.read(key)).body, "x");
  });

  test("file: SESSION_COOKIE_AGE elapsed gives a new key cookie", async () => {
    const h = await harness("file");
    const key = await h.seed({ a: "x" });
    h.clock.advance(1_209_600 + 1);
    const r = await h.read(key);
    assert.ok(NEW_KEY.exec(r.setCookie)?.[1] !== key, r.setCookie);
    assert.match(r.setCookie, NEW_KEY);
  });

  test("signed_cookies: a per-session expiry is not enforced server-side", async () => {
    const h = await harness("signed_cookies");
    const value = await h.seed({ a: "x" }, -10);
    assert.equal((await h.read(value)).body, "x");
  });

  test("signed_cookies: SESSION_COOKIE_AGE elapsed gives a new signed empty cookie", async () => {
    const h = await harness("signed_cookies");
    const value = await h.seed({ a: "x" });
    h.clock.advance(1_209_600 + 1);
    const r = await h.read(value);
    assert.equal(r.body, "none");
    assert.match(r.setCookie, EMPTY_SIGNED);
  });

  test("signed_cookies: a tampered cookie gives a new signed empty cookie", async () => {
    const h = await harness("signed_cookies");
    const value = await h.seed({ a: "x" });
    const r = await h.read(value.slice(0, -2) + (value.endsWith("AA") ? "BB" : "AA"));
    assert.equal(r.body, "none");
    assert.match(r.setCookie, EMPTY_SIGNED);
  });

  for (const name of SERVER_SIDE) {
    test(`${name}: a record deleted during the request, then modified: 400`, async () => {
      const h = await harness(name);
      const key = await h.seed({ a: "x" });
      const r = await h.app.inject({ url: "/write-after-delete", headers: { cookie: `sessionid=${key}` } });
      assert.equal(r.statusCode, 400);
      assert.equal(r.headers["set-cookie"], undefined);
    });
  }

  test("signed_cookies: a 'deleted' record cannot be detected: 200 with a cookie", async () => {
    const h = await harness("signed_cookies");
    const value = await h.seed({ a: "x" });
    const r = await h.app.inject({ url: "/write-after-delete", headers: { cookie: `sessionid=${value}` } });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers["set-cookie"]), /^sessionid=[^;]+:[^;]+:[^;]+; Max-Age=1209600;/);
  });

  test("signed_cookies: a session too big for a cookie is refused, not dropped by the browser", async () => {
    const h = await harness("signed_cookies");
    const r = await h.app.inject({ url: "/big" });
    assert.equal(r.statusCode, 500);
    assert.match(r.body, /too large to keep in a cookie \(\d{4,} bytes; browsers keep at most 4096\)/);
    assert.equal(r.headers["set-cookie"], undefined);
  });

  test("db: the same data is fine server-side (the key is all the cookie holds)", async () => {
    const h = await harness("db");
    const r = await h.app.inject({ url: "/big" });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers["set-cookie"]), NEW_KEY);
  });
});
