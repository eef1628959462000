import assert from "node:assert/strict";
import { test } from "node:test";
import { generateSessionKey, SESSION_KEY_LENGTH } from "../src/keys.js";

test("generated keys are 32 characters of a-z0-9 and do not repeat", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const key = generateSessionKey();
    assert.equal(key.length, SESSION_KEY_LENGTH);
    assert.match(key, /^[a-z0-9]{32}$/);
    seen.add(key);
  }
  assert.equal(seen.size, 5000);
});

test("every character of the alphabet is used with roughly equal frequency", () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 2000; i++) for (const ch of generateSessionKey()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  assert.equal(counts.size, 36);
  const expected = (2000 * 32) / 36;
  for (const [ch, n] of counts) assert.ok(Math.abs(n - expected) < expected * 0.15, `${ch}: ${n}`);
});
