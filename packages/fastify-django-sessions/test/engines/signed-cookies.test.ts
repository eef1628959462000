// The `signed_cookies` engine (docs/django-sessions.md#signed_cookies): the cookie value is the session,
// verified against Django's vectors; failures read as {} with `modified` and keep the key;
// fallback keys; save/create/exists/delete/cycleKey/flush; no server-side expiry beyond the age.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SIGNED_COOKIE_SALT, signedCookiesEngine } from "../../src/engines/signed-cookies.js";
import { STORED_DATA_SALT } from "../../src/session-base.js";
import {
  TimestampSigner,
  type JsonObject,
  type SessionEngine,
  type SessionLogger,
  type SessionSettings,
  type SessionSettingsInput,
} from "../../src/index.js";
import { djangoVectors } from "../../../../test/fixtures/django-vectors.js";
import { recordingLogger, TestClock, testSettings } from "../../../../test/helpers.js";

const vectors = djangoVectors;
const TWO_WEEKS = 1_209_600;

interface CookieFixture {
  settings: SessionSettings;
  clock: TestClock;
  engine: SessionEngine;
  /** Signs like the engine (cookie salt, SECRET_KEY only), on the same clock. */
  cookieSigner: TimestampSigner;
}

function cookieFixture(overrides: Partial<SessionSettingsInput> = {}, atSeconds?: number): CookieFixture {
  const settings = testSettings(overrides);
  const clock = atSeconds === undefined ? new TestClock() : new TestClock(atSeconds * 1000);
  const signer = new TimestampSigner({
    secret: settings.SECRET_KEY,
    fallbacks: settings.SECRET_KEY_FALLBACKS,
    salt: STORED_DATA_SALT,
    now: clock.now,
  });
  const engine = signedCookiesEngine({ settings, signer, now: clock.now });
  const cookieSigner = new TimestampSigner({ secret: settings.SECRET_KEY, salt: SIGNED_COOKIE_SALT, now: clock.now });
  return { settings, clock, engine, cookieSigner };
}

async function opened(fixture: CookieFixture, value: string | null, log?: SessionLogger) {
  const session = fixture.engine.open(value, log);
  await session.load();
  return session;
}

/** A new session holding `data`, saved: its key is the cookie value. */
async function cookieFor(fixture: CookieFixture, data: JsonObject): Promise<string> {
  const session = fixture.engine.open(null);
  session.update(data);
  await session.save();
  assert.ok(session.sessionKey);
  return session.sessionKey;
}

function tamper(value: string): string {
  return value.slice(0, -1) + (value.endsWith("A") ? "B" : "A");
}

// ---- the engine -----------------------------------------------------------------------------

describe("the engine", () => {
  test("is named signed_cookies, uses Django's salt, and clearExpired is a no-op", async () => {
    const { engine } = cookieFixture();
    assert.equal(engine.name, "signed_cookies");
    assert.equal(SIGNED_COOKIE_SALT, "django.contrib.sessions.backends.signed_cookies");
    assert.equal(await engine.clearExpired(), undefined);
    await engine.close();
  });

  test("exists() is always false", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    const session = fixture.engine.open(value);
    assert.equal(await session.exists(value), false);
    assert.equal(await session.exists("anything0000"), false);
  });

  test("values shorter than 8 characters are no key at all (nothing is verified)", async () => {
    const fixture = cookieFixture();
    const logger = recordingLogger();
    const session = await opened(fixture, "e30:1:x", logger);
    assert.equal(session.sessionKey, null);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.modified, false);
    assert.equal(session.isEmpty(), true);
    assert.deepEqual(logger.warnings, []);
  });
});

// ---- Django's vectors ---------------------------------------------------------------------------

