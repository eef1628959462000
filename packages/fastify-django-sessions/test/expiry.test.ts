// Per-session expiry (docs/django-sessions.md#per-session-expiry) and the expire_date the db engine writes (#db).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JsonObject } from "../src/index.js";
import { EXPIRY_KEY } from "../src/session-base.js";
import { dbFixture, type EngineFixture } from "../../../test/helpers.js";

// The fixture clock starts at 2026-11-22T01:00:00.000Z.
const T = Date.UTC(2026, 10, 22, 1, 0, 0);
const TWO_WEEKS = 1_209_600;

async function storedSession(fixture: EngineFixture, data: JsonObject): Promise<string> {
  const session = fixture.engine.open(null);
  session.update(data);
  await session.save();
  return session.sessionKey!;
}

async function opened(fixture: EngineFixture, key: string) {
  const session = fixture.engine.open(key);
  await session.load();
  return session;
}

async function expireDate(fixture: EngineFixture, key: string): Promise<unknown> {
  const row = await fixture.db
    .selectFrom("sessions")
    .select("expire_date")
    .where("session_key", "=", key)
    .executeTakeFirst();
  assert.ok(row, `no row for ${key}`);
  return row.expire_date;
}

test("the fixture clock starts where these tests assume", async () => {
  const fixture = await dbFixture();
  assert.equal(fixture.clock.now(), T);
  assert.equal(EXPIRY_KEY, "_session_expiry");
});

describe("setExpiry: what is stored under _session_expiry", () => {
  test("null when absent: nothing stored, no error, modified unchanged", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.setExpiry(null);
    assert.equal(session.has("_session_expiry"), false);
    assert.equal(session.modified, false);
    assert.equal(session.accessed, true);
  });

  test("null when present: the key is removed and the session is modified", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: 300, a: 1 });
    const session = await opened(fixture, key);
    session.setExpiry(null);
    assert.deepEqual(session.keys(), ["a"]);
    assert.equal(session.modified, true);
  });

  test("0 is stored as 0", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.setExpiry(0);
    assert.equal(session.get("_session_expiry"), 0);
    assert.equal(session.modified, true);
  });

  test("numbers are stored as given: positive, negative, fractional", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    for (const n of [300, -10, 1.5]) {
      session.setExpiry(n);
      assert.equal(session.get("_session_expiry"), n);
    }
    assert.equal(session.modified, true);
  });

  test("a non-finite number is refused", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    assert.throws(() => session.setExpiry(Number.NaN), RangeError);
    assert.throws(() => session.setExpiry(Number.POSITIVE_INFINITY), RangeError);
    assert.equal(session.has("_session_expiry"), false);
  });

  test("a Date is stored as Python isoformat with microseconds and +00:00", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.setExpiry(new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 123)));
    assert.equal(session.get("_session_expiry"), "2026-12-01T10:00:00.123000+00:00");
    session.setExpiry(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 7)));
    assert.equal(session.get("_session_expiry"), "2026-01-02T03:04:05.007000+00:00");
    assert.equal(session.modified, true);
  });

  test("a Date with zero milliseconds omits the fraction (as Python does)", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.setExpiry(new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 0)));
    assert.equal(session.get("_session_expiry"), "2026-12-01T10:00:00+00:00");
  });

  test("the stored expiry survives a round trip through the store", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.setExpiry(new Date(T + 3_600_000 + 250));
    await session.save();
    const again = await opened(fixture, session.sessionKey!);
    assert.equal(again.get("_session_expiry"), "2026-11-22T02:00:00.250000+00:00");
  });
});

