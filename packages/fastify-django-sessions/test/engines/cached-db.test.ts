/**
 * cached_db reads the cache first, on every way of reaching the database: with a kysely instance
 * alone and with the better-sqlite3 handle too (which the db engine reads synchronously).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CACHED_DB_KEY_PREFIX, createSessionEngine, MemoryCache } from "../../src/index.js";
import { memoryStore, TestClock, testSettings } from "../../../../test/helpers.js";

for (const handle of [false, true]) {
  describe(`cached_db ${handle ? "with the better-sqlite3 handle" : "through kysely alone"}`, () => {
    async function fixture() {
      const clock = new TestClock();
      const { db, sqlite } = await memoryStore();
      const cache = new MemoryCache({ now: clock.now });
      const engine = await createSessionEngine(
        testSettings({ SESSION_ENGINE: "cached_db" }),
        { db, caches: { default: cache }, ...(handle ? { sqlite } : {}) },
        { now: clock.now },
      );
      const session = engine.open(null);
      session.set("colour", "blue");
      await session.save();
      return { engine, cache, sqlite, key: session.sessionKey! };
    }

    test("a read is served from the cache, not the row", async () => {
      const { engine, sqlite, key } = await fixture();
      // Changed behind the framework's back: only a read of the row would see it.
      sqlite.prepare("update sessions set session_data = 'tampered' where session_key = ?").run(key);
      const session = engine.open(key);
      await session.load();
      assert.equal(session.get("colour"), "blue");
    });

    test("a cache miss reads the row and fills the cache", async () => {
      const { engine, cache, key } = await fixture();
      await cache.delete(CACHED_DB_KEY_PREFIX + key);
      const session = engine.open(key);
      await session.load();
      assert.equal(session.get("colour"), "blue");
      assert.deepEqual(JSON.parse((await cache.get(CACHED_DB_KEY_PREFIX + key))!), { colour: "blue" });
    });
  });
}
