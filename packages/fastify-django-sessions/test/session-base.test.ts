// SessionBase through the db engine: the dict API and its flags, emptiness and the lifecycle, the
// test-cookie helpers (docs/django-sessions.md#the-session-api), JSON consequences and the typed API.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CreateError,
  createSessionEngine,
  KeyError,
  NotSerializableError,
  SessionNotLoadedError,
  TimestampSigner,
  UpdateError,
  type JsonObject,
  type SessionLogger,
} from "../src/index.js";
import { STORED_DATA_SALT, TEST_COOKIE_NAME, TEST_COOKIE_VALUE } from "../src/session-base.js";
import { dbFixture, TEST_SECRET, type EngineFixture } from "../../../test/helpers.js";

// ---- helpers ------------------------------------------------------------------------------

/** Saves a new session holding `data` and returns its key. */
async function storedSession(fixture: EngineFixture, data: JsonObject): Promise<string> {
  const session = fixture.engine.open(null);
  session.update(data);
  await session.save();
  assert.ok(session.sessionKey);
  return session.sessionKey;
}

/** Opens `key` and loads it, ready for the synchronous API. */
async function opened(fixture: EngineFixture, key: string | null, log?: SessionLogger) {
  const session = fixture.engine.open(key, log);
  await session.load();
  return session;
}

async function row(fixture: EngineFixture, key: string) {
  return fixture.db.selectFrom("sessions").selectAll().where("session_key", "=", key).executeTakeFirst();
}

async function rowCount(fixture: EngineFixture): Promise<number> {
  const rows = await fixture.db.selectFrom("sessions").select("session_key").execute();
  return rows.length;
}

/** The data stored in a row, decoded independently of the engine. */
async function storedData(fixture: EngineFixture, key: string): Promise<unknown> {
  const found = await row(fixture, key);
  assert.ok(found, `no row for ${key}`);
  const signer = new TimestampSigner({ secret: TEST_SECRET, salt: STORED_DATA_SALT });
  return signer.unsignObject(found.session_data);
}

function recordingLogger(): SessionLogger & { messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    warn(_obj, msg) {
      messages.push(`warn:${msg}`);
    },
    error(_obj, msg) {
      messages.push(`error:${msg}`);
    },
  };
}

// ---- initial state and loading ------------------------------------------------------------

