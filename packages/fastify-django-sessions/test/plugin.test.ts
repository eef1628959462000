/**
 * The response rules of Django's SessionMiddleware over HTTP (docs/django-sessions.md#the-response-rules):
 * every case, without a cookie, with a valid one and with a bad one, with the exact Set-Cookie
 * attributes and Vary.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, describe, test, type TestContext } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import {
  sessionExchange,
  sessions,
  type SessionData,
  type SessionEngine,
  type SessionExchange,
  type SessionLogger,
  type SessionPluginOptions,
  type SessionSettingsInput,
  type SessionShape,
} from "../src/index.js";
import { sessionKeyProblem } from "../src/keys.js";
import { SessionLocks, type LockStore } from "../src/locks.js";
import { countStatements, dbFixture, type EngineFixture } from "../../../test/helpers.js";
import { importableModule } from "../../../test/processes.js";

const KEY = /^sessionid=([a-z0-9]{32}); Max-Age=1209600; Path=\/; Expires=([^;]+); HttpOnly; SameSite=Lax$/;
const DELETE_COOKIE = 'sessionid=""; Max-Age=0; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Lax';

interface Harness extends EngineFixture {
  app: FastifyInstance;
  /** A session row saved directly through the engine, returning its key. */
  seed(data?: Record<string, string | number>): Promise<string>;
  rows(): Promise<{ session_key: string; session_data: string; expire_date: string | Date }[]>;
}

/** Runs of /locked so far, and what its handler waits for (opened by openGate). */
let lockedRuns = 0;
let openGate: () => void = () => {};
let gate: Promise<void> = Promise.resolve();
function closeGate(): void {
  gate = new Promise((resolve) => (openGate = resolve));
}

async function harness(overrides: Partial<SessionSettingsInput> = {}): Promise<Harness> {
  const fixture = await dbFixture(overrides);
  const app = Fastify();
  // A security header set for every response before any handler runs, as helmet does.
  app.addHook("onRequest", async (_request, reply) => {
    reply.header("x-frame-options", "SAMEORIGIN");
  });
  await app.register(sessions, { engine: fixture.engine });
  app.get("/nothing", async () => "ok");
  app.get("/read", async (request) => {
    const value = request.session.get("a", "none");
    return typeof value === "string" ? value : JSON.stringify(value);
  });
  app.get("/write", async (request) => {
    request.session.set("a", "written");
    return "ok";
  });
  app.get("/delete-last", async (request) => {
    request.session.delete("a");
    return "ok";
  });
  app.get("/flush", async (request) => {
    await request.session.flush();
    return "ok";
  });
  app.get("/flush-500", async (request, reply) => {
    await request.session.flush();
    return reply.code(500).send("boom");
  });
  app.get("/cycle", async (request) => {
    await request.session.cycleKey();
    return "ok";
  });
  app.get("/cycle-500", async (request, reply) => {
    await request.session.cycleKey();
    request.session.set("a", "lost");
    return reply.code(500).send("boom");
  });
  app.get("/cycle-throw", async (request) => {
    await request.session.cycleKey();
    throw new Error("the handler failed after cycling the key");
  });
  app.get("/flush-then-write", async (request) => {
    await request.session.flush();
    request.session.set("a", "after logout");
    return "ok";
  });
  app.get("/write-500", async (request, reply) => {
    request.session.set("a", "lost");
    return reply.code(500).send("boom");
  });
  app.get("/write-503", async (request, reply) => {
    request.session.set("a", "lost");
    return reply.code(503).send("busy");
  });
  app.get("/write-404", async (request, reply) => {
    request.session.set("a", "kept");
    return reply.code(404).send("missing");
  });
  app.get("/write-vary", async (request, reply) => {
    reply.header("vary", "Accept-Encoding");
    request.session.set("a", "written");
    return "ok";
  });
  app.get("/write-vary-star", async (request, reply) => {
    reply.header("vary", "*");
    request.session.get("a");
    return "ok";
  });
  app.get("/write-after-delete", async (request) => {
    // This request has read the session; then a concurrent logout removes the record.
    request.session.get("a");
    await fixture.engine.open(request.session.sessionKey).deleteRecord();
    request.session.set("a", "too late");
    return "ok";
  });
  app.get("/browser-close", async (request) => {
    request.session.setExpiry(0);
    return "ok";
  });
  app.get("/expire-in", async (request) => {
    request.session.setExpiry(-10);
    return "ok";
  });
  app.get("/fixed-expiry", async (request) => {
    request.session.setExpiry(new Date(fixture.clock.now() + 30_000 - 1));
    return "ok";
  });
  app.get("/grow", async (request) => {
    const { n = "10" } = request.query as { n?: string };
    // Random text: zlib would shrink a repeated character to almost nothing.
    request.session.set("big", randomBytes(Number(n)).toString("base64").slice(0, Number(n)));
    return "ok";
  });
  app.get("/redirect-after-delete", async (request, reply) => {
    request.session.get("a");
    await fixture.engine.open(request.session.sessionKey).deleteRecord();
    request.session.set("a", "too late");
    reply.header("cache-control", "no-store");
    return reply.redirect("/elsewhere", 303);
  });
  app.get("/locked", { config: { session: { lock: { waitSeconds: 0.2 } } } }, async (request) => {
    lockedRuns++;
    await gate;
    request.session.set("a", `run ${lockedRuns}`);
    return "ok";
  });
  app.get("/unserialisable", async (request) => {
    request.session.set("a", new Map() as unknown as string);
    return "ok";
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply.code(status).send(`error ${status}`);
  });
  after(() => app.close());
  return {
    ...fixture,
    app,
    async seed(data = { a: "stored" }) {
      const session = fixture.engine.open(null);
      session.update(data);
      await session.save();
      return session.sessionKey!;
    },
    rows: () => fixture.db.selectFrom("sessions").selectAll().execute(),
  };
}

