/**
 * Many requests of one session at once, over HTTP, on every server-side engine (what a page with
 * several fetches, two tabs or a double click does): distinct keys are merged, the locked counter
 * and cart lose nothing, and a logout that races a write is never undone.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RedisCache } from "fastify-django-sessions";
import { appFixture, csrfToken, type FixtureStores } from "./helpers.js";
import { NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "./services.js";

const directory = mkdtempSync(join(tmpdir(), "concurrent-requests-"));
after(() => rmSync(directory, { recursive: true, force: true }));

const N = 100;

interface Setup {
  name: string;
  engine: string;
  skip?: string | false;
  stores?: () => Promise<FixtureStores & { close(): Promise<void> }>;
}

const redis = async () => {
  const cache = new RedisCache({ url: REDIS_URL!, keyPrefix: uniquePrefix("concurrent") });
  return { cache, close: () => cache.close() };
};
const postgres = async (label: string) => {
  const database = await postgresSchema(label);
  return { database, close: () => database.drop() };
};

const SETUPS: Setup[] = [
  { name: "db (SQLite)", engine: "db" },
  { name: "db (PostgreSQL)", engine: "db", skip: NO_POSTGRES, stores: () => postgres("concurrent_db") },
  { name: "cache (Redis)", engine: "cache", skip: NO_REDIS, stores: redis },
  { name: "cache (in-process)", engine: "cache" },
  { name: "cached_db (SQLite + in-process cache)", engine: "cached_db" },
  {
    name: "cached_db (PostgreSQL + Redis)",
    engine: "cached_db",
    skip: NO_POSTGRES || NO_REDIS,
    async stores() {
      const [pg, cache] = await Promise.all([postgres("concurrent_cached"), redis()]);
      return {
        database: pg.database,
        cache: cache.cache,
        async close() {
          await cache.close();
          await pg.close();
        },
      };
    },
  },
  { name: "file", engine: "file" },
];

type App = Awaited<ReturnType<typeof appFixture>>;

/** A browser whose one new session sends everything at once. */
async function browserOn(f: App) {
  const first = await f.app.inject({ method: "GET", url: "/session/set/?key=start&value=1" });
  const cookies = [first.headers["set-cookie"]].flat().map((line) => String(line).split(";")[0]);
  const cookie = cookies.join("; ");
  const token = csrfToken(first.body);
  const sessionKey = /sessionid=([a-z0-9]+)/.exec(cookie)?.[1];
  assert.ok(sessionKey, "the first request made a session");
  return {
    f,
    sessionKey,
    get: (url: string) => f.app.inject({ method: "GET", url, headers: { cookie } }),
    post: (url: string, fields: Record<string, string> = {}) =>
      f.app.inject({
        method: "POST",
        url,
        payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      }),
    /** The session's data as the next request reads it. */
    async data(): Promise<Record<string, unknown>> {
      const json = await f.app.inject({ method: "GET", url: "/session/json/", headers: { cookie } });
      return (JSON.parse(json.body) as { session: Record<string, unknown> }).session;
    },
  };
}

const statuses = (responses: { statusCode: number }[]) => [...new Set(responses.map((r) => r.statusCode))];

/** What the app logged at warn and above, for an assertion's message. */
const logged = (f: App) =>
  f.logs
    .filter((line) => Number(line.level) >= 40)
    .map((line) => JSON.stringify(line).slice(0, 500))
    .join("\n");

for (const setup of SETUPS) {
  describe(`${N} requests of one session at once: ${setup.name}`, { skip: setup.skip ?? false }, () => {
    // The demo app on this engine, built once for its tests (each test has a session of its own).
    let app: App;
    let stores: Awaited<ReturnType<NonNullable<Setup["stores"]>>> | undefined;
    before(async () => {
      stores = await setup.stores?.();
      app = await appFixture({ SESSION_ENGINE: setup.engine, SESSION_FILE_PATH: directory }, stores ?? {});
    });
    after(async () => {
      await app?.app.close();
      await stores?.close();
    });
    test(`${N} requests setting ${N} different keys: all ${N} kept`, async () => {
      const b = await browserOn(app);
      const responses = await Promise.all(
        Array.from({ length: N }, (_, i) => b.get(`/session/set/?key=k${i}&value=${i}`)),
      );
      assert.deepEqual(statuses(responses), [200], logged(b.f));
      const data = await b.data();
      const kept = Array.from({ length: N }, (_, i) => `k${i}`).filter((key) => data[key] === key.slice(1));
      assert.equal(kept.length, N, `kept ${kept.length} of ${N}`);
      assert.equal(data.start, "1", "what was there before is kept too");
    });

    test(`${N} hits on the locked counter at once: exactly ${N} visits`, async () => {
      const b = await browserOn(app);
      const responses = await Promise.all(Array.from({ length: N }, () => b.get("/counter/")));
      assert.deepEqual(statuses(responses), [200], logged(b.f));
      const counts = responses
        .map((r) => Number(/<strong id="visits">(\d+)<\/strong>/.exec(r.body)?.[1]))
        .sort((x, y) => x - y);
      assert.deepEqual(
        counts,
        Array.from({ length: N }, (_, i) => i + 1),
        "each request saw the one before it",
      );
      assert.equal((await b.data()).visits, N);
    });

    test(`${N} cart adds at once: all ${N} items in the cart, and other keys untouched`, async () => {
      const b = await browserOn(app);
      const [adds, sets] = await Promise.all([
        Promise.all(
          Array.from({ length: N }, (_, i) =>
            b.post(i % 2 ? "/cart/add/" : "/cart/add-inplace/", { item: `item ${i}` }),
          ),
        ),
        Promise.all(Array.from({ length: 10 }, (_, i) => b.get(`/session/set/?key=other${i}&value=${i}`))),
      ]);
      assert.deepEqual(statuses(adds), [303], logged(b.f));
      assert.deepEqual(statuses(sets), [200], logged(b.f));
      const data = await b.data();
      const cart = data.cart as string[];
      assert.equal(cart.length, N);
      assert.deepEqual([...cart].sort(), Array.from({ length: N }, (_, i) => `item ${i}`).sort());
      for (let i = 0; i < 10; i++) assert.equal(data[`other${i}`], String(i));
    });

    test("a logout racing many writes: the session ends and is never brought back", async () => {
      const b = await browserOn(app);
      const writes = Array.from({ length: 30 }, (_, i) => b.get(`/session/set/?key=late${i}&value=${i}`));
      const logout = b.post("/session/flush/");
      const responses = await Promise.all([...writes, logout]);
      // A write either landed before the logout (200) or found its session gone (Django's 400).
      for (const r of responses.slice(0, -1)) assert.ok([200, 400].includes(r.statusCode), `status ${r.statusCode}`);
      assert.equal((await logout).statusCode, 303);
      assert.deepEqual(await b.data(), {}, "nothing of the session is readable after the logout");
      const later = b.f.engine.open(b.sessionKey);
      await later.load();
      assert.deepEqual(later.items(), []);
    });
  });
}