describe("Django vectors (signed_cookie_value)", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    const label = `#${i} ${JSON.stringify(vector.data).slice(0, 40)} at ${vector.timestamp}`;

    test(`loads ${label} back to its data`, async () => {
      const fixture = cookieFixture({ SECRET_KEY: vectors.secret_key }, vector.timestamp);
      const logger = recordingLogger();
      const session = await opened(fixture, vector.signed_cookie_value, logger);
      assert.deepEqual(Object.fromEntries(session.items()), vector.data);
      assert.equal(session.sessionKey, vector.signed_cookie_value);
      assert.equal(session.modified, false);
      assert.deepEqual(logger.warnings, []);
    });

    test(`encodes ${label} byte for byte`, async () => {
      const fixture = cookieFixture({ SECRET_KEY: vectors.secret_key }, vector.timestamp);
      const session = fixture.engine.open(null);
      session.update(vector.data);
      await session.save();
      assert.equal(session.sessionKey, vector.signed_cookie_value);
    });
  }

  test("a vector is still valid exactly SESSION_COOKIE_AGE seconds later, not one second after", async () => {
    const vector = vectors.vectors[1]!;
    const fixture = cookieFixture({ SECRET_KEY: vectors.secret_key }, vector.timestamp + TWO_WEEKS);
    assert.deepEqual(Object.fromEntries((await opened(fixture, vector.signed_cookie_value)).items()), { a: "b" });
    fixture.clock.advance(1);
    const logger = recordingLogger();
    const expired = await opened(fixture, vector.signed_cookie_value, logger);
    assert.deepEqual(expired.items(), []);
    assert.equal(expired.modified, true);
    assert.equal(logger.warnings.length, 1);
  });

  test("the stored-data value (other salt) does not verify as a cookie", async () => {
    const vector = vectors.vectors[1]!;
    const fixture = cookieFixture({ SECRET_KEY: vectors.secret_key }, vector.timestamp);
    const logger = recordingLogger();
    const session = await opened(fixture, vector.db_session_data, logger);
    assert.deepEqual(session.items(), []);
    assert.equal(session.modified, true);
    assert.equal(logger.warnings.length, 1);
  });
});

// ---- failures ---------------------------------------------------------------------------------

describe("a value that does not verify: {} + modified, key kept, warning", () => {
  const cases: [string, (fixture: CookieFixture) => Promise<string>][] = [
    ["a tampered signature", async (f) => tamper(await cookieFor(f, { user: "alice" }))],
    [
      "a tampered payload",
      async (f) => {
        const value = await cookieFor(f, { user: "alice" });
        return value.replace("eyJ", "eyK");
      },
    ],
    ["no separator at all", async () => "no-colon-at-all"],
    [
      "a value signed with another secret",
      async (f) =>
        new TimestampSigner({ secret: "other-secret", salt: SIGNED_COOKIE_SALT, now: f.clock.now }).signObject({
          a: 1,
        }),
    ],
  ];
  for (const tampered of vectors.tampered_examples) {
    cases.push([`Django's tampered example ${JSON.stringify(tampered).slice(0, 30)}`, async () => tampered]);
  }

  for (const [name, make] of cases) {
    test(name, async () => {
      const fixture = cookieFixture();
      const value = await make(fixture);
      const logger = recordingLogger();
      const session = await opened(fixture, value, logger);
      // Nothing is applied before the session is touched.
      assert.equal(session.modified, false);
      assert.equal(session.accessed, false);
      assert.deepEqual(session.items(), []);
      assert.equal(session.modified, true);
      assert.equal(session.sessionKey, value);
      assert.equal(session.isEmpty(), false);
      assert.equal(logger.warnings.length, 1);
      assert.equal(logger.warnings[0]!.obj.logger, "django.security.SuspiciousSession");
      assert.equal(logger.warnings[0]!.msg, "Session cookie signature invalid");
      // The middleware then saves: the cookie becomes a freshly signed empty dict (payload e30).
      await session.save();
      assert.ok(session.sessionKey.startsWith("e30:"), session.sessionKey);
      assert.deepEqual(fixture.cookieSigner.unsignObject(session.sessionKey), {});
    });
  }

  test("an expired cookie (older than SESSION_COOKIE_AGE): {} + modified + an 'expired' warning", async () => {
    const fixture = cookieFixture({ SESSION_COOKIE_AGE: 60 });
    const value = await cookieFor(fixture, { a: 1 });
    fixture.clock.advance(60);
    assert.equal((await opened(fixture, value)).get("a"), 1);
    fixture.clock.advance(1);
    const logger = recordingLogger();
    const session = await opened(fixture, value, logger);
    assert.deepEqual(session.items(), []);
    assert.equal(session.modified, true);
    assert.equal(session.sessionKey, value);
    assert.equal(logger.warnings.length, 1);
    assert.equal(logger.warnings[0]!.obj.logger, "django.security.SuspiciousSession");
    assert.equal(logger.warnings[0]!.msg, "Session cookie expired");
  });

  test("a valid signature over an unreadable payload: {} + modified, without a warning", async () => {
    const fixture = cookieFixture();
    for (const value of [
      fixture.cookieSigner.sign("!!!!not-base64-json"),
      fixture.cookieSigner.sign(".bm90IHpsaWI"), // a dot promises zlib that is not there
      fixture.cookieSigner.signObject([1, 2, 3]), // JSON, but not a dict
    ]) {
      const logger = recordingLogger();
      const session = await opened(fixture, value, logger);
      assert.deepEqual(session.items(), []);
      assert.equal(session.modified, true);
      assert.equal(session.sessionKey, value);
      assert.deepEqual(logger.warnings, []);
    }
  });
});

