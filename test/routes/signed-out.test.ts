/**
 * A browser signed out by someone else is told why: "sign out everywhere else", a password change
 * in another session, or staff ending its session (src/auth/ended-sessions.ts,
 * src/routes/signed-out.ts). Over HTTP on every server-side engine, and the table itself.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { EndedSessions, endedMessage } from "../../src/auth/ended-sessions.js";
import { hashPassword } from "../../src/auth/passwords.js";
import { TestClock, appFixture, memoryDatabase, noticeOf as notice, visitor } from "../helpers.js";
import { toSqliteDatetime } from "fastify-django-sessions";

const PASSWORD = "correct horse";
const directory = mkdtempSync(join(tmpdir(), "signed-out-"));
after(() => rmSync(directory, { recursive: true, force: true }));

type Visitor = ReturnType<typeof visitor>;

/** A page load as a browser makes it (Accept: text/html), with the visitor's cookies. */
async function navigate(f: Awaited<ReturnType<typeof appFixture>>, v: Visitor, url: string) {
  const response = await f.app.inject({
    url,
    headers: { cookie: v.jar.header(), accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
  });
  v.jar.store(response.headers["set-cookie"]);
  return response;
}

for (const engine of ["db", "cache", "cached_db", "file"]) {
  describe(`signed out by someone else, on ${engine}`, () => {
    async function setup() {
      const f = await appFixture({ SESSION_ENGINE: engine, SESSION_FILE_PATH: directory });
      await f.db
        .insertInto("users")
        .values({ username: "ada", password: await hashPassword(PASSWORD, "fast") })
        .execute();
      await f.db
        .insertInto("users")
        .values({ username: "root", password: await hashPassword(PASSWORD, "fast"), is_staff: 1 })
        .execute();
      const logIn = async (username: string) => {
        const v = visitor(f.app);
        await v.get("/login/");
        assert.equal((await v.post("/login/", { username, password: PASSWORD })).statusCode, 303);
        await v.get("/account/"); // the login notice shown
        return v;
      };
      return { f, logIn };
    }

    test("sign out everywhere else: the other browser lands on the login page, told why, once", async () => {
      const { f, logIn } = await setup();
      const a = await logIn("ada");
      const b = await logIn("ada");
      const bKey = b.sessionKey()!;
      await a.post("/account/sessions/end-others/");

      const rows = await f.db.selectFrom("ended_sessions").selectAll().execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.key_hash, createHash("sha256").update(bKey).digest("hex"), "keyed by a hash");
      assert.ok(!JSON.stringify(rows).includes(bKey), "the key itself is not stored");

      const landed = await navigate(f, b, "/cart/");
      assert.equal(landed.statusCode, 303);
      assert.equal(landed.headers.location, "/login/?next=%2Fcart%2F");
      assert.equal(b.sessionKey(), undefined, "the dead cookie is deleted");
      const login = await navigate(f, b, "/login/?next=%2Fcart%2F");
      assert.equal(notice(login.body), endedMessage({ reason: "elsewhere", loggedIn: true }));
      assert.match(notice(login.body)!, /^You were signed out: “Sign out everywhere else” was used in another browser/);
      assert.equal(notice((await navigate(f, b, "/login/?next=%2Fcart%2F")).body), null, "gone on reload");
      assert.equal(
        (await f.db.selectFrom("ended_sessions").selectAll().execute()).length,
        0,
        "told once, then forgotten",
      );
      assert.ok(f.logs.some((l) => l.msg === "a session ended by someone else came back" && l.reason === "elsewhere"));
      // The one that signed the others out was not touched.
      assert.equal((await a.get("/account/")).statusCode, 200);
    });

    test("a password change in another session", async () => {
      const { f, logIn } = await setup();
      const a = await logIn("ada");
      const b = await logIn("ada");
      await a.get("/account/");
      const changed = await a.post("/account/password/", {
        old_password: PASSWORD,
        new_password1: "battery staple",
        new_password2: "battery staple",
      });
      assert.equal(changed.statusCode, 303);
      const landed = await navigate(f, b, "/account/");
      assert.equal(landed.headers.location, "/login/?next=%2Faccount%2F");
      assert.equal(
        notice((await navigate(f, b, "/login/?next=%2Faccount%2F")).body),
        "You were signed out: your password was changed in another session, which ends every other session. Log in with the new password.",
      );
    });

    test("staff ending a logged-in session, and an anonymous one", async () => {
      const { f, logIn } = await setup();
      const ada = await logIn("ada");
      const shopper = visitor(f.app);
      await shopper.get("/cart/");
      await shopper.post("/cart/add/", { item: "apple" });
      await shopper.get("/cart/");
      const root = await logIn("root");
      for (const v of [ada, shopper]) {
        await root.get(`/admin/sessions/${v.sessionKey()!.slice(0, 8)}/`);
        assert.equal((await root.post(`/admin/sessions/${v.sessionKey()!.slice(0, 8)}/end/`)).statusCode, 303);
      }
      const landed = await navigate(f, ada, "/counter/");
      assert.equal(landed.headers.location, "/login/?next=%2Fcounter%2F");
      assert.equal(
        notice((await navigate(f, ada, landed.headers.location as string)).body),
        "You were signed out: an administrator ended your session. Log in again to continue.",
      );

      // Nobody was logged in: no login page, the page asked for says it.
      const cart = await navigate(f, shopper, "/cart/");
      assert.equal(cart.statusCode, 200);
      assert.equal(
        notice(cart.body),
        "An administrator ended your session: what it stored was deleted, and this browser starts afresh.",
      );
      assert.match(cart.body, /id="cart-empty"/);
      assert.equal(notice((await navigate(f, shopper, "/cart/")).body), null);
    });

    test("a form sent with the dead cookie carries the reason to the next page", async () => {
      const { logIn } = await setup();
      const a = await logIn("ada");
      const b = await logIn("ada");
      await b.get("/cart/");
      await a.post("/account/sessions/end-others/");
      const added = await b.post("/cart/add/", { item: "pear" });
      assert.equal(added.statusCode, 303);
      const page = await b.get("/cart/");
      // Both notices, oldest first: why the session ended, then what the form did.
      assert.equal(
        notice(page.body),
        `${endedMessage({ reason: "elsewhere", loggedIn: true })}\nAdded “pear”: a new list was assigned to “cart”, so the session is marked modified and saved.`,
      );
    });

    test("your own logout or flush leaves no reason behind", async () => {
      const { f, logIn } = await setup();
      const a = await logIn("ada");
      const key = a.sessionKey()!;
      await a.post("/logout/");
      assert.equal((await f.db.selectFrom("ended_sessions").selectAll().execute()).length, 0);
      a.jar.cookies.set("sessionid", key);
      const page = await navigate(f, a, "/cart/");
      assert.equal(page.statusCode, 200);
      assert.doesNotMatch(notice(page.body) ?? "", /signed out/);
    });
  });
}

