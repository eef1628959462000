/** Log in / log out / account over HTTP, with Django's session rules (docs/django-sessions.md#login-logout-and-cycle_key). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hashPassword } from "../../src/auth/passwords.js";
import { safeNext } from "../../src/routes/auth.js";
import { appFixture, csrfToken, visitor } from "../helpers.js";

async function setup() {
  const f = await appFixture();
  await f.db
    .insertInto("users")
    .values({ username: "ada", password: await hashPassword("correct horse", "fast") })
    .execute();
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
    await f.db
      .updateTable("users")
      .set({ password: await hashPassword("new password", "fast") })
      .where("username", "=", "ada")
      .execute();
    const r = await get("/account/");
    assert.equal(r.statusCode, 303);
    assert.match(String(r.headers["set-cookie"]), /sessionid=""; Max-Age=0/);
  });

  test("a next outside Latin-1 (/%E6%97%A5): logged in, sent there percent-encoded, the cart kept", async () => {
    const { f, get, post, jar } = await setup();
    await get("/cart/");
    await post("/cart/add/", { item: "apple" });
    const anonymousKey = jar.cookies.get("sessionid");
    await get("/login/?next=/%E6%97%A5");
    const r = await post("/login/", { username: "ada", password: "correct horse", next: "/日" });
    assert.equal(r.statusCode, 303);
    assert.equal(r.headers.location, "/%E6%97%A5");
    assert.notEqual(jar.cookies.get("sessionid"), anonymousKey);
    assert.match((await get("/cart/")).body, /<span class="cart-item">apple<\/span>/);
    assert.match((await get("/account/")).body, /id="account-username">ada</);
    assert.equal(
      await f.db
        .selectFrom("sessions")
        .select("session_key")
        .where("session_key", "=", anonymousKey!)
        .executeTakeFirst(),
      undefined,
    );
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
  assert.equal(safeNext("/search?q=a%20b"), "/search?q=a%20b", "existing escapes are kept");
  assert.equal(safeNext("/日 x"), "/%E6%97%A5%20x", "what a Location header cannot carry is percent-encoded");
  assert.equal(safeNext("/\ud800"), "/account/", "what cannot be encoded falls back");
  for (const bad of [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "javascript:alert(1)",
    "",
    undefined,
    "/a\nb",
  ]) {
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
    assert.deepEqual(statuses, [...new Array<number>(10).fill(400), 429]);
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

describe("the account page's sessions and password change, on every engine", () => {
  const directory = mkdtempSync(join(tmpdir(), "account-sessions-"));
  after(() => rmSync(directory, { recursive: true, force: true }));

  for (const engine of ["db", "cache", "cached_db", "file", "signed_cookies"]) {
    const serverSide = engine !== "signed_cookies";

    /** One app with user ada and two browsers (A and B) logged in as her. */
    async function twoBrowsers() {
      const f = await appFixture({ SESSION_ENGINE: engine, SESSION_FILE_PATH: directory });
      await f.db
        .insertInto("users")
        .values({ username: "ada", password: await hashPassword("correct horse", "fast") })
        .execute();
      const a = visitor(f.app);
      const b = visitor(f.app);
      for (const v of [a, b]) {
        await v.get("/cart/");
        await v.post("/cart/add/", { item: "apple" });
        await v.get("/login/");
        assert.equal((await v.post("/login/", { username: "ada", password: "correct horse" })).statusCode, 303);
      }
      const rows = () => f.db.selectFrom("user_sessions").select(["session_key", "user_id"]).execute();
      return { f, a, b, rows };
    }

    const listed = (html: string) =>
      [...html.matchAll(/<tr class="user-session( current)?" data-key-prefix="([a-z0-9]{8})">/g)].map((m) => ({
        current: m[1] !== undefined,
        prefix: m[2],
      }));

    describe(engine, () => {
      if (serverSide) {
        test("/account/ lists both sessions with the current one marked; the store backs every row", async () => {
          const { a, b, rows } = await twoBrowsers();
          const page = await a.get("/account/");
          assert.equal(page.statusCode, 200);
          const sessions = listed(page.body);
          assert.equal(sessions.length, 2);
          assert.deepEqual(sessions.find((s) => s.current)?.prefix, a.sessionKey()!.slice(0, 8));
          assert.deepEqual(sessions.find((s) => !s.current)?.prefix, b.sessionKey()!.slice(0, 8));
          assert.doesNotMatch(page.body, new RegExp(b.sessionKey()!), "another session's full key is never shown");
          assert.match(page.body, /<time datetime="20\d\d-[^"]+Z">/);
          assert.deepEqual((await rows()).map((r) => r.session_key).sort(), [a.sessionKey(), b.sessionKey()].sort());
        });

        test("sign out everywhere else ends the other browser's session and keeps this one", async () => {
          const { f, a, b, rows } = await twoBrowsers();
          const bKey = b.sessionKey()!;
          await a.get("/account/");
          const r = await a.post("/account/sessions/end-others/");
          assert.equal(r.statusCode, 303);
          const page = await a.get("/account/");
          assert.match(page.body, /id="account-notice" role="status">Signed out 1 other session\.</);
          assert.equal(listed(page.body).length, 1);
          assert.equal(await f.engine.open(bKey).exists(bKey), false, "the other record is deleted from the store");
          const other = await b.get("/account/");
          assert.equal(other.statusCode, 303);
          assert.equal(other.headers.location, "/login/?next=%2Faccount%2F");
          assert.deepEqual(
            (await rows()).map((row) => row.session_key),
            [a.sessionKey()],
          );
          assert.ok(f.logs.some((l) => l.msg === "signed out other sessions" && l.ended === 1));
        });

        test("logout and flush remove the session from the list", async () => {
          const { a, b, rows } = await twoBrowsers();
          await b.get("/account/");
          await b.post("/logout/");
          assert.equal((await rows()).length, 1);
          await a.post("/session/flush/");
          await a.get("/login/");
          await a.post("/login/", { username: "ada", password: "correct horse" });
          const page = await a.get("/account/");
          assert.deepEqual(listed(page.body), [{ current: true, prefix: a.sessionKey()!.slice(0, 8) }]);
          assert.equal((await rows()).length, 1, "the flushed session's row was dropped when listed");
        });
      } else {
        test("/account/ says plainly that signed cookies cannot be listed or ended", async () => {
          const { a, rows } = await twoBrowsers();
          const page = await a.get("/account/");
          assert.match(page.body, /id="sessions-unlisted"/);
          assert.match(page.body, /A copied cookie stays valid until it expires\./);
          assert.doesNotMatch(page.body, /id="end-others-button"/);
          assert.equal((await rows()).length, 0, "nothing is recorded for a session the server does not keep");
        });
      }

      test("a refused password change: 400, the reason, nothing changed", async () => {
        const { f, a, b } = await twoBrowsers();
        await a.get("/account/");
        const wrongOld = await a.post("/account/password/", {
          old_password: "nope",
          new_password1: "battery staple",
          new_password2: "battery staple",
        });
        assert.equal(wrongOld.statusCode, 400);
        assert.match(wrongOld.body, /Your old password was entered incorrectly/);
        const mismatch = await a.post("/account/password/", {
          old_password: "correct horse",
          new_password1: "battery staple",
          new_password2: "battery stapler",
        });
        assert.equal(mismatch.statusCode, 400);
        assert.match(mismatch.body, /The two password fields didn’t match\./);
        const short = await a.post("/account/password/", {
          old_password: "correct horse",
          new_password1: "1234567",
          new_password2: "1234567",
        });
        assert.match(short.body, /too short[\s\S]*entirely numeric/);
        assert.equal((await b.get("/account/")).statusCode, 200, "the other browser is still logged in");
        assert.ok(f.logs.some((l) => l.msg === "password change refused"));
      });

      test("changing the password keeps this session (new key, cart kept) and logs the other out", async () => {
        const { f, a, b } = await twoBrowsers();
        const before = a.sessionKey()!;
        await a.get("/account/");
        const r = await a.post("/account/password/", {
          old_password: "correct horse",
          new_password1: "battery staple",
          new_password2: "battery staple",
        });
        assert.equal(r.statusCode, 303);
        assert.notEqual(a.sessionKey(), before, "the key is cycled");
        const page = await a.get("/account/");
        assert.equal(page.statusCode, 200);
        assert.match(
          page.body,
          serverSide
            ? /Password changed\. Signed out 1 other session\./
            : /Password changed\. Other browsers are logged out at their next request\./,
        );
        assert.match((await a.get("/cart/")).body, /<span class="cart-item">apple<\/span>/);
        const other = await b.get("/account/");
        assert.equal(other.statusCode, 303, "the other browser is logged out");
        const c = visitor(f.app);
        await c.get("/login/");
        assert.equal(
          (await c.post("/login/", { username: "ada", password: "correct horse" })).statusCode,
          400,
          "the old password is refused",
        );
        assert.equal((await c.post("/login/", { username: "ada", password: "battery staple" })).statusCode, 303);
      });
    });
  }
});
