/**
 * The teaching panels over HTTP on every engine: "what just happened" reports the store's read
 * and write and the response's own Set-Cookie, redirects are shown on the page they lead to, and
 * the stored record shown is what the store holds after the response.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hashPassword } from "../../src/auth/passwords.js";
import { MemoryCache, RedisCache } from "fastify-django-sessions";
import { appFixture, visitor, type FixtureStores } from "../helpers.js";
import { NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "../services.js";
import { roleText, roleTexts, setCookieLines, stepHtml, unescapeHtml } from "./html.js";

const directory = mkdtempSync(join(tmpdir(), "teach-panels-"));
after(() => rmSync(directory, { recursive: true, force: true }));

interface Setup {
  name: string;
  engine: "db" | "cache" | "cached_db" | "file" | "signed_cookies";
  skip?: string | false;
  /** The stores and the environment that names them (CACHE_BACKEND, CACHE_KEY_PREFIX). */
  stores?: () => Promise<{ stores: FixtureStores; env: Record<string, string>; close(): Promise<void> }>;
}

const redis = async (env: Record<string, string> = {}) => {
  const keyPrefix = uniquePrefix("teach");
  const cache = new RedisCache({ url: REDIS_URL!, keyPrefix });
  return {
    stores: { cache },
    env: { ...env, CACHE_BACKEND: "redis", CACHE_KEY_PREFIX: keyPrefix },
    close: () => cache.close(),
  };
};
const locmem = async () => {
  const keyPrefix = uniquePrefix("teach");
  return {
    stores: { cache: new MemoryCache({ keyPrefix }) },
    env: { CACHE_KEY_PREFIX: keyPrefix },
    close: async () => {},
  };
};

const SETUPS: Setup[] = [
  { name: "db (SQLite)", engine: "db" },
  {
    name: "db (PostgreSQL)",
    engine: "db",
    skip: NO_POSTGRES,
    async stores() {
      const database = await postgresSchema("teach_db");
      return { stores: { database }, env: {}, close: () => database.drop() };
    },
  },
  { name: "cache (Redis)", engine: "cache", skip: NO_REDIS, stores: () => redis() },
  { name: "cache (in-process)", engine: "cache", stores: locmem },
  { name: "cached_db (SQLite + in-process cache)", engine: "cached_db", stores: locmem },
  {
    name: "cached_db (PostgreSQL + Redis)",
    engine: "cached_db",
    skip: NO_POSTGRES || NO_REDIS,
    async stores() {
      const [database, cache] = await Promise.all([postgresSchema("teach_cached"), redis()]);
      return {
        stores: { database, cache: cache.stores.cache },
        env: cache.env,
        async close() {
          await cache.close();
          await database.drop();
        },
      };
    },
  },
  { name: "file", engine: "file" },
  { name: "signed_cookies", engine: "signed_cookies" },
];

async function open(setup: Setup, env: Record<string, string> = {}) {
  const extra = await setup.stores?.();
  const f = await appFixture(
    { SESSION_ENGINE: setup.engine, SESSION_FILE_PATH: directory, ...extra?.env, ...env },
    extra?.stores ?? {},
  );
  after(async () => {
    await f.app.close();
    await extra?.close();
  });
  const cache = extra?.stores.cache ?? null;
  return { f, cache, ...visitor(f.app) };
}

const serverSide = (setup: Setup) => setup.engine !== "signed_cookies";