describe("initial state and loading", () => {
  test("a fresh session is neither accessed nor modified, and has no key", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    assert.equal(session.accessed, false);
    assert.equal(session.modified, false);
    assert.equal(session.sessionKey, null);
  });

  test("a keyed session must be loaded before synchronous access where reading needs I/O (SessionNotLoadedError)", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    // Through kysely alone the engine can only read asynchronously.
    const asyncEngine = await createSessionEngine(fixture.settings, { db: fixture.db }, { now: fixture.clock.now });
    const session = asyncEngine.open(key);
    assert.equal(session.isLoaded, false);
    assert.throws(() => session.get("a"), SessionNotLoadedError);
    assert.throws(() => session.set("a", 2), SessionNotLoadedError);
    assert.throws(() => session.keys(), SessionNotLoadedError);
    assert.throws(() => session.has("a"), SessionNotLoadedError);
    await session.load();
    assert.equal(session.isLoaded, true);
    assert.equal(session.get("a"), 1);
  });

  test("with the better-sqlite3 handle a session is read at its first touch, synchronously", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    assert.equal(fixture.engine.loadsSynchronously, true);
    const session = fixture.engine.open(key);
    assert.equal(session.isLoaded, true);
    assert.equal(session.get("a"), 1);
    const gone = fixture.engine.open("unknownkeyunknownkey12345678901");
    assert.deepEqual(gone.items(), []);
    assert.equal(gone.sessionKey, null, "an unknown key is dropped at the first touch");
  });

  test("a session without a key needs no load", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    assert.equal(session.isLoaded, true);
    assert.equal(session.get("a"), undefined);
  });

  test("load() alone neither marks the session accessed nor modified", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    assert.equal(session.accessed, false);
    assert.equal(session.modified, false);
    assert.equal(session.sessionKey, key);
  });

  test("keys shorter than 8 characters become null; 8 characters are kept", async () => {
    const { engine } = await dbFixture();
    assert.equal(engine.open("").sessionKey, null);
    assert.equal(engine.open("1234567").sessionKey, null);
    assert.equal(engine.open(undefined).sessionKey, null);
    assert.equal(engine.open("12345678").sessionKey, "12345678");
    assert.equal(engine.open("ABCdef_-!x").sessionKey, "ABCdef_-!x");
  });

  test("loading an unknown key drops the key and never creates a row", async () => {
    const fixture = await dbFixture();
    const session = await opened(fixture, "unknownkey0000000000000000000000");
    assert.equal(session.sessionKey, "unknownkey0000000000000000000000"); // not applied until touched
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
    assert.equal(session.isEmpty(), true);
    assert.equal(await rowCount(fixture), 0);
  });

  test("an expired row is never loaded (expire_date > now), but still exists", async () => {
    const fixture = await dbFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { a: 1 });
    fixture.clock.ms += 60_000 - 1;
    assert.equal((await opened(fixture, key)).get("a"), 1);
    fixture.clock.ms += 1; // now == expire_date
    const expired = await opened(fixture, key);
    assert.equal(expired.get("a"), undefined);
    assert.equal(expired.sessionKey, null);
    assert.equal(await expired.exists(key), true);
    assert.equal(await rowCount(fixture), 1);
  });

  test("a tampered session_data row reads as {} but keeps its key, with a warning", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { secret: "value" });
    const original = (await row(fixture, key))!.session_data;
    const tampered = original.slice(0, -1) + (original.endsWith("A") ? "B" : "A");
    await fixture.db.updateTable("sessions").set({ session_data: tampered }).where("session_key", "=", key).execute();
    const logger = recordingLogger();
    const session = await opened(fixture, key, logger);
    assert.deepEqual(session.items(), []);
    assert.equal(session.sessionKey, key);
    assert.equal(session.isEmpty(), false);
    assert.equal(session.modified, false);
    assert.deepEqual(logger.messages, ["warn:Session data corrupted"]);
  });

  test("a row written by Django (vectors' secret) loads", async () => {
    const fixture = await dbFixture({ SECRET_KEY: "vector-secret-key-0123456789abcdef" });
    await fixture.db
      .insertInto("sessions")
      .values({
        session_key: "djangowrittenrow000000000000000a",
        session_data:
          "eyJjYXJ0IjpbImFwcGxlIiwiYmFuYW5hIl0sInZpc2l0cyI6NDJ9:1xUwys:VQXhTaE9ziyYYOlPr9oo1rwRQcRAQ0G1UpPolBP1jMs",
        expire_date: "2099-01-01 00:00:00.000000",
      })
      .execute();
    const session = await opened(fixture, "djangowrittenrow000000000000000a");
    assert.deepEqual(Object.fromEntries(session.items()), { cart: ["apple", "banana"], visits: 42 });
  });
});

// ---- the dict API, one block per method --------------------------------------------------------

