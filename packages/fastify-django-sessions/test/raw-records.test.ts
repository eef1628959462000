/**
 * SessionEngine.readRecord: what each built-in engine keeps for a session, read raw, as an app
 * shows it (the demo's "stored record" panel) without knowing an engine's insides.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  CACHE_KEY_PREFIX,
  CACHED_DB_KEY_PREFIX,
  createSessionEngine,
  MemoryCache,
  SIGNED_COOKIE_SALT,
  STORED_DATA_SALT,
  TimestampSigner,
  type RawRecord,
  type SessionEngine,
} from "../src/index.js";
import { memoryDatabase, TEST_SECRET, TestClock, testSettings } from "../../../test/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "raw-records-"));
after(() => rmSync(directory, { recursive: true, force: true }));

async function engineFor(name: string, clock = new TestClock()): Promise<SessionEngine> {
  return createSessionEngine(
    testSettings({ SESSION_ENGINE: name, SESSION_FILE_PATH: directory }),
    { db: await memoryDatabase(), caches: { default: new MemoryCache({ now: clock.now }) } },
    { now: clock.now },
  );
}

/** A saved session holding {colour: "blue"}; its key. */
async function saved(engine: SessionEngine): Promise<string> {
  const session = engine.open(null);
  session.set("colour", "blue");
  await session.save();
  return session.sessionKey!;
}

const signer = new TimestampSigner({ secret: TEST_SECRET, salt: STORED_DATA_SALT });
const UNUSABLE = ["short", "x".repeat(41), "ABCDEFGHIJKLMNOP", "../../etc/passwd", "a".repeat(8000)];

describe("readRecord", () => {
  test("db: the row as the table holds it, its data signed with the stored-data salt", async () => {
    const engine = await engineFor("db");
    const key = await saved(engine);
    const record = await engine.readRecord!(key);
    assert.equal(record.kind, "row");
    const { row, salt, table } = record;
    assert.equal(table, "sessions");
    assert.equal(salt, STORED_DATA_SALT);
    assert.equal(row?.session_key, key);
    assert.deepEqual(signer.unsignObject(row.session_data), { colour: "blue" });
    assert.match(String(row?.expire_date), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    assert.deepEqual(await engine.readRecord!("a".repeat(32)), {
      kind: "row",
      table: "sessions",
      row: null,
      salt: STORED_DATA_SALT,
    });
  });

  test("cached_db: the row and the cache's copy in front of it", async () => {
    const engine = await engineFor("cached_db");
    const key = await saved(engine);
    const record = (await engine.readRecord!(key)) as Extract<RawRecord, { kind: "row" }>;
    assert.equal(record.row?.session_key, key);
    assert.equal(record.cacheCopy?.key, CACHED_DB_KEY_PREFIX + key);
    assert.deepEqual(JSON.parse(record.cacheCopy.text!), { colour: "blue" });
    assert.ok(record.cacheCopy.expiresAt! > Date.UTC(2026, 0, 1));
  });

  test("cache: the entry under Django's key prefix, with its expiry", async () => {
    const clock = new TestClock();
    const engine = await engineFor("cache", clock);
    const key = await saved(engine);
    const record = await engine.readRecord!(key);
    assert.equal(record.kind, "cache");
    const { entry } = record;
    assert.equal(entry.key, CACHE_KEY_PREFIX + key);
    assert.deepEqual(JSON.parse(entry.text!), { colour: "blue" });
    assert.equal(entry.expiresAt, clock.now() + 1_209_600_000);
    const missing = (await engine.readRecord!("b".repeat(32))) as Extract<RawRecord, { kind: "cache" }>;
    assert.deepEqual([missing.entry.text, missing.entry.expiresAt], [null, null]);
  });

  test("file: the file's path and contents, exactly as on disk", async () => {
    const engine = await engineFor("file");
    const key = await saved(engine);
    const record = (await engine.readRecord!(key)) as Extract<RawRecord, { kind: "file" }>;
    assert.equal(record.path, join(directory, `sessionid${key}`));
    assert.equal(record.contents, readFileSync(record.path, "latin1"));
    assert.ok(record.modified instanceof Date);
    const missing = (await engine.readRecord!("c".repeat(32))) as Extract<RawRecord, { kind: "file" }>;
    assert.deepEqual([missing.contents, missing.modified], [null, null]);
  });

  test("signed_cookies: the cookie is the record, with its own salt", async () => {
    const engine = await engineFor("signed_cookies");
    const value = await saved(engine);
    assert.deepEqual(await engine.readRecord!(value), { kind: "cookie", value, salt: SIGNED_COOKIE_SALT });
  });

  for (const name of ["db", "cached_db", "cache", "file"]) {
    test(`${name}: a key no store can hold is not looked up`, async () => {
      const engine = await engineFor(name);
      for (const key of UNUSABLE) assert.deepEqual(await engine.readRecord!(key), { kind: "unusable-key" }, key);
    });
  }
});