describe("getExpiryAge", () => {
  test("no expiry -> SESSION_COOKIE_AGE", async () => {
    assert.equal((await dbFixture()).engine.open(null).getExpiryAge(), TWO_WEEKS);
    assert.equal((await dbFixture({ SESSION_COOKIE_AGE: 77 })).engine.open(null).getExpiryAge(), 77);
  });

  test("0 (falsy) -> SESSION_COOKIE_AGE", async () => {
    const { engine } = await dbFixture({ SESSION_COOKIE_AGE: 77 });
    const session = engine.open(null);
    session.setExpiry(0);
    assert.equal(session.getExpiryAge(), 77);
  });

  test("a number is returned unchanged, whatever the modification time", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    for (const n of [300, -10, 1.5]) {
      session.setExpiry(n);
      assert.equal(session.getExpiryAge(), n);
      assert.equal(session.getExpiryAge({ modification: T + 1_000_000 }), n);
    }
  });

  test("an ISO expiry gives the remaining seconds, floored (29.99 s -> 29, -10.5 s -> -11)", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    const cases: [string, number][] = [
      ["2026-11-22T01:00:29.990000+00:00", 29],
      ["2026-11-22T01:00:29.999999+00:00", 29],
      ["2026-11-22T01:00:30+00:00", 30],
      ["2026-11-22T01:00:00.000001+00:00", 0],
      ["2026-11-22T00:59:49.500000+00:00", -11],
      ["2026-11-22T00:59:59.999999+00:00", -1],
      ["2026-11-22T00:59:50+00:00", -10],
      ["2026-12-06T01:00:00+00:00", TWO_WEEKS],
      ["2026-11-22T02:00:30+01:00", 30],
    ];
    for (const [iso, age] of cases) {
      session.set("_session_expiry", iso);
      assert.equal(session.getExpiryAge(), age, iso);
    }
  });

  test("an expiry set with a Date counts down with the clock", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.setExpiry(new Date(T + 3_600_000));
    assert.equal(session.getExpiryAge(), 3600);
    fixture.clock.ms += 1; // 3599.999 s left
    assert.equal(session.getExpiryAge(), 3599);
    fixture.clock.advance(3600);
    assert.equal(session.getExpiryAge(), -1);
  });

  test("the modification option is respected for ISO expiries (Date or epoch ms)", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.set("_session_expiry", "2026-11-22T01:00:30+00:00");
    assert.equal(session.getExpiryAge({ modification: new Date(T + 10_000) }), 20);
    assert.equal(session.getExpiryAge({ modification: T + 10_500 }), 19);
    assert.equal(session.getExpiryAge({ modification: T - 60_000 }), 90);
  });

  test("an explicit expiry option is used instead of the stored one and avoids loading", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: 300 });
    const session = fixture.engine.open(key); // not loaded: a data access would throw
    assert.equal(session.getExpiryAge({ expiry: null }), TWO_WEEKS);
    assert.equal(session.getExpiryAge({ expiry: 0 }), TWO_WEEKS);
    assert.equal(session.getExpiryAge({ expiry: 42 }), 42);
    assert.equal(session.getExpiryAge({ expiry: "2026-11-22T01:00:29.990000+00:00" }), 29);
    assert.equal(session.getExpiryAge({ expiry: "2026-11-22T01:00:30+00:00", modification: T + 5_000 }), 25);
    assert.equal(session.accessed, false);
    await session.load();
    assert.equal(session.getExpiryAge(), 300);
  });

  test("the Django vector expiry (2026-12-01T10:00:00.123456+00:00)", async () => {
    const fixture = await dbFixture();
    fixture.clock.ms = Date.UTC(2026, 11, 1, 9, 59, 0);
    const session = fixture.engine.open(null);
    session.set("_session_expiry", "2026-12-01T10:00:00.123456+00:00");
    assert.equal(session.getExpiryAge(), 60);
    assert.equal(session.getExpiryDate().toISOString(), "2026-12-01T10:00:00.123Z");
  });
});