describe("dict API and flags", () => {
  async function loadedWith(data: JsonObject) {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, data);
    return { fixture, key, session: await opened(fixture, key) };
  }

  test("s[k]: get of a present key returns it; accessed, not modified", async () => {
    const { session } = await loadedWith({ a: "x" });
    assert.equal(session.get("a"), "x");
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("get(k) of a missing key returns undefined; get(k, default) returns the default", async () => {
    const { session } = await loadedWith({ a: "x" });
    assert.equal(session.get("missing"), undefined);
    assert.equal(session.get("missing", "dflt"), "dflt");
    assert.equal(session.get("a", "dflt"), "x");
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("get(k, default) does not store the default", async () => {
    const { session } = await loadedWith({});
    session.get("k", 5);
    assert.equal(session.has("k"), false);
  });

  test("s[k] = v: stores; accessed and modified", async () => {
    const { session } = await loadedWith({ a: "x" });
    session.set("b", 2);
    assert.equal(session.get("b"), 2);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
  });

  test("set to an identical value still marks modified", async () => {
    const { session } = await loadedWith({ a: "x" });
    session.set("a", "x");
    assert.equal(session.modified, true);
  });

  test("del s[k]: removes; modified", async () => {
    const { session } = await loadedWith({ a: "x", b: 1 });
    session.delete("a");
    assert.deepEqual(session.keys(), ["b"]);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
  });

  test("del s[k] of a missing key: KeyError, modified unchanged", async () => {
    const { session } = await loadedWith({ a: "x" });
    assert.throws(
      () => session.delete("missing"),
      (error: unknown) => error instanceof KeyError && error.key === "missing",
    );
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
    assert.deepEqual(session.keys(), ["a"]);
  });

  test("k in s / has_key: membership; accessed, not modified", async () => {
    const { session } = await loadedWith({ a: null });
    assert.equal(session.has("a"), true); // present even though the value is null
    assert.equal(session.has("b"), false);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("pop(k) of a present key returns and removes it; modified", async () => {
    const { session } = await loadedWith({ a: [1, 2], b: 1 });
    assert.deepEqual(session.pop("a"), [1, 2]);
    assert.equal(session.has("a"), false);
    assert.equal(session.modified, true);
  });

  test("pop(k) of a missing key: KeyError, modified unchanged", async () => {
    const { session } = await loadedWith({ a: 1 });
    assert.throws(() => session.pop("missing"), KeyError);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("pop(k, default) of a missing key returns the default; modified unchanged", async () => {
    const { session } = await loadedWith({ a: 1 });
    assert.equal(session.pop("missing", "dflt"), "dflt");
    assert.equal(session.pop("missing", null), null);
    assert.equal(session.pop("missing", undefined), undefined);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("pop(k, default) of a present key returns the value; modified", async () => {
    const { session } = await loadedWith({ a: 1 });
    assert.equal(session.pop("a", "dflt"), 1);
    assert.equal(session.has("a"), false);
    assert.equal(session.modified, true);
  });

  test("setdefault(k, v) of a present key returns the existing value, no change", async () => {
    const { session } = await loadedWith({ a: "old" });
    assert.equal(session.setdefault("a", "new"), "old");
    assert.equal(session.get("a"), "old");
    assert.equal(session.accessed, true);
    assert.equal(session.modified, false);
  });

  test("setdefault(k, v) of a missing key stores and returns v; modified", async () => {
    const { session } = await loadedWith({});
    assert.equal(session.setdefault("a", "new"), "new");
    assert.equal(session.get("a"), "new");
    assert.equal(session.modified, true);
  });

  test("update(d) merges; modified", async () => {
    const { session } = await loadedWith({ a: 1, b: 2 });
    session.update({ b: 3, c: 4 });
    assert.deepEqual(Object.fromEntries(session.items()), { a: 1, b: 3, c: 4 });
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
  });

  test("update({}) marks the session modified", async () => {
    const { session } = await loadedWith({ a: 1 });
    session.update({});
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
    assert.deepEqual(session.keys(), ["a"]);
  });

  test("keys()/values()/items(): the data in insertion order; accessed, not modified", async () => {
    const { session } = await loadedWith({ z: 1, a: "two", m: [3] });
    assert.deepEqual(session.keys(), ["z", "a", "m"]);
    assert.equal(session.accessed, true);
    assert.deepEqual(session.values(), [1, "two", [3]]);
    assert.deepEqual(session.items(), [
      ["z", 1],
      ["a", "two"],
      ["m", [3]],
    ]);
    assert.equal(session.modified, false);
  });

  test("each reading method alone sets accessed", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const reads: [string, (s: Awaited<ReturnType<typeof opened>>) => unknown][] = [
      ["get", (s) => s.get("a")],
      ["has", (s) => s.has("a")],
      ["keys", (s) => s.keys()],
      ["values", (s) => s.values()],
      ["items", (s) => s.items()],
      ["getExpiryAge", (s) => s.getExpiryAge()],
      ["getExpiryDate", (s) => s.getExpiryDate()],
      ["getExpireAtBrowserClose", (s) => s.getExpireAtBrowserClose()],
      ["testCookieWorked", (s) => s.testCookieWorked()],
    ];
    for (const [name, read] of reads) {
      const session = await opened(fixture, key);
      read(session);
      assert.equal(session.accessed, true, name);
      assert.equal(session.modified, false, name);
    }
  });

  test("clear() empties the data without loading it (works on an unloaded keyed session)", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1, b: 2 });
    const session = fixture.engine.open(key);
    session.clear(); // would throw SessionNotLoadedError if it loaded
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
    await session.load(); // must not bring the stored data back
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, key);
    await session.save();
    assert.deepEqual(await storedData(fixture, key), {});
  });

  test("clear() discards a record that was already fetched", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.clear();
    assert.deepEqual(session.keys(), []);
  });
});

// ---- flags that must not be set --------------------------------------------------------------

describe("accessed is not set by", () => {
  test("sessionKey, isEmpty() and exists()", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    assert.equal(session.sessionKey, key);
    assert.equal(session.isEmpty(), false);
    assert.equal(await session.exists(key), true);
    assert.equal(session.accessed, false);
    const fresh = fixture.engine.open(null);
    assert.equal(fresh.isEmpty(), true);
    assert.equal(fresh.accessed, false);
  });

  test("getExpiryAge/getExpiryDate with an explicit expiry (no load needed)", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = fixture.engine.open(key); // not loaded
    assert.equal(session.getExpiryAge({ expiry: null }), fixture.settings.SESSION_COOKIE_AGE);
    assert.equal(session.getExpiryDate({ expiry: 10 }).getTime(), fixture.clock.ms + 10_000);
    assert.equal(session.accessed, false);
  });
});

// ---- emptiness ------------------------------------------------------------------------------

describe("isEmpty", () => {
  test("no key and never touched: empty", async () => {
    const { engine } = await dbFixture();
    assert.equal(engine.open(null).isEmpty(), true);
  });

  test("no key and touched but empty: empty", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.get("a");
    session.update({});
    assert.equal(session.isEmpty(), true);
  });

  test("no key with data: not empty", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.set("a", 1);
    assert.equal(session.isEmpty(), false);
  });

  test("a key with empty data: not empty", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, {});
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.isEmpty(), false);
  });

  test("a key whose last item was deleted: not empty", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.delete("a");
    assert.equal(session.isEmpty(), false);
  });

  test("a too-short key: empty", async () => {
    const { engine } = await dbFixture();
    assert.equal(engine.open("short").isEmpty(), true);
  });

  test("an unknown key is not empty until touched, then empty", async () => {
    const fixture = await dbFixture();
    const session = await opened(fixture, "unknownkey0000000000000000000000");
    assert.equal(session.isEmpty(), false);
    session.get("a");
    assert.equal(session.isEmpty(), true);
  });
});

