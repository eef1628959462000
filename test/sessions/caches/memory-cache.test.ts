/** MemoryCache: bounded, least recently used evicted first, per-entry TTL, no shared objects. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryCache } from "../../../src/sessions/index.js";
import { TestClock } from "../../helpers.js";

test("the least recently used entry goes first when the cache is full", async () => {
  const cache = new MemoryCache({ maxEntries: 2 });
  await cache.set("a", { v: 1 }, 60);
  await cache.set("b", { v: 2 }, 60);
  await cache.get("a");
  await cache.set("c", { v: 3 }, 60);
  assert.equal(await cache.has("a"), true);
  assert.equal(await cache.has("b"), false);
  assert.equal(await cache.has("c"), true);
});

test("each entry expires after its own TTL", async () => {
  const clock = new TestClock();
  const cache = new MemoryCache({ now: clock.now });
  await cache.set("short", { v: 1 }, 10);
  await cache.set("long", { v: 2 }, 100);
  clock.advance(11);
  assert.equal(await cache.get("short"), undefined);
  assert.deepEqual(await cache.get("long"), { v: 2 });
});

test("add and replace are conditional; a TTL of 0 removes", async () => {
  const cache = new MemoryCache();
  assert.equal(await cache.add("k", { v: 1 }, 60), true);
  assert.equal(await cache.add("k", { v: 2 }, 60), false);
  assert.equal(await cache.replace("k", { v: 3 }, 60), true);
  assert.equal(await cache.replace("missing", { v: 3 }, 60), false);
  await cache.set("k", { v: 3 }, 0);
  assert.equal(await cache.has("k"), false);
});

test("a value read back is a copy: changing it does not change the cache", async () => {
  const cache = new MemoryCache();
  await cache.set("k", { list: [1] }, 60);
  const value = await cache.get("k");
  (value!.list as number[]).push(2);
  assert.deepEqual(await cache.get("k"), { list: [1] });
});