describe("getExpiryDate", () => {
  test("no expiry -> now + SESSION_COOKIE_AGE", async () => {
    const { engine } = await dbFixture();
    assert.equal(engine.open(null).getExpiryDate().toISOString(), "2026-12-06T01:00:00.000Z");
  });

  test("0 -> now + SESSION_COOKIE_AGE", async () => {
    const { engine } = await dbFixture({ SESSION_COOKIE_AGE: 60 });
    const session = engine.open(null);
    session.setExpiry(0);
    assert.equal(session.getExpiryDate().getTime(), T + 60_000);
  });

  test("a number n -> modification + n seconds (negative included)", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.setExpiry(300);
    assert.equal(session.getExpiryDate().getTime(), T + 300_000);
    assert.equal(session.getExpiryDate({ modification: T + 1_000 }).getTime(), T + 301_000);
    assert.equal(session.getExpiryDate({ modification: new Date(T + 2_000) }).getTime(), T + 302_000);
    session.setExpiry(-10);
    assert.equal(session.getExpiryDate().getTime(), T - 10_000);
  });

  test("an ISO expiry -> that instant, whatever the modification time", async () => {
    const { engine } = await dbFixture();
    const session = engine.open(null);
    session.set("_session_expiry", "2026-12-01T10:00:00.123456+00:00");
    assert.equal(session.getExpiryDate().toISOString(), "2026-12-01T10:00:00.123Z");
    assert.equal(session.getExpiryDate({ modification: T + 999_000 }).toISOString(), "2026-12-01T10:00:00.123Z");
    session.set("_session_expiry", "2026-12-01T12:00:00+02:00");
    assert.equal(session.getExpiryDate().toISOString(), "2026-12-01T10:00:00.000Z");
  });

  test("an explicit expiry option avoids loading", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = fixture.engine.open(key);
    assert.equal(session.getExpiryDate({ expiry: 10 }).getTime(), T + 10_000);
    assert.equal(session.getExpiryDate({ expiry: null }).getTime(), T + TWO_WEEKS * 1000);
    assert.equal(
      session.getExpiryDate({ expiry: "2027-01-01T00:00:00+00:00" }).toISOString(),
      "2027-01-01T00:00:00.000Z",
    );
    assert.equal(session.accessed, false);
  });
});

describe("getExpireAtBrowserClose", () => {
  async function session(global: boolean) {
    return (await dbFixture({ SESSION_EXPIRE_AT_BROWSER_CLOSE: global })).engine.open(null);
  }

  test("no per-session expiry -> the global setting", async () => {
    assert.equal((await session(false)).getExpireAtBrowserClose(), false);
    assert.equal((await session(true)).getExpireAtBrowserClose(), true);
  });

  test("global true + setExpiry(10) -> false", async () => {
    const s = await session(true);
    s.setExpiry(10);
    assert.equal(s.getExpireAtBrowserClose(), false);
  });

  test("global false + setExpiry(0) -> true", async () => {
    const s = await session(false);
    s.setExpiry(0);
    assert.equal(s.getExpireAtBrowserClose(), true);
  });

  test("global true + setExpiry(0) -> true; global true + a Date -> false", async () => {
    const a = await session(true);
    a.setExpiry(0);
    assert.equal(a.getExpireAtBrowserClose(), true);
    const b = await session(true);
    b.setExpiry(new Date(T + 60_000));
    assert.equal(b.getExpireAtBrowserClose(), false);
  });

  test("global false + a negative number or a Date -> false", async () => {
    const a = await session(false);
    a.setExpiry(-5);
    assert.equal(a.getExpireAtBrowserClose(), false);
    const b = await session(false);
    b.setExpiry(new Date(T + 60_000));
    assert.equal(b.getExpireAtBrowserClose(), false);
  });

  test("setExpiry(null) returns to the global setting", async () => {
    const s = await session(true);
    s.setExpiry(10);
    s.setExpiry(null);
    assert.equal(s.getExpireAtBrowserClose(), true);
  });

  test("a browser-close session still expires server-side after SESSION_COOKIE_AGE", async () => {
    const s = await session(false);
    s.setExpiry(0);
    assert.equal(s.getExpiryAge(), TWO_WEEKS);
  });
});