// ---- lifecycle ------------------------------------------------------------------------------

describe("flush()", () => {
  test("key null, record gone, data empty, accessed and modified", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const other = await storedSession(fixture, { b: 2 });
    const session = await opened(fixture, key);
    await session.flush();
    assert.equal(session.sessionKey, null);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.accessed, true);
    assert.equal(session.modified, true);
    assert.equal(session.isEmpty(), true);
    assert.equal(await row(fixture, key), undefined);
    assert.notEqual(await row(fixture, other), undefined, "other sessions are untouched");
  });

  test("on a session without a key it just clears", async () => {
    const fixture = await dbFixture();
    await storedSession(fixture, { b: 2 });
    const session = fixture.engine.open(null);
    session.set("a", 1);
    await session.flush();
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
    assert.equal(await rowCount(fixture), 1);
  });
});

describe("cycleKey()", () => {
  test("new key, same data, old record deleted, new record holds the data", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1, cart: ["x"] });
    const session = await opened(fixture, key);
    await session.cycleKey();
    const newKey = session.sessionKey;
    assert.ok(newKey);
    assert.notEqual(newKey, key);
    assert.match(newKey, /^[a-z0-9]{32}$/);
    assert.deepEqual(Object.fromEntries(session.items()), { a: 1, cart: ["x"] });
    assert.equal(session.modified, true);
    assert.equal(await row(fixture, key), undefined);
    assert.deepEqual(await storedData(fixture, newKey), { a: 1, cart: ["x"] });
    assert.equal(await rowCount(fixture), 1);
  });

  test("keeps unsaved changes and writes them to the new record", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.set("b", 2);
    await session.cycleKey();
    assert.deepEqual(await storedData(fixture, session.sessionKey!), { a: 1, b: 2 });
  });

  test("works on a brand-new session: creates a fresh empty record", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    await session.cycleKey();
    assert.match(session.sessionKey ?? "", /^[a-z0-9]{32}$/);
    assert.deepEqual(await storedData(fixture, session.sessionKey!), {});
    assert.equal(session.modified, true);
    assert.equal(session.isEmpty(), false);
    assert.equal(await rowCount(fixture), 1);
  });

  test("works on an unknown key: the old key is dropped by the load, a new record is created", async () => {
    const fixture = await dbFixture();
    const session = await opened(fixture, "unknownkey0000000000000000000000");
    await session.cycleKey();
    assert.notEqual(session.sessionKey, "unknownkey0000000000000000000000");
    assert.equal(await rowCount(fixture), 1);
  });
});

