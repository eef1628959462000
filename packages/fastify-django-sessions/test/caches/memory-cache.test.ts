/** MemoryCache: bounded, least recently used evicted first, per-entry TTL, text entries, atomic swap. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryCache, type SessionCache } from "../../src/index.js";
import { TestClock } from "../../../../test/helpers.js";

test("the least recently used entry goes first when the cache is full", async () => {
  const cache = new MemoryCache({ maxEntries: 2 });
  await cache.set("a", "1", 60);
  await cache.set("b", "2", 60);
  await cache.get("a");
  await cache.set("c", "3", 60);
  assert.equal(await cache.has("a"), true);
  assert.equal(await cache.has("b"), false);
  assert.equal(await cache.has("c"), true);
});

test("each entry expires after its own TTL", async () => {
  const clock = new TestClock();
  const cache = new MemoryCache({ now: clock.now });
  await cache.set("short", "s", 10);
  await cache.set("long", "l", 100);
  clock.advance(11);
  assert.equal(await cache.get("short"), undefined);
  assert.equal(await cache.get("long"), "l");
});

test("add only when absent; a TTL of 0 removes", async () => {
  const cache = new MemoryCache();
  assert.equal(await cache.add("k", "1", 60), true);
  assert.equal(await cache.add("k", "2", 60), false);
  assert.equal(await cache.get("k"), "1");
  await cache.set("k", "3", 0);
  assert.equal(await cache.has("k"), false);
});

test("swap stores only over the expected text, and reports what it found otherwise", async () => {
  const clock = new TestClock();
  const cache = new MemoryCache({ now: clock.now });
  await cache.set("k", "v1", 60);
  assert.deepEqual(await cache.swap("k", "v0", "v2", 60), { swapped: false, found: "v1" });
  assert.equal(await cache.get("k"), "v1");
  assert.deepEqual(await cache.swap("k", "v1", "v2", 30), { swapped: true });
  assert.equal(await cache.get("k"), "v2");
  assert.equal(await cache.expiresAt("k"), clock.now() + 30_000, "the new TTL applies");
  assert.deepEqual(await cache.swap("missing", "v1", "v2", 60), { swapped: false, found: undefined });
  assert.equal(await cache.has("missing"), false);
  assert.deepEqual(await cache.swap("k", "v2", "v3", 0), { swapped: true });
  assert.equal(await cache.has("k"), false, "a TTL of 0 or less removes the entry");
});

test("the in-process cache has no lock store: one process is all there is", () => {
  assert.equal((new MemoryCache() as SessionCache).locks, undefined);
});

test("ping always answers; close empties the cache", async () => {
  const cache = new MemoryCache();
  await cache.set("k", "1", 60);
  await cache.ping();
  await cache.close();
  assert.equal(await cache.has("k"), false);
});
