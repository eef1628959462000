/** The demo pages over HTTP (fastify.inject), including what reaches the sessions table. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appFixture, visitor as browse } from "../helpers.js";

type Fixture = Awaited<ReturnType<typeof appFixture>>;

async function storedData(f: Fixture, key: string | undefined) {
  assert.ok(key, "the visitor has a session key");
  const session = f.engine.open(key);
  await session.load();
  return Object.fromEntries(session.items());
}

describe("counter", () => {
  test("a first visit gets exactly Django's cookie, Vary: Cookie, and a row in sessions", async () => {
    const f = await appFixture();
    const before = Date.now();
    const response = await f.app.inject("/counter/");
    assert.equal(response.statusCode, 200);
    const setCookie = [response.headers["set-cookie"]].flat().filter((c): c is string => Boolean(c));
    const session = setCookie.find((c) => c.startsWith("sessionid="));
    const match = /^sessionid=([a-z0-9]{32}); Max-Age=1209600; Path=\/; Expires=([^;]+); HttpOnly; SameSite=Lax$/.exec(
      session ?? "",
    );
    assert.ok(match, session);
    const expires = new Date(match[2]!).getTime();
    assert.ok(Math.abs(expires - (before + 1_209_600_000)) < 5000, "Expires is two weeks on");
    assert.equal(response.headers.vary, "Cookie");
    const rows = await f.db.selectFrom("sessions").selectAll().where("session_key", "=", match[1]!).execute();
    assert.equal(rows.length, 1);
    assert.deepEqual(await storedData(f, match[1]), { visits: 1 });
  });

  test("climbs with the cookie and resets", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    for (const n of [1, 2, 3]) {
      const page = await v.get("/counter/");
      assert.match(page.body, new RegExp(`<strong id="visits">${n}</strong>`));
    }
    assert.deepEqual(await storedData(f, v.sessionKey()), { visits: 3 });
    const reset = await v.post("/counter/reset/", {});
    assert.equal(reset.statusCode, 303);
    assert.equal(reset.headers.location, "/counter/");
    assert.deepEqual(await storedData(f, v.sessionKey()), {});
    assert.match((await v.get("/counter/")).body, /<strong id="visits">1<\/strong>/);
  });

  test("the home page reads nothing from the store for a new visitor and sets no session cookie", async () => {
    const f = await appFixture();
    const response = await f.app.inject("/");
    assert.equal(response.statusCode, 200);
    assert.ok(![response.headers["set-cookie"]].flat().some((c) => c?.startsWith("sessionid=")));
    assert.equal((await f.db.selectFrom("sessions").selectAll().execute()).length, 0);
  });
});

describe("set, get, delete, flush", () => {
  test("set then get shows the value; delete removes it", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    const set = await v.get("/session/set/?key=color&value=blue");
    assert.match(set.body, /<code id="stored-value">blue<\/code>/);
    assert.deepEqual(await storedData(f, v.sessionKey()), { color: "blue" });
    assert.match((await v.get("/session/get/?key=color")).body, /<code id="value">&#34;blue&#34;<\/code>/);
    const deleted = await v.post("/session/delete/", { key: "color" });
    assert.equal(deleted.statusCode, 303);
    assert.equal(deleted.headers.location, "/session/get/?key=color");
    assert.match((await v.get("/session/get/?key=color")).body, /id="not-set"/);
  });

  test("flush deletes the row and the cookie; the next write gets a new key", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/session/set/?key=a&value=1");
    const oldKey = v.sessionKey();
    const flushed = await v.post("/session/flush/", {});
    assert.equal(flushed.statusCode, 303);
    assert.ok([flushed.headers["set-cookie"]].flat().some((c) => c?.startsWith('sessionid=""; Max-Age=0')));
    assert.equal(v.sessionKey(), undefined);
    assert.equal((await f.db.selectFrom("sessions").selectAll().execute()).length, 0);
    await v.get("/session/set/?key=b&value=2");
    assert.ok(v.sessionKey() && v.sessionKey() !== oldKey);
    assert.deepEqual(await storedData(f, v.sessionKey()), { b: "2" });
  });

  test("/session/json/ returns the visitor's own session", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/session/set/?key=x&value=y");
    const response = await v.get("/session/json/");
    assert.equal(response.headers["content-type"], "application/json; charset=utf-8");
    assert.deepEqual(response.json(), { session_key: v.sessionKey(), session: { x: "y" } });
  });

  test("reserved keys are refused with a 400 page and nothing is stored", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    const response = await v.get("/session/set/?key=_session_expiry&value=soon");
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /Bad Request \(400\)/);
    assert.match(response.body, /The field “key” is not valid\. .*may not start with “_”/);
    assert.equal(v.sessionKey(), undefined);
  });
});

describe("cart", () => {
  test("add, remove, checkout with a flash shown exactly once", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/cart/");
    await v.post("/cart/add/", { item: "apple" });
    await v.post("/cart/add/", { item: "pear" });
    await v.post("/cart/add/", { item: "plum" });
    await v.post("/cart/remove/", { item: "pear" });
    assert.deepEqual(await storedData(f, v.sessionKey()), { cart: ["apple", "plum"] });
    await v.post("/cart/checkout/", {});
    const first = await v.get("/cart/");
    assert.match(first.body, /id="flash"[^>]*>Thank you! You checked out 2 items: apple, plum\./);
    assert.match(first.body, /id="cart-empty"/);
    assert.doesNotMatch((await v.get("/cart/")).body, /id="flash"/);
  });

  test("an in-place append is saved without modified = true", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/cart/");
    await v.post("/cart/add/", { item: "apple" });
    await v.post("/cart/add-inplace/", { item: "pear" });
    assert.deepEqual(await storedData(f, v.sessionKey()), { cart: ["apple", "pear"] });
  });

  test("SESSION_DETECT_MUTATIONS=false restores Django's rule: the in-place append is lost", async () => {
    const f = await appFixture({ SESSION_DETECT_MUTATIONS: "false" });
    const v = browse(f.app);
    await v.get("/cart/");
    await v.post("/cart/add/", { item: "apple" });
    await v.post("/cart/add-inplace/", { item: "pear" });
    assert.deepEqual(await storedData(f, v.sessionKey()), { cart: ["apple"] });
  });
});

describe("expiry", () => {
  test("seconds=0 gives a browser-session cookie; a number sets Max-Age; empty restores the default", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/expiry/");
    const zero = await v.post("/expiry/", { seconds: "0" });
    assert.match(String(zero.headers["set-cookie"]), /sessionid=[a-z0-9]{32}; Path=\/; HttpOnly; SameSite=Lax/);
    assert.match((await v.get("/expiry/")).body, /id="expire-at-browser-close">true</);
    const ten = await v.post("/expiry/", { seconds: "600" });
    assert.match(String(ten.headers["set-cookie"]), /Max-Age=600;/);
    const reset = await v.post("/expiry/", { seconds: "" });
    assert.match(String(reset.headers["set-cookie"]), /Max-Age=1209600;/);
    assert.deepEqual(await storedData(f, v.sessionKey()), {});
  });

  test("a non-number is a 400 page", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/expiry/");
    const response = await v.post("/expiry/", { seconds: "soon" });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /Bad Request \(400\)/);
  });
});

describe("bad input gets a clear page and a log line, never a stack trace", () => {
  test("a form without its CSRF token: 403 page, logged, session untouched", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/counter/");
    const response = await v.post("/counter/reset/", {}, null);
    assert.equal(response.statusCode, 403);
    assert.match(response.body, /Forbidden \(403\)/);
    assert.match(response.body, /CSRF verification failed/);
    assert.doesNotMatch(response.body, /at .*\.(ts|js):\d+/);
    assert.deepEqual(await storedData(f, v.sessionKey()), { visits: 1 });
    assert.ok(f.logs.some((l) => l.msg === "Forbidden (403)"));
  });

  test("a wrong CSRF token: 403", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/cart/");
    const response = await v.post("/cart/add/", { item: "x" }, "forged-token");
    assert.equal(response.statusCode, 403);
  });

  test("an oversized form body: 413 page", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/cart/");
    const response = await v.post("/cart/add/", { item: "x".repeat(100_000) });
    assert.equal(response.statusCode, 413);
    assert.match(response.body, /Request Too Large \(413\)/);
  });

  test("an unknown page: 404 page", async () => {
    const f = await appFixture();
    const response = await f.app.inject("/no/such/page");
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /Not Found \(404\)/);
  });

  test("a missing sessions table: a generic 500 page, the cause in the log", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/counter/");
    await f.db.schema.dropTable("sessions").execute();
    const response = await v.get("/counter/");
    assert.equal(response.statusCode, 500);
    assert.match(response.body, /Server Error \(500\)/);
    assert.doesNotMatch(response.body, /sessions|SqliteError|no such table/);
    assert.ok(f.logs.some((l) => l.level === 50 && JSON.stringify(l).includes("no such table: sessions")));
  });
});

describe("static files", () => {
  test("the stylesheet is served to a visitor with a session, and the session is not read", async () => {
    const f = await appFixture();
    const v = browse(f.app);
    await v.get("/counter/");
    const key = v.sessionKey();
    assert.ok(key);
    const before = await storedData(f, key);
    const css = await f.app.inject({ url: "/static/style.css", headers: { cookie: v.jar.header() } });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers["content-type"]), /^text\/css/);
    assert.equal(css.headers["set-cookie"], undefined);
    assert.equal(css.headers.vary, undefined);
    assert.deepEqual(await storedData(f, key), before);
  });
});