describe("create/save/exists/deleteRecord", () => {
  test("create() makes a 32-char key, saves the current data at once and sets modified", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.modified = false;
    await session.create();
    assert.match(session.sessionKey ?? "", /^[a-z0-9]{32}$/);
    assert.equal(session.modified, true);
    assert.deepEqual(await storedData(fixture, session.sessionKey!), { a: 1 });
  });

  test("save() without a key creates one", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.set("a", 1);
    await session.save();
    assert.match(session.sessionKey ?? "", /^[a-z0-9]{32}$/);
    assert.deepEqual(await storedData(fixture, session.sessionKey!), { a: 1 });
  });

  test("save() updates the existing row and keeps the key, data and modified flag", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.set("a", 2);
    await session.save();
    assert.equal(session.sessionKey, key);
    assert.equal(session.modified, true, "save does not reset modified");
    assert.equal(session.get("a"), 2, "save does not clear data");
    assert.deepEqual(await storedData(fixture, key), { a: 2 });
    assert.equal(await rowCount(fixture), 1);
  });

  test("save(true) on a taken key raises CreateError and leaves the row alone", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.set("a", "overwritten?");
    await assert.rejects(session.save(true), CreateError);
    assert.deepEqual(await storedData(fixture, key), { a: 1 });
  });

  test("save() of a key with no row raises UpdateError and creates nothing", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open("nosuchrow0000000000000000000000x");
    await assert.rejects(session.save(), UpdateError);
    assert.equal(await rowCount(fixture), 0);
  });

  test("save() after the row was deleted meanwhile raises UpdateError (no resurrection)", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.set("a", 2);
    await fixture.db.deleteFrom("sessions").where("session_key", "=", key).execute();
    await assert.rejects(session.save(), UpdateError);
    assert.equal(await rowCount(fixture), 0);
  });

  test("exists(): true for any row, expired or not; false otherwise", async () => {
    const fixture = await dbFixture({ SESSION_COOKIE_AGE: 10 });
    const key = await storedSession(fixture, { a: 1 });
    const session = fixture.engine.open(null);
    assert.equal(await session.exists(key), true);
    assert.equal(await session.exists("nosuchrow0000000000000000000000x"), false);
    fixture.clock.advance(3600);
    assert.equal(await session.exists(key), true);
  });

  test("deleteRecord(key) removes that row only; the session's key and data stay", async () => {
    const fixture = await dbFixture();
    const mine = await storedSession(fixture, { a: 1 });
    const other = await storedSession(fixture, { b: 1 });
    const session = await opened(fixture, mine);
    session.get("a");
    await session.deleteRecord(other);
    assert.equal(await row(fixture, other), undefined);
    assert.notEqual(await row(fixture, mine), undefined);
    await session.deleteRecord();
    assert.equal(await row(fixture, mine), undefined);
    assert.equal(session.sessionKey, mine);
    assert.equal(session.get("a"), 1);
  });

  test("deleteRecord of a missing row, or with no key at all, is a no-op", async () => {
    const fixture = await dbFixture();
    await storedSession(fixture, { b: 1 });
    await fixture.engine.open("nosuchrow0000000000000000000000x").deleteRecord();
    await fixture.engine.open(null).deleteRecord();
    await fixture.engine.open(null).deleteRecord(null);
    assert.equal(await rowCount(fixture), 1);
  });
});

