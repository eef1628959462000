/**
 * When the cache fails: the `cache` engine answers 503 (CacheUnavailable) and `cached_db` logs
 * and keeps serving from the database, never serving a copy from before the outage.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CacheUnavailable, createSessionEngine, MemoryCache, type SwapResult } from "../../src/index.js";
import { CACHED_DB_KEY_PREFIX } from "../../src/engines/cached-db.js";
import { memoryStore, recordingLogger, TestClock, testSettings } from "../../../../test/helpers.js";

type Operation = "get" | "set" | "add" | "swap";

/** An in-process cache whose chosen operations fail, as a cache behind a broken connection does. */
class FailingCache extends MemoryCache {
  failing = new Set<Operation>();
  error: Error = new CacheUnavailable("a test cache", new Error("connection refused"));

  private check(operation: Operation): void {
    if (this.failing.has(operation)) throw this.error;
  }
  override async get(key: string): Promise<string | undefined> {
    this.check("get");
    return super.get(key);
  }
  override async set(key: string, text: string, ttlSeconds: number): Promise<void> {
    this.check("set");
    return super.set(key, text, ttlSeconds);
  }
  override async add(key: string, text: string, ttlSeconds: number): Promise<boolean> {
    this.check("add");
    return super.add(key, text, ttlSeconds);
  }
  override async swap(key: string, expected: string, text: string, ttlSeconds: number): Promise<SwapResult> {
    this.check("swap");
    return super.swap(key, expected, text, ttlSeconds);
  }
}

test("CacheUnavailable is a 503 that names the cache and says why", () => {
  const error = new CacheUnavailable("Redis at redis://127.0.0.1:1", new Error("connect ECONNREFUSED"));
  assert.equal(error.name, "CacheUnavailable");
  assert.equal(error.statusCode, 503);
  assert.equal(error.message, "The session cache (Redis at redis://127.0.0.1:1) is unavailable: connect ECONNREFUSED");
  assert.equal(new CacheUnavailable("x", "timeout").message, "The session cache (x) is unavailable: timeout");
});

test("the cache engine: an unreachable cache is a 503, any other read failure a miss (as Django)", async () => {
  const cache = new FailingCache();
  // Without getSync the engine reads asynchronously, through get().
  Object.defineProperty(cache, "getSync", { value: undefined });
  const engine = await createSessionEngine(testSettings({ SESSION_ENGINE: "cache" }), { caches: { default: cache } });
  assert.equal(engine.loadsSynchronously, false);
  const session = engine.open(null);
  session.set("a", 1);
  await session.save();
  const key = session.sessionKey!;
  assert.equal(engine.open(key).isLoaded, false, "a cache without getSync needs a load");

  cache.failing.add("get");
  await assert.rejects(engine.open(key).load(), CacheUnavailable);

  cache.error = new Error("a reply the client could not parse");
  const missed = engine.open(key);
  await missed.load();
  assert.equal(missed.get("a"), undefined);
  assert.equal(missed.sessionKey, null, "a miss: the key is dropped");

  cache.failing.clear();
  const back = engine.open(key);
  await back.load();
  assert.equal(back.get("a"), 1, "the session is still there when the cache answers");
});

test("the in-process cache engine reads at the first touch", async () => {
  const engine = await createSessionEngine(testSettings({ SESSION_ENGINE: "cache" }), {
    caches: { default: new MemoryCache() },
  });
  const session = engine.open(null);
  session.set("a", 1);
  await session.save();
  const again = engine.open(session.sessionKey);
  assert.equal(again.isLoaded, true);
  assert.equal(again.get("a"), 1);
});

async function cachedDb() {
  const { db } = await memoryStore();
  const cache = new FailingCache();
  const clock = new TestClock();
  const engine = await createSessionEngine(
    testSettings({ SESSION_ENGINE: "cached_db" }),
    { db, caches: { default: cache } },
    { now: clock.now },
  );
  const log = recordingLogger();
  return { db, cache, engine, log };
}

test("cached_db while the cache is down: logged, the database serves, and the copy from before is never served", async (t) => {
  const { cache, engine, log } = await cachedDb();
  t.after(() => engine.close?.());
  const session = engine.open(null, log);
  session.set("n", 1);
  await session.save();
  const key = session.sessionKey!;
  assert.equal(await cache.get(CACHED_DB_KEY_PREFIX + key), '{"n":1}');

  cache.failing = new Set(["get", "set", "add", "swap"]);
  const reading = engine.open(key, log);
  await reading.load();
  assert.equal(reading.get("n"), 1, "read from the database");
  assert.equal(log.errors.at(-1)?.msg, "Error reading from cache; using the database");
  assert.ok(log.errors.at(-1)?.obj.err instanceof CacheUnavailable);

  reading.set("n", 2);
  await reading.save();
  assert.equal(log.errors.at(-1)?.msg, "Error saving to cache (in-process cache (max 10000 entries))");

  // A new session while the cache is down: in the database, its cache entry not written.
  const created = engine.open(null, log);
  created.set("new", true);
  const errorsBefore = log.errors.length;
  await created.save();
  assert.equal(log.errors.length, errorsBefore + 1);
  assert.equal(await engine.open(null).exists(created.sessionKey!), true);

  // Back up: the cache still holds {"n":1}, but this process reads that session from the database.
  cache.failing.clear();
  assert.equal(await cache.get(CACHED_DB_KEY_PREFIX + created.sessionKey!), undefined);
  assert.equal(await cache.get(CACHED_DB_KEY_PREFIX + key), '{"n":1}');
  const after = engine.open(key, log);
  await after.load();
  assert.equal(after.get("n"), 2, "not the copy from before the outage");

  // A delete while the cache is down: the row goes, the tombstone cannot be written (logged).
  cache.failing.add("set");
  const errors = log.errors.length;
  await after.deleteRecord();
  assert.equal(log.errors.length, errors + 1);
  assert.equal(await engine.open(null).exists(key), false);
});

test("cached_db: a failed fill or a failed swap is logged and the database stays right", async (t) => {
  const { cache, engine, log } = await cachedDb();
  t.after(() => engine.close?.());
  const session = engine.open(null, log);
  session.set("n", 1);
  await session.save();
  const key = session.sessionKey!;
  const cacheKey = CACHED_DB_KEY_PREFIX + key;

  // An empty entry is filled from the database with add(); when that fails the read still answers.
  await cache.delete(cacheKey);
  cache.failing.add("add");
  const reading = engine.open(key, log);
  await reading.load();
  assert.equal(reading.get("n"), 1);
  assert.equal(log.errors.length, 1);
  assert.match(log.errors[0]!.msg, /^Error saving to cache/);
  assert.equal(await cache.get(cacheKey), undefined);
  cache.failing.clear();

  // The save marks the entry, writes the row, then the swap to the new data fails: logged, the
  // mark stays, so readers go to the database.
  cache.failing.add("swap");
  reading.set("n", 2);
  await reading.save();
  assert.equal(log.errors.length, 2);
  cache.failing.clear();
  assert.match((await cache.get(cacheKey)) ?? "", /^!writing:/);
  const after = engine.open(key, log);
  await after.load();
  assert.equal(after.get("n"), 2);
});