for (const setup of SETUPS) {
  describe(`teaching panels on ${setup.name}`, { skip: setup.skip }, () => {
    test("the exchange panel shows the response's own Set-Cookie and whether the store was read or written", async () => {
      const v = await open(setup);
      const first = await v.get("/counter/");
      assert.equal(first.statusCode, 200);
      const sent = setCookieLines(first.headers["set-cookie"]);
      assert.equal(sent.length, 1, "the first write sends the session cookie");
      const [own] = stepHtml(first.body, "this");
      assert.ok(own, "the page has its step");
      assert.deepEqual(roleTexts(own, "set-cookie"), sent, "the panel shows the header exactly as sent");
      assert.equal(roleText(own, "cookie-sent"), "none");
      assert.equal(roleText(own, "store"), "written");
      assert.equal(roleText(own, "vary"), "added (Vary: Cookie)");
      assert.match(roleText(own, "reason")!, /changed: it was saved/);
      if (serverSide(setup)) assert.match(own, /A new key, [a-z0-9]{8}…: the session&#39;s first save/);

      // A read that changes nothing: no Set-Cookie, Vary: Cookie, the store read (or, on
      // engines that read at first touch, read as the page was rendered).
      const cookie = v.jar.cookies.get("sessionid")!;
      const read = await v.get("/session/get/?key=visits");
      assert.deepEqual(setCookieLines(read.headers["set-cookie"]), []);
      const [readStep] = stepHtml(read.body, "this");
      assert.equal(roleText(readStep!, "cookie-sent"), `sessionid=${cookie}`, "the cookie as the framework read it");
      assert.equal(roleText(readStep!, "set-cookie-none"), "none");
      assert.equal(roleText(readStep!, "store"), "read, not written");
      assert.match(roleText(readStep!, "reason")!, /read but not changed/);
    });

    test("a flush is shown on the page it redirects to, with the deletion cookie as sent", async () => {
      const v = await open(setup);
      await v.get("/session/set/?key=a&value=1");
      const flushed = await v.post("/session/flush/");
      assert.equal(flushed.statusCode, 303);
      const deletion = setCookieLines(flushed.headers["set-cookie"]);
      assert.equal(deletion.length, 1);
      assert.match(deletion[0]!, /^sessionid=""; Max-Age=0/);
      const page = await v.get("/session/set/");
      const [before] = stepHtml(page.body, "previous");
      assert.ok(before, "the flush is shown on the next page");
      assert.match(before, /POST \/session\/flush\/ → 303/);
      assert.deepEqual(roleTexts(before, "set-cookie"), deletion);
      assert.match(before, /deletion cookie/);
      const [own] = stepHtml(page.body, "this");
      assert.equal(roleText(own!, "cookie-sent"), "none", "the browser dropped the cookie");
      assert.match(
        page.body,
        /id="snippet-post-session-flush" data-route="POST \/session\/flush\/" data-ran="previous" open/,
      );
      // Shown once: a reload tells only about itself.
      assert.deepEqual(stepHtml((await v.get("/session/set/")).body, "previous"), []);
    });

    test("set_expiry(0): the cookie the POST sent has no Expires or Max-Age, and the page says so", async () => {
      const v = await open(setup);
      await v.get("/expiry/");
      const zero = await v.post("/expiry/", { seconds: "0" });
      const sent = setCookieLines(zero.headers["set-cookie"]);
      assert.equal(sent.length, 1);
      assert.doesNotMatch(sent[0]!, /Max-Age|Expires/);
      const page = await v.get("/expiry/");
      const [before] = stepHtml(page.body, "previous");
      assert.deepEqual(roleTexts(before!, "set-cookie"), sent);
      assert.match(before!, /No Expires and no Max-Age: a browser-session cookie/);
      // The branch that ran is the one highlighted.
      assert.match(page.body, /<mark class="line ran"> {8}request.session.set_expiry\(0\)/);
      assert.doesNotMatch(page.body, /<mark class="line ran"> {8}request.session.set_expiry\(None\)/);
    });

    test("SESSION_SAVE_EVERY_REQUEST: a read-only page is written, and the panel names the setting", async () => {
      const v = await open(setup, { SESSION_SAVE_EVERY_REQUEST: "true" });
      await v.get("/counter/");
      const page = await v.get("/session/get/?key=visits");
      const sent = setCookieLines(page.headers["set-cookie"]);
      assert.equal(sent.length, 1);
      const [own] = stepHtml(page.body, "this");
      assert.deepEqual(roleTexts(own!, "set-cookie"), sent);
      assert.equal(roleText(own!, "store"), "read and written");
      assert.match(roleText(own!, "reason")!, /^SESSION_SAVE_EVERY_REQUEST is on/);
    });

    test("login: the key change is pointed out on the page login leads to", async () => {
      const v = await open(setup);
      await v.f.db
        .insertInto("users")
        .values({ username: "ada", password: await hashPassword("correct horse", "fast") })
        .execute();
      await v.get("/cart/");
      await v.post("/cart/add/", { item: "apple" });
      const before = v.jar.cookies.get("sessionid")!;
      await v.get("/login/");
      const login = await v.post("/login/", { username: "ada", password: "correct horse", next: "/account/" });
      assert.equal(login.statusCode, 303);
      const sent = setCookieLines(login.headers["set-cookie"]);
      assert.equal(sent.length, 1);
      const page = await v.get("/account/");
      assert.equal(page.statusCode, 200);
      const [step] = stepHtml(page.body, "previous");
      assert.match(step!, /POST \/login\/ → 303/);
      assert.equal(roleText(step!, "cookie-sent"), `sessionid=${before}`);
      assert.deepEqual(roleTexts(step!, "set-cookie"), sent);
      if (serverSide(setup)) {
        assert.match(
          step!,
          new RegExp(`The key changed from ${before.slice(0, 8)}… to ${v.jar.cookies.get("sessionid")!.slice(0, 8)}…`),
        );
      }
      assert.match(page.body, /data-route="POST \/login\/" data-ran="previous" open/);
      assert.match(page.body, /<mark class="line ran"> {6}await request.login\(user\);<\/mark>/);
    });

    test("the stored record shown is what the store holds after the response", async () => {
      const v = await open(setup);
      for (const visits of [1, 2]) {
        const page = await v.get("/counter/");
        const cookie = v.jar.cookies.get("sessionid")!;
        switch (setup.engine) {
          case "db":
          case "cached_db": {
            const row = await v.f.db
              .selectFrom("sessions")
              .select(["session_key", "session_data", "expire_date"])
              .where("session_key", "=", cookie)
              .executeTakeFirstOrThrow();
            assert.equal(roleText(page.body, "session_key", "data-column"), row.session_key);
            assert.equal(roleText(page.body, "session_data", "data-column"), row.session_data);
            const expire = row.expire_date instanceof Date ? row.expire_date.toISOString() : row.expire_date;
            assert.equal(roleText(page.body, "expire_date", "data-column"), expire);
            assert.ok(page.body.includes(`WHERE session_key = '${cookie}';`), "the SELECT names the key");
            assert.equal(roleText(page.body, "verified"), "verifies with SECRET_KEY");
            assert.deepEqual(JSON.parse(roleText(page.body, "json")!), { visits });
            break;
          }
          case "cache": {
            const key = `django.contrib.sessions.cache${cookie}`;
            const stored = await v.cache!.get(key);
            assert.equal(roleText(page.body, "cache-value"), stored);
            assert.deepEqual(JSON.parse(stored!), { visits });
            assert.match(roleText(page.body, "cache-key")!, new RegExp(`^test-teach-[0-9a-f]+:1:${key}$`));
            const ttl = Number(/^(\d+) s$/.exec(roleText(page.body, "ttl")!)![1]);
            assert.ok(Math.abs(ttl - 1_209_600) <= 2, `TTL ${ttl}`);
            break;
          }
          case "file": {
            const file = join(directory, `sessionid${cookie}`);
            assert.equal(roleText(page.body, "file-path"), file);
            assert.equal(roleText(page.body, "file-contents"), readFileSync(file, "latin1"));
            assert.equal(roleText(page.body, "file-mtime"), statSync(file).mtime.toISOString());
            assert.deepEqual(JSON.parse(roleText(page.body, "json")!), { visits });
            break;
          }
          case "signed_cookies": {
            assert.equal(roleText(page.body, "cookie-value"), cookie);
            assert.equal(roleText(page.body, "verified"), "verifies with SECRET_KEY");
            assert.deepEqual(JSON.parse(roleText(page.body, "json")!), { visits });
            break;
          }
        }
      }
    });
  });
}

describe("what the panels leave alone", () => {
  test("JSON, static files and error pages are not touched; the markers never reach the browser", async () => {
    const v = await open(SETUPS[0]!);
    await v.get("/counter/");
    const json = await v.get("/session/json/");
    assert.equal(json.headers["content-type"], "application/json; charset=utf-8");
    assert.doesNotMatch(json.body, /teach/);
    const css = await v.get("/static/style.css");
    assert.equal(css.headers["set-cookie"], undefined);
    const missing = await v.get("/no-such-page/");
    assert.equal(missing.statusCode, 404);
    assert.doesNotMatch(missing.body, /What just happened/);
    for (const page of [
      "/",
      "/session/set/",
      "/session/get/",
      "/counter/",
      "/cart/",
      "/expiry/",
      "/login/",
      "/settings/",
    ]) {
      const body = (await v.get(page)).body;
      assert.doesNotMatch(body, /<!--teach:/, page);
      assert.match(body, /id="exchange-this"/, page);
      assert.match(body, /id="record-panel"/, page);
      assert.match(body, /<section class="teach-code" id="django-code"/, page);
    }
  });

  test("a value that looks like HTML is escaped in every panel", async () => {
    const v = await open(SETUPS[0]!);
    const page = await v.get(`/session/set/?key=x&value=${encodeURIComponent("<script>alert(1)</script>")}`);
    assert.doesNotMatch(page.body, /<script>alert/);
    assert.match(unescapeHtml(roleText(page.body, "json") ?? ""), /\\u003cscript\\u003e|<script>/);
  });
});