// ---- test cookie ----------------------------------------------------------------------------

describe("test-cookie helpers", () => {
  test("constants", () => {
    assert.equal(TEST_COOKIE_NAME, "testcookie");
    assert.equal(TEST_COOKIE_VALUE, "worked");
  });

  test("setTestCookie stores testcookie=worked and marks modified", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    assert.equal(session.testCookieWorked(), false);
    assert.equal(session.modified, false);
    session.setTestCookie();
    assert.equal(session.get("testcookie"), "worked");
    assert.equal(session.modified, true);
    assert.equal(session.testCookieWorked(), true);
  });

  test("testCookieWorked is true only for the exact value", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.set("testcookie", "nope");
    assert.equal(session.testCookieWorked(), false);
    session.set("testcookie", "worked");
    assert.equal(session.testCookieWorked(), true);
  });

  test("deleteTestCookie removes it (modified); KeyError when absent", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { testcookie: "worked", other: 1 });
    const session = await opened(fixture, key);
    session.deleteTestCookie();
    assert.equal(session.has("testcookie"), false);
    assert.equal(session.modified, true);
    const fresh = fixture.engine.open(null);
    assert.throws(() => fresh.deleteTestCookie(), KeyError);
    assert.equal(fresh.modified, false);
  });

  test("the test cookie survives a round trip through the store", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.setTestCookie();
    await session.save();
    assert.equal((await opened(fixture, session.sessionKey)).testCookieWorked(), true);
  });
});

// ---- JSON consequences (docs/django-sessions.md#the-signing-format) ------------------------------------

describe("JSON round trip", () => {
  test("JSON values come back deep-equal", async () => {
    const fixture = await dbFixture();
    const data: JsonObject = {
      s: "héllo ✓ 日本 😀",
      n: 42,
      f: 2.5,
      neg: -7,
      t: true,
      nul: null,
      arr: [1, "two", [3], { four: 4 }],
      obj: { nested: { deep: [] } },
    };
    const key = await storedSession(fixture, data);
    const session = await opened(fixture, key);
    assert.deepEqual(Object.fromEntries(session.items()), data);
  });

  test("an integer-like key is a string after the round trip", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { "0": "zero", nested: { "1": "one" } });
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), ["0", "nested"]);
    assert.equal(session.get("0"), "zero");
    assert.deepEqual(session.get("nested"), { "1": "one" });
  });

  test("top-level insertion order is kept in the stored JSON, integer-like keys included", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.set("b", 1);
    session.set("a", 2);
    session.set("10", 3);
    session.set("2", 4);
    await session.save();
    const found = await row(fixture, session.sessionKey!);
    const json = Buffer.from(found!.session_data.split(":")[0]!, "base64url").toString("latin1");
    // Python's json.dumps keeps dict insertion order: {"b":1,"a":2,"10":3,"2":4}.
    assert.equal(json, '{"b":1,"a":2,"10":3,"2":4}');
  });

  test("a non-serialisable value makes save() fail with a TypeError and writes nothing", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.set("when", new Map() as unknown as JsonObject);
    await assert.rejects(session.save(), NotSerializableError);
    await assert.rejects(session.save(), TypeError);
    assert.equal(await rowCount(fixture), 0);
  });

  test("mutating a stored object after save does not change the stored row", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open<{ cart?: string[] }>(null);
    const cart = ["a"];
    session.set("cart", cart);
    await session.save();
    cart.push("b");
    assert.deepEqual(await storedData(fixture, session.sessionKey!), { cart: ["a"] });
  });
});

// ---- in-place mutation detection (beyond Django) ---------------------------------------------

