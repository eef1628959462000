/** RedisCache against the real Redis (REDIS_URL): atomic add/swap, lock leases and TTLs in real time. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { Redis } from "ioredis";
import { CacheUnavailable, createSessionEngine, RedisCache } from "../../src/index.js";
import { maskUrl } from "../../src/urls.js";
import { testSettings } from "../../../../test/helpers.js";
import { NO_REDIS, REDIS_URL, uniquePrefix } from "../../../../test/services.js";

describe("RedisCache", { skip: NO_REDIS }, () => {
  const prefix = uniquePrefix("redis-cache");
  const cache = new RedisCache({ url: REDIS_URL!, keyPrefix: prefix });
  const raw = new Redis(REDIS_URL!);
  after(async () => {
    const keys = await raw.keys(`${prefix}:*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
    await cache.close();
  });

  test("keys follow Django's key function and entries are stored as given", async () => {
    await cache.set("k1", '{"a":1,"b":["x"]}', 60);
    assert.equal(await raw.get(`${prefix}:1:k1`), '{"a":1,"b":["x"]}');
    assert.equal(await cache.get("k1"), '{"a":1,"b":["x"]}');
    assert.equal(await cache.get("absent"), undefined);
  });

  test("add only when absent", async () => {
    assert.equal(await cache.add("k2", "1", 60), true);
    assert.equal(await cache.add("k2", "2", 60), false);
    assert.equal(await cache.get("k2"), "1");
    await cache.delete("k2");
    assert.equal(await cache.has("k2"), false);
  });

  test("swap is one atomic compare-and-set: it stores only over the expected text", async () => {
    await cache.set("k3", "v1", 60);
    assert.deepEqual(await cache.swap("k3", "v0", "v2", 60), { swapped: false, found: "v1" });
    assert.deepEqual(await cache.swap("k3", "v1", "v2", 30), { swapped: true });
    assert.equal(await raw.get(`${prefix}:1:k3`), "v2");
    const ttl = await raw.pttl(`${prefix}:1:k3`);
    assert.ok(ttl > 29_000 && ttl <= 30_000, `PTTL ${ttl}`);
    assert.deepEqual(await cache.swap("absent", "v1", "v2", 60), { swapped: false, found: undefined });
    assert.equal(await raw.exists(`${prefix}:1:absent`), 0);
    assert.deepEqual(await cache.swap("k3", "v2", "v3", 0), { swapped: true });
    assert.equal(await raw.exists(`${prefix}:1:k3`), 0, "a TTL of 0 or less removes the entry");
  });

  test("of many concurrent swaps from one expected text exactly one wins", async () => {
    await cache.set("k5", "start", 60);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.swap("k5", "start", `w${i}`, 60)));
    assert.equal(results.filter((r) => r.swapped).length, 1);
  });

  test("a TTL of 0 or less removes the entry", async () => {
    await cache.set("k4", "1", 60);
    await cache.set("k4", "1", 0);
    assert.equal(await cache.has("k4"), false);
  });

  test("lock leases: SET NX PX, given back only by their holder, ended by Redis when the lease runs out", async () => {
    const name = "lockedsessionkey00000000000000000";
    const lockKey = `${prefix}:1:django.contrib.sessions.lock${name}`;
    assert.equal(await cache.locks.tryAcquire(name, "token-a", 5000), true);
    assert.equal(await raw.get(lockKey), "token-a");
    assert.equal(await cache.locks.tryAcquire(name, "token-b", 5000), false, "held");
    await cache.locks.release(name, "token-b");
    assert.equal(await raw.get(lockKey), "token-a", "a stranger's release does nothing");
    await cache.locks.release(name, "token-a");
    assert.equal(await raw.exists(lockKey), 0);
    assert.equal(await cache.locks.tryAcquire(name, "token-c", 30), true);
    const lease = await raw.pttl(lockKey);
    assert.ok(lease > 0 && lease <= 30, `the lease is Redis's to end: PTTL ${lease}`);
    await sleep(60);
    assert.equal(
      await cache.locks.tryAcquire(name, "token-d", 5000),
      true,
      "a lapsed lease (a crashed holder) is taken over",
    );
    await cache.locks.release(name, "token-d");
  });

  test("the cache engine's TTL is the session's expiry age, in real time", async () => {
    const settings = testSettings({ SESSION_ENGINE: "cache" });
    const engine = await createSessionEngine(settings, { caches: { default: cache } });
    const session = engine.open(null);
    session.set("a", 1);
    await session.save();
    const ttl = await raw.pttl(`${prefix}:1:django.contrib.sessions.cache${session.sessionKey}`);
    assert.ok(ttl > 1_209_590_000 && ttl <= 1_209_600_000, `PTTL ${ttl}`);

    const short = engine.open(null);
    short.set("a", 1);
    short.setExpiry(1);
    await short.save();
    const again = engine.open(short.sessionKey);
    await again.load();
    assert.equal(again.get("a"), 1);
    const shortKey = `${prefix}:1:django.contrib.sessions.cache${short.sessionKey}`;
    const shortTtl = await raw.pttl(shortKey);
    assert.ok(shortTtl > 0 && shortTtl <= 1000, `set_expiry(1) gives a 1 s TTL: PTTL ${shortTtl}`);
    // Rather than wait out that second: Redis is told to end the entry now, and ends it itself.
    await raw.pexpire(shortKey, 10);
    await sleep(30);
    const later = engine.open(short.sessionKey);
    await later.load();
    assert.equal(later.get("a"), undefined, "Redis expired the entry by itself");
  });
});

test("an unreachable Redis: each call fails at once with CacheUnavailable (503), the password masked", async () => {
  // Port 1 on loopback: nothing listens, so the connection is refused.
  const cache = new RedisCache({ url: "redis://:s3cret@127.0.0.1:1", keyPrefix: "unreachable" });
  try {
    const error = await cache.ping().then(
      () => assert.fail("ping answered"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof CacheUnavailable);
    assert.equal(error.statusCode, 503);
    assert.match(
      error.message,
      /^The session cache \(Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\) is unavailable: .*ECONNREFUSED/,
    );
    assert.doesNotMatch(error.message, /s3cret/);
    await assert.rejects(cache.get("k"), CacheUnavailable);
  } finally {
    await cache.close();
  }
});

test("a URL that does not parse is not shown in the description (it could hold a password)", () => {
  assert.equal(maskUrl("redis://:pa ss@[bad"), "(unparseable URL)");
  assert.equal(maskUrl("redis://user:secret@host:6379/0"), "redis://user:***@host:6379/0");
  assert.equal(maskUrl("redis://host:6379"), "redis://host:6379");
});