// ---- keys -----------------------------------------------------------------------------------

describe("SECRET_KEY_FALLBACKS", () => {
  test("a cookie signed with a fallback key verifies; saving re-signs it with SECRET_KEY", async () => {
    const old = cookieFixture({ SECRET_KEY: "old-secret-key" });
    const value = await cookieFor(old, { user: "alice" });
    const rotated = cookieFixture({ SECRET_KEY: "new-secret-key", SECRET_KEY_FALLBACKS: ["old-secret-key"] });
    const logger = recordingLogger();
    const session = await opened(rotated, value, logger);
    assert.equal(session.get("user"), "alice");
    assert.equal(session.modified, false);
    assert.deepEqual(logger.warnings, []);
    await session.save();
    assert.notEqual(session.sessionKey, value);
    assert.deepEqual(rotated.cookieSigner.unsignObject(session.sessionKey!), { user: "alice" });
    assert.throws(() => old.cookieSigner.unsignObject(session.sessionKey!));
  });

  test("without the fallback, the old cookie reads as {}", async () => {
    const old = cookieFixture({ SECRET_KEY: "old-secret-key" });
    const value = await cookieFor(old, { user: "alice" });
    const rotated = cookieFixture({ SECRET_KEY: "new-secret-key" });
    const session = await opened(rotated, value);
    assert.deepEqual(session.items(), []);
    assert.equal(session.modified, true);
  });
});

// ---- save and the lifecycle -----------------------------------------------------------------