test("signed_cookies cannot end another session: nothing recorded, nothing told", async () => {
  const f = await appFixture({ SESSION_ENGINE: "signed_cookies" });
  await f.db
    .insertInto("users")
    .values({ username: "ada", password: await hashPassword(PASSWORD, "fast") })
    .execute();
  const a = visitor(f.app);
  await a.get("/login/");
  await a.post("/login/", { username: "ada", password: PASSWORD });
  await a.get("/account/");
  await a.post("/account/sessions/end-others/");
  assert.equal((await f.db.selectFrom("ended_sessions").selectAll().execute()).length, 0);
});

describe("EndedSessions", () => {
  test("told once, forgotten after SESSION_COOKIE_AGE, cleared by clearExpired", async () => {
    const db = await memoryDatabase();
    const clock = new TestClock();
    const ended = new EndedSessions({ db, dateValue: toSqliteDatetime, lifetimeSeconds: 100, now: clock.now });
    await ended.record("a".repeat(32), "admin", true);
    await ended.record("b".repeat(32), "elsewhere", true);
    await ended.record("c".repeat(32), "password", false);
    assert.deepEqual(await ended.take("a".repeat(32)), { reason: "admin", loggedIn: true });
    assert.equal(await ended.take("a".repeat(32)), null, "once");
    assert.equal(await ended.take("z".repeat(32)), null, "never ended");
    clock.advance(50);
    assert.equal(await ended.clearExpired(), 0, "nothing expired yet");
    clock.advance(51);
    assert.equal(await ended.take("b".repeat(32)), null, "past the cookie's lifetime the reason is not told");
    assert.equal(await ended.clearExpired(), 2);
    assert.equal((await db.selectFrom("ended_sessions").selectAll().execute()).length, 0);
  });
});