describe("in-place mutation detection", () => {
  type Shop = { cart?: string[]; visits?: number; prefs?: { theme: string } };

  async function shop(overrides: { SESSION_DETECT_MUTATIONS?: boolean } = {}) {
    const fixture = await dbFixture(overrides);
    const key = await storedSession(fixture, { cart: ["apple"], visits: 3, prefs: { theme: "dark" } });
    const session = fixture.engine.open<Shop>(key);
    await session.load();
    return { fixture, key, session };
  }

  test("default: push into get() result marks modified, and save stores it", async () => {
    const { fixture, key, session } = await shop();
    assert.equal(session.modified, false);
    session.get("cart")!.push("banana");
    assert.equal(session.modified, true);
    await session.save();
    assert.deepEqual(await storedData(fixture, key), {
      cart: ["apple", "banana"],
      visits: 3,
      prefs: { theme: "dark" },
    });
  });

  test("default: changing a nested object property marks modified", async () => {
    const { session } = await shop();
    session.get("prefs")!.theme = "light";
    assert.equal(session.modified, true);
  });

  test("default: in-place changes through setdefault(), values() and items() are seen", async () => {
    const a = await shop();
    a.session.setdefault("cart", []).push("x");
    assert.equal(a.session.modified, true);
    const b = await shop();
    (b.session.values()[0] as string[]).push("x");
    assert.equal(b.session.modified, true);
    const c = await shop();
    (c.session.items()[2]![1] as { theme: string }).theme = "light";
    assert.equal(c.session.modified, true);
  });

  test("SESSION_DETECT_MUTATIONS=false: Django's rule, in-place changes do not mark modified", async () => {
    const { session } = await shop({ SESSION_DETECT_MUTATIONS: false });
    session.get("cart")!.push("banana");
    session.get("prefs")!.theme = "light";
    assert.equal(session.modified, false);
  });

  test("reading without changing, and reading primitives, does not mark modified", async () => {
    const { session } = await shop();
    assert.equal(session.get("visits"), 3);
    assert.deepEqual(session.get("cart"), ["apple"]);
    assert.deepEqual(session.values().length, 3);
    assert.equal(session.modified, false);
  });

  test("setting modified = false re-baselines: later changes are detected again", async () => {
    const { session } = await shop();
    const cart = session.get("cart")!;
    cart.push("banana");
    assert.equal(session.modified, true);
    session.modified = false;
    assert.equal(session.modified, false);
    cart.push("cherry");
    assert.equal(session.modified, true);
  });

  test("re-baselining also covers an object handed out while the session was already modified", async () => {
    const { session } = await shop();
    session.set("visits", 4); // modified first
    const cart = session.get("cart")!; // handed out while modified
    session.modified = false;
    cart.push("banana");
    assert.equal(session.modified, true);
  });

  test("modified = true sticks even when the data is unchanged", async () => {
    const { session } = await shop();
    session.get("cart");
    session.modified = true;
    assert.equal(session.modified, true);
  });
});

// ---- typed session data ------------------------------------------------------------------------

describe("typed session data", () => {
  test("a declared shape types get/set at compile time", async () => {
    const { engine } = await dbFixture();
    const session = engine.open<{ visits?: number; name?: string }>(null);
    session.set("visits", 1);
    const visits: number | undefined = session.get("visits");
    const withDefault: number = session.get("visits", 0);
    const name: string = session.get("name", "anon");
    assert.equal(visits, 1);
    assert.equal(withDefault, 1);
    assert.equal(name, "anon");

    // Compile-time only: tsc runs before the tests and fails if these lines become valid.
    const wrongTypes = () => {
      // @ts-expect-error visits is declared as a number
      session.set("visits", "one");
      // @ts-expect-error undeclared key
      session.set("other", 1);
      // @ts-expect-error undeclared key
      session.get("other");
      // @ts-expect-error the default must match the declared type
      session.get("visits", "zero");
      // @ts-expect-error update checks value types too
      session.update({ name: 5 });
    };
    assert.equal(typeof wrongTypes, "function");
    assert.equal(session.get("visits"), 1, "the type checks above never ran");
  });
});