describe("save, create, deleteRecord, flush, cycleKey", () => {
  test("save(): the key becomes the signed dump of the data (cookie salt), modified", async () => {
    const fixture = cookieFixture();
    const session = fixture.engine.open(null);
    session.update({ a: "b", n: 1 });
    await session.save();
    const value = session.sessionKey!;
    assert.equal(value, fixture.cookieSigner.signObject({ a: "b", n: 1 }));
    assert.equal(session.modified, true);
    assert.throws(() =>
      new TimestampSigner({ secret: fixture.settings.SECRET_KEY, salt: STORED_DATA_SALT }).unsignObject(value),
    );
  });

  test("save() compresses when that is smaller", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { big: "b".repeat(500) });
    assert.ok(value.startsWith("."), value);
    assert.ok(value.length < 200, `compressed: ${value.length} characters`);
    assert.equal((await opened(fixture, value)).get("big"), "b".repeat(500));
  });

  test("save() with mustCreate behaves the same and never raises Create/UpdateError", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    const session = await opened(fixture, value);
    session.set("a", 2);
    await session.save(true);
    assert.equal(session.sessionKey, fixture.cookieSigner.signObject({ a: 2 }));
    await session.save(false);
    assert.equal(session.sessionKey, fixture.cookieSigner.signObject({ a: 2 }));
  });

  test("save() of an untouched keyed session loads it first and re-signs the same data", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    fixture.clock.advance(5);
    const session = fixture.engine.open(value);
    await session.save();
    assert.notEqual(session.sessionKey, value);
    assert.deepEqual(fixture.cookieSigner.unsignObject(session.sessionKey!), { a: 1 });
  });

  test("create() only marks the session modified", async () => {
    const fixture = cookieFixture();
    const fresh = fixture.engine.open(null);
    await fresh.create();
    assert.equal(fresh.modified, true);
    assert.equal(fresh.sessionKey, null);
    const value = await cookieFor(fixture, { a: 1 });
    const keyed = fixture.engine.open(value);
    await keyed.create();
    assert.equal(keyed.sessionKey, value);
    assert.equal(keyed.accessed, false);
  });

  test("deleteRecord(): key null, data {}, modified; does not mark it accessed", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    const session = fixture.engine.open(value);
    await session.deleteRecord("whatever-key-is-given");
    assert.equal(session.sessionKey, null);
    assert.equal(session.modified, true);
    assert.equal(session.accessed, false);
    assert.equal(session.isEmpty(), true);
    assert.deepEqual(session.keys(), []);
  });

  test("flush() empties the data and drops the key (the middleware then deletes the cookie)", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1, b: 2 });
    const session = await opened(fixture, value);
    assert.equal(session.get("a"), 1);
    await session.flush();
    assert.equal(session.sessionKey, null);
    assert.equal(session.modified, true);
    assert.equal(session.isEmpty(), true);
    assert.deepEqual(session.keys(), []);
  });

  test("cycleKey() re-signs the same data: same value within the second, new value later", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    const session = await opened(fixture, value);
    await session.cycleKey();
    assert.equal(session.sessionKey, value);
    assert.equal(session.modified, true);
    fixture.clock.advance(1);
    await session.cycleKey();
    assert.notEqual(session.sessionKey, value);
    assert.equal(session.get("a"), 1);
    assert.deepEqual(fixture.cookieSigner.unsignObject(session.sessionKey), { a: 1 });
  });

  test("cycleKey() on a new session signs an empty dict", async () => {
    const fixture = cookieFixture();
    const session = fixture.engine.open(null);
    await session.cycleKey();
    assert.ok(session.sessionKey!.startsWith("e30:"));
  });
});

// ---- expiry -----------------------------------------------------------------------------------

describe("expiry", () => {
  test("the cookie is read at its first touch (no load needed), and there is no stored record to report an expiry for", async () => {
    const fixture = cookieFixture();
    const value = await cookieFor(fixture, { a: 1 });
    const session = fixture.engine.open(value);
    assert.equal(session.isLoaded, true);
    assert.equal(session.get("a"), 1);
    assert.equal(await fixture.engine.open(value).recordExpiryDate(), null);
  });

  test("setExpiry() is not enforced server-side: only SESSION_COOKIE_AGE since signing counts", async () => {
    const fixture = cookieFixture({ SESSION_COOKIE_AGE: 60 });
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.setExpiry(-10);
    await session.save();
    const value = session.sessionKey!;
    assert.equal((await opened(fixture, value)).get("a"), 1);
    fixture.clock.advance(60);
    assert.equal((await opened(fixture, value)).get("a"), 1);
    fixture.clock.advance(1);
    assert.equal((await opened(fixture, value)).get("a"), undefined);
  });

  test("a re-signed cookie counts its age from the new signature (sliding)", async () => {
    const fixture = cookieFixture({ SESSION_COOKIE_AGE: 60 });
    const first = await cookieFor(fixture, { a: 1 });
    fixture.clock.advance(50);
    const session = await opened(fixture, first);
    session.set("a", 2);
    await session.save();
    fixture.clock.advance(50);
    assert.equal((await opened(fixture, first)).get("a"), undefined);
    assert.equal((await opened(fixture, session.sessionKey)).get("a"), 2);
  });

  test("getSessionCookieAge() is the max_age used to verify", async () => {
    const fixture = cookieFixture({ SESSION_COOKIE_AGE: 30 });
    const value = await cookieFor(fixture, { a: 1 });
    const session = fixture.engine.open(value);
    assert.equal(session.getSessionCookieAge(), 30);
    fixture.clock.advance(31);
    await session.load();
    assert.equal(session.get("a"), undefined);
  });
});