describe("save writes expire_date (Django's SQLite text, UTC)", () => {
  test("default: now + SESSION_COOKIE_AGE", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    assert.equal(await expireDate(fixture, key), "2026-12-06 01:00:00.000000");
  });

  test("milliseconds of the clock are kept as microseconds", async () => {
    const fixture = await dbFixture({ SESSION_COOKIE_AGE: 60 });
    fixture.clock.ms = T + 456;
    const key = await storedSession(fixture, { a: 1 });
    assert.equal(await expireDate(fixture, key), "2026-11-22 01:01:00.456000");
  });

  test("setExpiry(300) -> now + 300 s", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: 300 });
    assert.equal(await expireDate(fixture, key), "2026-11-22 01:05:00.000000");
  });

  test("setExpiry(0) -> now + SESSION_COOKIE_AGE", async () => {
    const fixture = await dbFixture({ SESSION_COOKIE_AGE: 3600 });
    const key = await storedSession(fixture, { _session_expiry: 0 });
    assert.equal(await expireDate(fixture, key), "2026-11-22 02:00:00.000000");
  });

  test("setExpiry(Date) -> that instant", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.setExpiry(new Date(Date.UTC(2026, 11, 1, 10, 0, 0, 123)));
    await session.save();
    assert.equal(await expireDate(fixture, session.sessionKey!), "2026-12-01 10:00:00.123000");
  });

  test("a microsecond ISO expiry is written at millisecond precision, truncated", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: "2026-12-01T10:00:00.123456+00:00" });
    assert.equal(await expireDate(fixture, key), "2026-12-01 10:00:00.123000");
  });

  test("setExpiry(-10) -> in the past, so the row cannot be loaded", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: -10, a: 1 });
    assert.equal(await expireDate(fixture, key), "2026-11-22 00:59:50.000000");
    const session = await opened(fixture, key);
    assert.equal(session.get("a"), undefined);
    assert.equal(session.sessionKey, null);
  });

  test("the written value has Django's SQLite datetime shape", async () => {
    const fixture = await dbFixture();
    fixture.clock.ms = T + 7;
    const key = await storedSession(fixture, { a: 1 });
    assert.match(String(await expireDate(fixture, key)), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
  });
});

describe("expiry is recomputed only when saved", () => {
  test("reading does not move expire_date; saving does", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { a: 1 });
    fixture.clock.advance(100);
    const reader = await opened(fixture, key);
    assert.equal(reader.get("a"), 1);
    assert.equal(reader.getExpiryAge(), TWO_WEEKS);
    assert.equal(await expireDate(fixture, key), "2026-12-06 01:00:00.000000");
    reader.set("a", 2);
    await reader.save();
    assert.equal(await expireDate(fixture, key), "2026-12-06 01:01:40.000000");
  });

  test("a sliding expiry: a save within the window extends it, reading does not", async () => {
    const fixture = await dbFixture();
    const key = await storedSession(fixture, { _session_expiry: 60, n: 0 });

    fixture.clock.advance(50);
    const writer = await opened(fixture, key);
    writer.set("n", 1);
    await writer.save(); // now expires at T + 110 s

    fixture.clock.advance(50); // T + 100 s: past the first window, inside the second
    const reader = await opened(fixture, key);
    assert.equal(reader.get("n"), 1);

    fixture.clock.advance(10); // T + 110 s: the read at T + 100 s did not extend it
    const late = await opened(fixture, key);
    assert.equal(late.get("n"), undefined);
    assert.equal(late.sessionKey, null);
  });

  test("a fixed (Date) expiry does not move when saved again", async () => {
    const fixture = await dbFixture();
    const session = fixture.engine.open(null);
    session.setExpiry(new Date(T + 3_600_000));
    await session.save();
    fixture.clock.advance(600);
    const again = await opened(fixture, session.sessionKey!);
    again.set("x", 1);
    await again.save();
    assert.equal(await expireDate(fixture, session.sessionKey!), "2026-11-22 02:00:00.000000");
    assert.equal(again.getExpiryAge(), 3000);
  });
});
