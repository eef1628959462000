/** RedisCache against the real Redis (REDIS_URL): atomic add/replace and TTLs in real time. */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, test } from "node:test";
import { Redis } from "ioredis";
import { createSessionEngine, RedisCache } from "../../../src/sessions/index.js";
import { testSettings } from "../../helpers.js";
import { NO_REDIS, REDIS_URL, uniquePrefix } from "../../services.js";

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

  test("keys follow Django's key function and values are JSON", async () => {
    await cache.set("k1", { a: 1, b: ["x"] }, 60);
    assert.equal(await raw.get(`${prefix}:1:k1`), '{"a":1,"b":["x"]}');
    assert.deepEqual(await cache.get("k1"), { a: 1, b: ["x"] });
    assert.equal(await cache.get("absent"), undefined);
  });

  test("add only when absent, replace only when present", async () => {
    assert.equal(await cache.add("k2", { v: 1 }, 60), true);
    assert.equal(await cache.add("k2", { v: 2 }, 60), false);
    assert.deepEqual(await cache.get("k2"), { v: 1 });
    assert.equal(await cache.replace("k2", { v: 3 }, 60), true);
    assert.equal(await cache.replace("k3", { v: 3 }, 60), false);
    assert.equal(await cache.has("k3"), false);
    await cache.delete("k2");
    assert.equal(await cache.has("k2"), false);
  });

  test("a TTL of 0 or less removes the entry", async () => {
    await cache.set("k4", { v: 1 }, 60);
    await cache.set("k4", { v: 1 }, 0);
    assert.equal(await cache.has("k4"), false);
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
    await sleep(1300);
    const later = engine.open(short.sessionKey);
    await later.load();
    assert.equal(later.get("a"), undefined, "Redis expired the entry by itself");
  });
});
