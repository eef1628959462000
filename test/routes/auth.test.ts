/** Log in / log out / account over HTTP, with Django's session rules (reference §6). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { hashPassword } from "../../src/auth/passwords.js";
import { safeNext } from "../../src/routes/auth.js";
import { appFixture, csrfToken, visitor } from "../helpers.js";

async function setup() {
  const f = await appFixture();
  await f.db.insertInto("users").values({ username: "ada", password: await hashPassword("correct horse") }).execute();
  return { f, ...visitor(f.app) };
}

describe("login, account, logout", () => {
  test("the account page sends an anonymous visitor to the login page", async () => {
    const { get } = await setup();
    const r = await get("/account/");
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, "/login/?next=%2Faccount%2F");
  });

  test("a wrong password: 400, Django's message, a log line, no login", async () => {
    const { f, get, post } = await setup();
    await get("/login/");
    const r = await post("/login/", { username: "ada", password: "wrong" });
    assert.equal(r.statusCode, 400);
    assert.match(r.body, /Please enter a correct username and password/);
    assert.ok(f.logs.some((l) => l.msg === "login failed"));
    assert.equal((await get("/account/")).statusCode, 303);
  });

  test("logging in keeps the cart and changes the session key; next is honoured", async () => {
    const { get, post, jar } = await setup();
    await get("/cart/");
    await post("/cart/add/", { item: "apple" });
    const anonymousKey = jar.cookies.get("sessionid");
    const csrfBefore = jar.cookies.get("csrftoken");
    assert.ok(csrfBefore);
    await get("/login/?next=/cart/");
    const r = await post("/login/", { username: "ada", password: "correct horse", next: "/cart/" });
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, "/cart/");
    const key = jar.cookies.get("sessionid");
    assert.ok(key && key !== anonymousKey);
    assert.match(String(r.headers["set-cookie"]), /csrftoken=; Max-Age=0/, "the CSRF secret is rotated");
    assert.match((await get("/cart/")).body, /<span class="cart-item">apple<\/span>/);
    const csrfAfter = jar.cookies.get("csrftoken");
    assert.ok(csrfAfter && csrfAfter !== csrfBefore, "a new CSRF secret after login");
    assert.match((await get("/account/")).body, /id="account-username">ada</);
  });

  test("logout forgets the user and deletes the cookie", async () => {
    const { get, post, jar } = await setup();
    await get("/login/");
    await post("/login/", { username: "ada", password: "correct horse" });
    await get("/account/");
    const r = await post("/logout/");
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers["set-cookie"]), /sessionid=""; Max-Age=0/);
    assert.equal(jar.cookies.get("sessionid"), undefined);
    assert.equal((await get("/account/")).statusCode, 303);
  });

  test("a password changed elsewhere logs this session out", async () => {
    const { f, get, post } = await setup();
    await get("/login/");
    await post("/login/", { username: "ada", password: "correct horse" });
    assert.equal((await get("/account/")).statusCode, 200);
    await f.db.updateTable("users").set({ password: await hashPassword("new password") }).where("username", "=", "ada").execute();
    const r = await get("/account/");
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers["set-cookie"]), /sessionid=""; Max-Age=0/);
  });

  test("the login form needs its CSRF token", async () => {
    const { f } = await setup();
    const r = await f.app.inject({
      method: "POST",
      url: "/login/",
      payload: "username=ada&password=correct+horse",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(r.statusCode, 403);
  });
});

test("next is honoured only for local paths", () => {
  assert.equal(safeNext("/cart/"), "/cart/");
  for (const bad of ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "", undefined, "/a\nb"]) {
    assert.equal(safeNext(bad), "/account/", String(bad));
  }
});

describe("login rate limits and security headers", () => {
  const attempt = (f: Awaited<ReturnType<typeof appFixture>>, username: string, remoteAddress: string) =>
    f.app.inject({
      method: "POST",
      url: "/login/",
      remoteAddress,
      payload: new URLSearchParams({ username, password: "guess" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });

  test("one client gets a 429 page after LOGIN_ATTEMPTS_PER_MINUTE attempts", async () => {
    const f = await appFixture({ LOGIN_ATTEMPTS_PER_MINUTE: "3" });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await attempt(f, `user${i}`, "127.0.0.9")).statusCode);
    // Without a CSRF token each attempt is refused (403) but still counted.
    assert.deepEqual(statuses, [403, 403, 403, 429]);
    const page = await attempt(f, "another", "127.0.0.9");
    assert.match(page.body, /Too Many Requests \(429\)/);
    assert.equal((await attempt(f, "another", "127.0.0.10")).statusCode, 403, "other clients are not affected");
  });

  test("one account gets a 429 after the limit, from any number of addresses", async () => {
    const { f, get } = await setup();
    const jarless = async (ip: string) => {
      const page = await f.app.inject({ url: "/login/", remoteAddress: ip });
      const token = csrfToken(page.body);
      const secret = /csrftoken=([^;]+)/.exec(String(page.headers["set-cookie"]))![1]!;
      return f.app.inject({
        method: "POST",
        url: "/login/",
        remoteAddress: ip,
        payload: new URLSearchParams({ _csrf: token, username: "ada", password: "guess" }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: `csrftoken=${secret}` },
      });
    };
    await get("/login/");
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await jarless(`10.0.0.${i + 1}`)).statusCode);
    assert.deepEqual(statuses, [...Array(10).fill(400), 429]);
  });

  test("pages carry security headers (helmet)", async () => {
    const f = await appFixture();
    const r = await f.app.inject("/");
    assert.match(String(r.headers["content-security-policy"]), /default-src 'self'/);
    assert.doesNotMatch(String(r.headers["content-security-policy"]), /upgrade-insecure-requests/);
    assert.equal(r.headers["x-content-type-options"], "nosniff");
    assert.equal(r.headers["x-frame-options"], "SAMEORIGIN");
  });
});