function cookieHeader(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { cookie: `sessionid=${key}` };
}

async function get(h: Harness, url: string, key?: string) {
  const response = await h.app.inject({ method: "GET", url, headers: cookieHeader(key) });
  const setCookie = response.headers["set-cookie"];
  return {
    status: response.statusCode,
    body: response.body,
    setCookie: Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie],
    vary: response.headers.vary,
  };
}

describe("response rules, no cookie", () => {
  test("nothing: no Set-Cookie, no Vary, no store I/O", async () => {
    const h = await harness();
    const r = await get(h, "/nothing");
    assert.equal(r.status, 200);
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, undefined);
    assert.equal((await h.rows()).length, 0);
  });

  test("reads: Vary: Cookie only", async () => {
    const h = await harness();
    const r = await get(h, "/read");
    assert.equal(r.body, "none");
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, "Cookie");
    assert.equal((await h.rows()).length, 0);
  });

  test("writes: a new 32-char key with Django's exact cookie, and a row", async () => {
    const h = await harness();
    const r = await get(h, "/write");
    assert.equal(r.setCookie.length, 1);
    const match = KEY.exec(r.setCookie[0]!);
    assert.ok(match, r.setCookie[0]);
    assert.equal(new Date(match[2]!).getTime(), h.clock.now() + 1_209_600_000);
    assert.equal(r.vary, "Cookie");
    const rows = await h.rows();
    assert.deepEqual(
      rows.map((row) => row.session_key),
      [match[1]],
    );
    assert.deepEqual(h.engine.open(null).decode(rows[0]!.session_data), { a: "written" });
  });

  test("flush: no cookie, Vary: Cookie", async () => {
    const h = await harness();
    const r = await get(h, "/flush");
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, "Cookie");
  });

  test("cycleKey: a new key and an empty record", async () => {
    const h = await harness();
    const r = await get(h, "/cycle");
    const key = KEY.exec(r.setCookie[0] ?? "")?.[1];
    assert.ok(key);
    assert.equal(r.vary, "Cookie");
    assert.deepEqual(
      (await h.rows()).map((row) => row.session_key),
      [key],
    );
  });

  for (const status of [500, 503]) {
    test(`writes then returns ${status}: nothing saved, no cookie, Vary: Cookie`, async () => {
      const h = await harness();
      const r = await get(h, `/write-${status}`);
      assert.equal(r.status, status);
      assert.deepEqual(r.setCookie, []);
      assert.equal(r.vary, "Cookie");
      assert.equal((await h.rows()).length, 0);
    });
  }

  test("writes then returns 404: 4xx responses are saved normally", async () => {
    const h = await harness();
    const r = await get(h, "/write-404");
    assert.equal(r.status, 404);
    assert.match(r.setCookie[0] ?? "", KEY);
    assert.equal((await h.rows()).length, 1);
  });
});

describe("response rules, valid cookie", () => {
  test("nothing: no headers", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/nothing", key);
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, undefined);
  });

  test("reads: the stored value, Vary only", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/read", key);
    assert.equal(r.body, "stored");
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, "Cookie");
  });

  test("writes: same key, refreshed expiry", async () => {
    const h = await harness();
    const key = await h.seed();
    h.clock.advance(3600);
    const r = await get(h, "/write", key);
    const match = KEY.exec(r.setCookie[0] ?? "");
    assert.equal(match?.[1], key);
    assert.equal(new Date(match[2]!).getTime(), h.clock.now() + 1_209_600_000);
    assert.equal(r.vary, "Cookie");
    const [row] = await h.rows();
    assert.equal(row!.expire_date, "2026-12-06 02:00:00.000000");
  });

  test("deletes the last key: same key, the record is kept with {}", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/delete-last", key);
    assert.equal(KEY.exec(r.setCookie[0] ?? "")?.[1], key);
    const [row] = await h.rows();
    assert.equal(row!.session_key, key);
    assert.deepEqual(h.engine.open(null).decode(row!.session_data), {});
  });

  test("flush: the delete cookie, the record gone", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/flush", key);
    assert.deepEqual(r.setCookie, [DELETE_COOKIE]);
    assert.equal(r.vary, "Cookie");
    assert.equal((await h.rows()).length, 0);
  });

  test("flush then 500 (beyond Django): the flush is undone, no delete cookie, the record and its data stay", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/flush-500", key);
    assert.equal(r.status, 500);
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, "Cookie");
    const rows = await h.rows();
    assert.deepEqual(
      rows.map((row) => row.session_key),
      [key],
    );
    assert.deepEqual(h.engine.open(null).decode(rows[0]!.session_data), { a: "stored" });
  });

  test("cycleKey then 500 (beyond Django): the old key keeps its record, the new record is removed", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/cycle-500", key);
    assert.equal(r.status, 500);
    assert.deepEqual(r.setCookie, []);
    assert.deepEqual(
      (await h.rows()).map((row) => row.session_key),
      [key],
    );
    assert.equal((await get(h, "/read", key)).body, "stored", "the browser's session still works");
  });

  test("a handler that throws after cycleKey: the old record stays, nothing new is left behind", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/cycle-throw", key);
    assert.equal(r.status, 500);
    assert.deepEqual(
      (await h.rows()).map((row) => row.session_key),
      [key],
    );
  });

  test("flush, then a new value (logout with a message): the old record goes once the response succeeds", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/flush-then-write", key);
    const newKey = KEY.exec(r.setCookie[0] ?? "")?.[1];
    assert.ok(newKey && newKey !== key);
    const rows = await h.rows();
    assert.deepEqual(
      rows.map((row) => row.session_key),
      [newKey],
    );
    assert.deepEqual(h.engine.open(null).decode(rows[0]!.session_data), { a: "after logout" });
  });

  test("cycleKey: a new key with the same data, the old record deleted", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/cycle", key);
    const newKey = KEY.exec(r.setCookie[0] ?? "")?.[1];
    assert.ok(newKey && newKey !== key);
    const rows = await h.rows();
    assert.deepEqual(
      rows.map((row) => row.session_key),
      [newKey],
    );
    assert.deepEqual(h.engine.open(null).decode(rows[0]!.session_data), { a: "stored" });
  });

  test("writes while the record is deleted meanwhile: 400, no session headers", async () => {
    const h = await harness();
    const key = await h.seed();
    const r = await get(h, "/write-after-delete", key);
    assert.equal(r.status, 400);
    assert.equal(r.body, "error 400");
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, undefined);
    assert.equal((await h.rows()).length, 0, "the session is not resurrected");
  });
});

describe("response rules, bad cookies", () => {
  for (const value of ["", "short", "1234567"]) {
    test(`a value under 8 characters (${JSON.stringify(value)}): the delete cookie even untouched`, async () => {
      const h = await harness();
      const r = await get(h, "/nothing", value);
      assert.deepEqual(r.setCookie, [DELETE_COOKIE]);
      assert.equal(r.vary, "Cookie");
    });
  }

  test("an unknown key, untouched: no headers", async () => {
    const h = await harness();
    const r = await get(h, "/nothing", "unknownkey12345678");
    assert.deepEqual(r.setCookie, []);
    assert.equal(r.vary, undefined);
  });

  test("an unknown key, read: the delete cookie", async () => {
    const h = await harness();
    const r = await get(h, "/read", "unknownkey12345678");
    assert.equal(r.body, "none");
    assert.deepEqual(r.setCookie, [DELETE_COOKIE]);
    assert.equal(r.vary, "Cookie");
  });

  test("an unknown key, written: a new key is issued, the forged one is never adopted", async () => {
    const h = await harness();
    const forged = "attackerchosenkey0000000000000000".slice(0, 32);
    const r = await get(h, "/write", forged);
    const key = KEY.exec(r.setCookie[0] ?? "")?.[1];
    assert.ok(key && key !== forged);
    assert.deepEqual(
      (await h.rows()).map((row) => row.session_key),
      [key],
    );
  });

  test("an expired record, read: the delete cookie and empty data", async () => {
    const h = await harness();
    const key = await h.seed();
    h.clock.advance(1_209_600 + 1);
    const r = await get(h, "/read", key);
    assert.equal(r.body, "none");
    assert.deepEqual(r.setCookie, [DELETE_COOKIE]);
    assert.equal(r.vary, "Cookie");
  });

  test("the last cookie of the same name wins, as in Django", async () => {
    const h = await harness();
    const key = await h.seed();
    const response = await h.app.inject({
      url: "/read",
      headers: { cookie: `sessionid=unknownkey12345678; sessionid=${key}` },
    });
    assert.equal(response.body, "stored");
  });
});

describe("settings and expiry on the wire", () => {
  test("SESSION_SAVE_EVERY_REQUEST re-sends the cookie without Vary when untouched", async () => {
    const h = await harness({ SESSION_SAVE_EVERY_REQUEST: true });
    const key = await h.seed();
    const r = await get(h, "/nothing", key);
    assert.equal(KEY.exec(r.setCookie[0] ?? "")?.[1], key);
    assert.equal(r.vary, undefined);
  });

  test("SESSION_SAVE_EVERY_REQUEST does not create empty sessions", async () => {
    const h = await harness({ SESSION_SAVE_EVERY_REQUEST: true });
    const r = await get(h, "/nothing");
    assert.deepEqual(r.setCookie, []);
    assert.equal((await h.rows()).length, 0);
  });

  test("SESSION_SAVE_EVERY_REQUEST with an unknown key makes a brand-new session", async () => {
    const h = await harness({ SESSION_SAVE_EVERY_REQUEST: true });
    const r = await get(h, "/nothing", "unknownkey12345678");
    const key = KEY.exec(r.setCookie[0] ?? "")?.[1];
    assert.ok(key && key !== "unknownkey12345678");
    assert.deepEqual(
      (await h.rows()).map((row) => row.session_key),
      [key],
    );
  });

  test("setExpiry(0): a cookie that ends with the browser", async () => {
    const h = await harness();
    const r = await get(h, "/browser-close");
    assert.match(r.setCookie[0] ?? "", /^sessionid=[a-z0-9]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  test("SESSION_EXPIRE_AT_BROWSER_CLOSE: no Max-Age or Expires", async () => {
    const h = await harness({ SESSION_EXPIRE_AT_BROWSER_CLOSE: true });
    const r = await get(h, "/write");
    assert.match(r.setCookie[0] ?? "", /^sessionid=[a-z0-9]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  test("a negative expiry is emitted as-is", async () => {
    const h = await harness();
    const r = await get(h, "/expire-in");
    assert.match(r.setCookie[0] ?? "", /; Max-Age=-10; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
  });

  test("a fixed expiry date gives the floored remaining age", async () => {
    const h = await harness();
    const r = await get(h, "/fixed-expiry");
    assert.match(r.setCookie[0] ?? "", /; Max-Age=29; /);
  });

  test("domain, path, secure, SameSite=None and HttpOnly off", async () => {
    const h = await harness({
      SESSION_COOKIE_NAME: "sid",
      SESSION_COOKIE_DOMAIN: ".example.com",
      SESSION_COOKIE_PATH: "/app/",
      SESSION_COOKIE_SECURE: true,
      SESSION_COOKIE_HTTPONLY: false,
      SESSION_COOKIE_SAMESITE: "None",
      SESSION_EXPIRE_AT_BROWSER_CLOSE: true,
    });
    const r = await get(h, "/write");
    assert.match(
      r.setCookie[0] ?? "",
      /^sid=[a-z0-9]{32}; Domain=\.example\.com; Path=\/app\/; Secure; SameSite=None$/,
    );
    const deleted = await h.app.inject({ url: "/nothing", headers: { cookie: "sid=x" } });
    assert.equal(
      deleted.headers["set-cookie"],
      'sid=""; Max-Age=0; Domain=.example.com; Path=/app/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; SameSite=None',
    );
  });

  test("SESSION_COOKIE_SAMESITE=false omits the attribute", async () => {
    const h = await harness({ SESSION_COOKIE_SAMESITE: false });
    const r = await get(h, "/write");
    assert.doesNotMatch(r.setCookie[0] ?? "", /SameSite/);
  });

  test("Cookie is appended to an existing Vary; Vary: * stays *", async () => {
    const h = await harness();
    assert.equal((await get(h, "/write-vary")).vary, "Accept-Encoding, Cookie");
    assert.equal((await get(h, "/write-vary-star")).vary, "*");
  });

  test("a value that is not JSON: 500, no cookie, nothing stored", async () => {
    const h = await harness();
    const r = await get(h, "/unserialisable");
    assert.equal(r.status, 500);
    assert.deepEqual(r.setCookie, []);
    assert.equal((await h.rows()).length, 0);
  });
});

describe("beyond Django: failures never lose what they should not", () => {
  test("a save refused for a vanished session (400) keeps the security headers, drops the redirect", async () => {
    const h = await harness();
    const key = await h.seed();
    const response = await h.app.inject({ url: "/redirect-after-delete", headers: { cookie: `sessionid=${key}` } });
    assert.equal(response.statusCode, 400);
    assert.equal(response.headers["x-frame-options"], "SAMEORIGIN");
    assert.equal(response.headers["cache-control"], "no-store");
    assert.equal(response.headers.location, undefined);
    assert.equal(response.headers["set-cookie"], undefined);
    assert.equal(response.body, "error 400");
  });

  test("SESSION_MAX_BYTES: a save over it is a 413 and the stored session stays as it was", async () => {
    const h = await harness({ SESSION_MAX_BYTES: 400 });
    const key = await h.seed();
    const before = await h.rows();
    const big = await get(h, "/grow?n=600", key);
    assert.equal(big.status, 413);
    assert.deepEqual(big.setCookie, []);
    assert.deepEqual(await h.rows(), before, "the row is untouched");
    const fits = await get(h, "/grow?n=20", key);
    assert.equal(fits.status, 200);
    assert.equal(KEY.exec(fits.setCookie[0] ?? "")?.[1], key);
    const fresh = await get(h, "/grow?n=600");
    assert.equal(fresh.status, 413, "a new session over the limit is refused too");
    assert.equal((await h.rows()).length, 1, "and nothing was created");
  });

  test("SESSION_MAX_BYTES=0 (the default, Django's behaviour): no limit", async () => {
    const h = await harness();
    assert.equal((await get(h, "/grow?n=100000")).status, 200);
  });
});

describe("routes in a plugin context made before the sessions plugin (static files, say)", () => {
  test("answer normally: untouched with or without a key, and Django's delete cookie for one that is no key", async () => {
    const f = await dbFixture();
    const app = Fastify();
    await app.register(async (early) => {
      early.get("/early", async () => "early");
    });
    await app.register(sessions, { engine: f.engine });
    after(() => app.close());
    for (const cookie of [undefined, "sessionid=abcdefghijklmnopqrstuvwxyz012345"]) {
      const r = await app.inject({ url: "/early", headers: cookie ? { cookie } : {} });
      assert.equal(r.statusCode, 200);
      assert.equal(r.body, "early");
      assert.equal(r.headers["set-cookie"], undefined);
    }
    const short = await app.inject({ url: "/early", headers: { cookie: "sessionid=short" } });
    assert.equal(short.statusCode, 200);
    assert.equal(short.headers["set-cookie"], DELETE_COOKIE);
  });
});

describe("sessionExchange: what the session did for the response, for later hooks", () => {
  async function exchanged(h: Harness, url: string, key?: string) {
    const probe = h.app.inject({ url, headers: cookieHeader(key) });
    const response = await probe;
    const seen = JSON.parse(String(response.headers["x-exchange"] ?? "null")) as SessionExchange | undefined;
    return { response, seen };
  }

  test("untouched, read, written and deleted, each with the headers as sent and the rule that decided", async () => {
    const h = await harness();
    h.app.addHook("onSend", async (request, reply, payload) => {
      reply.header("x-exchange", JSON.stringify(sessionExchange(request) ?? null));
      return payload;
    });
    const key = await h.seed();
    const untouched = await exchanged(h, "/nothing", key);
    assert.deepEqual(
      { ...untouched.seen, reason: undefined },
      { read: false, written: false, setCookie: null, vary: false, reason: undefined },
    );
    const read = await exchanged(h, "/read", key);
    assert.equal(read.seen?.read, true);
    assert.equal(read.seen?.written, false);
    assert.equal(read.seen?.vary, true);
    assert.match(read.seen.reason, /read but not changed/);
    const written = await exchanged(h, "/write", key);
    assert.equal(written.seen?.written, true);
    assert.equal(written.seen?.setCookie, written.response.headers["set-cookie"]);
    assert.match(written.seen.reason, /changed: it was saved/);
    const flushed = await exchanged(h, "/flush", key);
    assert.equal(flushed.seen?.setCookie, DELETE_COOKIE);
    assert.match(flushed.seen.reason, /cookie is deleted/);
    const failed = await exchanged(h, "/write-500");
    assert.match(failed.seen!.reason, /500 or more saves nothing/);
  });
});

describe("options", () => {
  test("registered without an engine, the plugin stops the app at start and says what it needs", async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(sessions, {} as unknown as SessionPluginOptions);
      await app.ready();
    }, /The sessions plugin needs \{ engine \}/);
  });
});

describe("route locks: config: { session: { lock } } (beyond Django)", () => {
  test("a second request of the session waits; past waitSeconds it gets a 503 and its handler never runs", async () => {
    const h = await harness();
    const key = await h.seed();
    lockedRuns = 0;
    closeGate();
    const first = get(h, "/locked", key);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await get(h, "/locked", key);
    assert.equal(second.status, 503);
    assert.match(second.body, /error 503/);
    assert.deepEqual(second.setCookie, []);
    openGate();
    assert.equal((await first).status, 200);
    assert.equal(lockedRuns, 1, "the request that timed out did not run");
    assert.deepEqual(h.engine.open(null).decode((await h.rows())[0]!.session_data), { a: "run 1" });
    assert.equal((await get(h, "/locked", key)).status, 200, "the lock was given back");
  });

  test("other sessions and requests without a session are not held up", async () => {
    const h = await harness();
    const [one, two] = [await h.seed(), await h.seed()];
    closeGate();
    const held = get(h, "/locked", one);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const others = Promise.all([get(h, "/locked", two), get(h, "/locked")]);
    openGate();
    assert.deepEqual(
      (await others).map((r) => r.status),
      [200, 200],
    );
    assert.equal((await held).status, 200);
  });

  test("a lock option that makes no sense stops the app at start", async () => {
    const f = await dbFixture();
    const app = Fastify();
    await app.register(sessions, { engine: f.engine });
    assert.throws(
      () => app.get("/bad", { config: { session: { lock: { waitSeconds: -1 } } } }, async () => "never"),
      /Route \/bad: config.session.lock.waitSeconds must be a number of seconds above 0/,
    );
    await app.close();
  });
});

describe("store I/O budget", () => {
  async function counted(t: TestContext) {
    const h = await harness();
    const counter = countStatements(h.sqlite);
    t.after(counter.restore);
    return { h, count: counter.count, reset: counter.reset, statements: counter.statements };
  }

  test("no cookie: zero queries whether the handler reads or not", async (t) => {
    const { h, count } = await counted(t);
    await get(h, "/nothing");
    await get(h, "/read");
    assert.equal(count(), 0);
  });

  test("a valid cookie, the session untouched: zero queries (read at the first touch, as Django)", async (t) => {
    const { h, count, reset } = await counted(t);
    const key = await h.seed();
    reset();
    await get(h, "/nothing", key);
    assert.equal(count(), 0);
  });

  const PROBE = /^SELECT \(SELECT data_version FROM pragma_data_version\(\)\)/;
  const READ = /^SELECT session_data, expire_date FROM "sessions" WHERE session_key = \?/;

  test("a valid cookie, read-only: one query and no write (the row itself, or only the cache check once it is cached)", async (t) => {
    const { h, statements, reset } = await counted(t);
    const key = await h.seed();
    // Written through the engine, the row is cached: the request only checks nobody else wrote.
    reset();
    await get(h, "/read", key);
    assert.equal(statements.length, 1, statements.join("\n"));
    assert.match(statements[0]!, PROBE);
    // Changed behind the engine's back (other code on the connection): the row is read again.
    await h.db
      .updateTable("sessions")
      .set({ expire_date: "2099-01-01 00:00:00.000000" })
      .where("session_key", "=", key)
      .execute();
    await new Promise((resolve) => setImmediate(resolve));
    reset();
    assert.equal((await get(h, "/read", key)).body, "stored");
    assert.equal(statements.length, 2, statements.join("\n"));
    assert.match(statements[0]!, PROBE);
    assert.match(statements[1]!, READ);
  });

  test("a valid cookie, one write: one conditional update (and the cache check)", async (t) => {
    const { h, reset, statements } = await counted(t);
    const key = await h.seed();
    reset();
    await get(h, "/write", key);
    assert.equal(statements.length, 2, statements.join("\n"));
    assert.match(statements[0]!, PROBE);
    assert.match(statements[1]!, /^UPDATE "sessions" SET .* WHERE session_key = \? AND session_data = \?$/);
  });

  test("a new visitor's write: one INSERT, no lookup of the key first", async (t) => {
    const { h, count, statements } = await counted(t);
    await get(h, "/write");
    assert.equal(count(), 1, statements.join("\n"));
    assert.match(statements[0]!, /^INSERT INTO "sessions"/);
  });
});

describe("SESSION_CLEANUP_INTERVAL (beyond Django): expired records cleared in the background", () => {
  async function withCleanup(settings: Partial<SessionSettingsInput>, engineSetting?: string) {
    const f = await dbFixture({ ...settings, ...(engineSetting ? { SESSION_ENGINE: engineSetting } : {}) });
    const logs: Record<string, unknown>[] = [];
    const app = Fastify({
      logger: {
        level: "info",
        stream: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
      },
    });
    await app.register(sessions, { engine: f.engine });
    return { f, app, logs };
  }

  const eventually = async (check: () => Promise<boolean> | boolean, what: string) => {
    for (let i = 0; i < 100 && !(await check()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(await check(), what);
  };

  test("an expired row is removed after the interval, a live one kept, and the run is logged", async (t) => {
    // The interval on a fake clock: the run comes at 1 s exactly, without waiting for it.
    t.mock.timers.enable({ apis: ["setInterval"] });
    const { f, app, logs } = await withCleanup({ SESSION_CLEANUP_INTERVAL: 1 });
    const expired = f.engine.open(null);
    expired.set("a", 1);
    expired.setExpiry(60);
    await expired.save();
    const live = f.engine.open(null);
    live.set("b", 2);
    await live.save();
    f.clock.advance(120);
    await app.ready();
    t.mock.timers.tick(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await f.engine.open(null).exists(expired.sessionKey!), true, "not before the interval");
    t.mock.timers.tick(1);
    await eventually(
      async () => !(await f.engine.open(null).exists(expired.sessionKey!)),
      "the expired record is cleared",
    );
    assert.equal(await f.engine.open(null).exists(live.sessionKey!), true);
    await eventually(
      () => logs.some((l) => l.msg === "expired sessions cleared" && l.removed === 1),
      "the run is logged",
    );
    await app.close();
  });

  test("an engine that cannot clear: one warning and no more runs", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const { app, logs } = await withCleanup(
      { SESSION_CLEANUP_INTERVAL: 1 },
      importableModule("./test/fixtures/engine-without-clear.ts"),
    );
    await app.ready();
    const warned = () =>
      logs.filter((l) => typeof l.msg === "string" && l.msg.includes("cannot clear expired sessions; cleanup stopped"));
    t.mock.timers.tick(1000);
    await eventually(() => warned().length === 1, "the first run warns that this engine cannot clear");
    t.mock.timers.tick(5000);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(warned().length, 1, "the interval was stopped: no second run, no second warning");
    await app.close();
  });

  test("a run that fails is logged and the next interval tries again", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const { f, app, logs } = await withCleanup({ SESSION_CLEANUP_INTERVAL: 1 });
    await app.ready();
    // A real failure of the store: the table is gone.
    f.sqlite.exec("ALTER TABLE sessions RENAME TO sessions_away");
    const failed = () => logs.filter((l) => l.msg === "clearing expired sessions failed; will retry");
    t.mock.timers.tick(1000);
    await eventually(() => failed().length === 1, "the failure is logged");
    t.mock.timers.tick(1000);
    await eventually(() => failed().length === 2, "and retried at the next interval");
    f.sqlite.exec("ALTER TABLE sessions_away RENAME TO sessions");
    await app.close();
  });

  test("0 (the default) runs nothing; a bad value is refused at registration", async (t) => {
    const { f, app } = await withCleanup({});
    const expired = f.engine.open(null);
    expired.set("a", 1);
    expired.setExpiry(-1);
    await expired.save();
    // A day on a fake clock, for any timer the plugin might have set (instead of a real wait).
    t.mock.timers.enable({ apis: ["setInterval", "setTimeout"] });
    await app.ready();
    t.mock.timers.tick(24 * 3600 * 1000);
    await new Promise((resolve) => setImmediate(resolve));
    t.mock.timers.reset();
    assert.equal(await f.engine.open(null).exists(expired.sessionKey!), true);
    await app.close();
    // The engine holds the settings, so a bad value stops the app when the engine is made.
    await assert.rejects(dbFixture({ SESSION_CLEANUP_INTERVAL: -5 }), /SESSION_CLEANUP_INTERVAL must not be negative/);
  });
});

test("a lock that cannot be given back is logged and the response still goes out; the lease ends by itself", async () => {
  const f = await dbFixture();
  const logs: Record<string, unknown>[] = [];
  const app = Fastify({
    logger: {
      level: "warn",
      stream: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    },
  });
  await app.register(sessions, { engine: f.engine });
  app.get("/locked", { config: { session: { lock: true } } }, async (request) => {
    request.session.set("a", "locked");
    // A real failure of the lease store while the lock is held: its table is gone.
    f.sqlite.exec("ALTER TABLE session_locks RENAME TO session_locks_away");
    return "ok";
  });
  const created = f.engine.open(null);
  created.set("a", "before");
  await created.save();
  const response = await app.inject({
    url: "/locked",
    headers: { cookie: `${f.settings.SESSION_COOKIE_NAME}=${created.sessionKey}` },
  });
  assert.equal(response.statusCode, 200);
  assert.equal(response.body, "ok");
  assert.ok(
    logs.some((l) => l.msg === "could not release the session lock; it ends with its lease"),
    JSON.stringify(logs),
  );
  f.sqlite.exec("ALTER TABLE session_locks_away RENAME TO session_locks");
  const stored = f.engine.open(created.sessionKey);
  await stored.load();
  assert.equal(stored.get("a"), "locked", "the write itself was saved");
  await app.close();
});

describe("a cookie value no store can hold is no session, decided before any engine, store or lock", () => {
  test("sessionKeyProblem: 8 to 40 characters of a-z0-9, and what is wrong otherwise, never the value", () => {
    const cases: [string, string | null][] = [
      ["abcdefgh", null],
      ["a".repeat(32), null],
      ["z9".repeat(20), null],
      ["", "empty"],
      ["abcdefg", "7 characters, fewer than 8"],
      ["a".repeat(41), "41 characters, more than 40"],
      ["a".repeat(8000), "8000 characters, more than 40"],
      ["A".repeat(32), "characters other than a-z and 0-9"],
      ["abcdefgh/../../x", "characters other than a-z and 0-9"],
      ["%00abcdefgh", "characters other than a-z and 0-9"],
      ["abcdefgh\u0000", "characters other than a-z and 0-9"],
      ["ünïcødéünïcødé", "characters other than a-z and 0-9"],
      ["ａｂｃｄｅｆｇｈ", "characters other than a-z and 0-9"],
    ];
    for (const [value, problem] of cases) assert.equal(sessionKeyProblem(value), problem, JSON.stringify(value));
  });

  /**
   * An app on `engine` whose engine records every key it is given (open, and the route lock's
   * store), and whose log lines at warn and above are kept.
   */
  async function recorded(engine: SessionEngine) {
    const opened: (string | null | undefined)[] = [];
    const locked: string[] = [];
    const lockStore: LockStore = {
      async tryAcquire(name) {
        locked.push(name);
        return true;
      },
      async release() {},
    };
    const watched: SessionEngine = {
      ...engine,
      locks: engine.clientSide ? null : new SessionLocks(lockStore),
      open<T extends SessionShape<T> = SessionData>(key: string | null | undefined, log?: SessionLogger) {
        opened.push(key);
        return engine.open<T>(key, log);
      },
    };
    const logs: Record<string, unknown>[] = [];
    const app = Fastify({
      logger: {
        level: "warn",
        stream: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
      },
    });
    await app.register(sessions, { engine: watched });
    app.get("/nothing", async () => "ok");
    app.get("/read", async (request) => JSON.stringify(request.session.get("a", "none")));
    app.get("/locked", { config: { session: { lock: true } } }, async (request) => {
      request.session.set("a", "written");
      return "ok";
    });
    after(() => app.close());
    const send = (url: string, value: string) => app.inject({ url, headers: { cookie: `sessionid=${value}` } });
    return { app, opened, locked, logs, send };
  }

  const REFUSED: [string, string, string][] = [
    ["8000 characters", "a".repeat(8000), "8000 characters, more than 40"],
    ["41 characters", "a".repeat(41), "41 characters, more than 40"],
    ["upper case", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", "characters other than a-z and 0-9"],
    ["a slash and ..", "abcdefgh/../../planted", "characters other than a-z and 0-9"],
    ["%00", "abcdefgh%00", "characters other than a-z and 0-9"],
    ["unicode", "ünïcødéünïcødé", "characters other than a-z and 0-9"],
    ["7 characters", "abcdefg", "7 characters, fewer than 8"],
    ["empty", "", "empty"],
  ];

  for (const [what, value, problem] of REFUSED) {
    test(`${what}: the engine and the lock never see it; a write gets a new key, anything else the delete cookie; a warning each time`, async () => {
      const f = await dbFixture();
      const r = await recorded(f.engine);

      const locked = await r.send("/locked", value);
      assert.equal(locked.statusCode, 200);
      const key = KEY.exec(String(locked.headers["set-cookie"]))?.[1];
      assert.ok(key, `a new key: ${String(locked.headers["set-cookie"])}`);
      assert.deepEqual(r.locked, [], "the route lock was never asked for (no session yet)");
      const rows = await f.db.selectFrom("sessions").select("session_key").execute();
      assert.deepEqual(
        rows.map((row) => row.session_key),
        [key],
      );

      for (const url of ["/read", "/nothing"]) {
        const other = await r.send(url, value);
        assert.equal(other.statusCode, 200);
        assert.equal(other.headers["set-cookie"], DELETE_COOKIE, `${url}: Django's rule A deletes the cookie`);
      }
      assert.equal((await r.send("/read", value)).body, '"none"');

      assert.ok(
        r.opened.every((given) => given === undefined),
        "the engine was only ever given no key",
      );
      const warnings = r.logs.filter((l) => l.msg === "session cookie is not a usable session key; no session");
      assert.equal(warnings.length, 4, JSON.stringify(r.logs));
      for (const line of warnings) {
        assert.equal(line.level, 40);
        assert.equal(line.problem, problem);
        assert.equal(line.cookie, "sessionid");
      }
      if (value.length > 0) assert.ok(!JSON.stringify(r.logs).includes(value), "the value is not logged");
    });
  }

  test("8 and 40 characters of a-z0-9 reach the engine and the lock unchanged, with no warning", async () => {
    const f = await dbFixture();
    const r = await recorded(f.engine);
    for (const value of ["abcdefgh", "0123456789abcdefghijklmnopqrstuvwxyz0123"]) {
      const response = await r.send("/locked", value);
      assert.equal(response.statusCode, 200);
      assert.ok(r.opened.includes(value));
      assert.ok(r.locked.includes(value));
      // Unknown to the store, so the save makes a new session (Django), but only after asking it.
      assert.ok(KEY.test(String(response.headers["set-cookie"])));
      assert.equal((await r.send("/nothing", value)).headers["set-cookie"], undefined, "untouched: no headers");
    }
    assert.deepEqual(r.logs, []);
  });

  test("signed_cookies: the cookie is the signed data, given to the engine as sent (its session verifies it)", async () => {
    const f = await dbFixture({ SESSION_ENGINE: "signed_cookies" });
    const r = await recorded(f.engine);
    const value = `${"A".repeat(60)}:/..:${"%00".repeat(10)}`;
    const read = await r.send("/read", value);
    assert.equal(read.statusCode, 200);
    assert.equal(read.body, '"none"');
    assert.deepEqual(r.opened, [value]);
    assert.ok(!r.logs.some((l) => l.msg === "session cookie is not a usable session key; no session"));
    assert.ok(r.logs.some((l) => l.msg === "Session cookie signature invalid"));
    // Django's minimum length still applies: under 8 characters is no session and no warning.
    const short = await r.send("/nothing", "abc");
    assert.equal(short.headers["set-cookie"], DELETE_COOKIE);
  });
});
