// Session settings: Django's names and defaults (docs/django-sessions.md#settings-and-defaults), environment parsing, validation.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createSessionEngine,
  builtInEngineName,
  engineNeeds,
  ENGINE_NAMES,
  ImproperlyConfigured,
  resolveSessionSettings,
  type SessionSettingsInput,
  SESSION_SETTING_NAMES,
  sessionSettingsFromEnv,
} from "../src/index.js";
import { memoryDatabase } from "../../../test/helpers.js";

/** Django's session settings that this project implements, with Django's defaults. */
const DJANGO_DEFAULTS = {
  SESSION_COOKIE_NAME: "sessionid",
  SESSION_COOKIE_AGE: 1209600,
  SESSION_COOKIE_DOMAIN: null,
  SESSION_COOKIE_PATH: "/",
  SESSION_COOKIE_SECURE: false,
  SESSION_COOKIE_HTTPONLY: true,
  SESSION_COOKIE_SAMESITE: "Lax",
  SESSION_SAVE_EVERY_REQUEST: false,
  SESSION_EXPIRE_AT_BROWSER_CLOSE: false,
  SECRET_KEY_FALLBACKS: [],
  SESSION_CACHE_ALIAS: "default",
  SESSION_FILE_PATH: null,
};

/** Every setting name in Django's table (docs/django-sessions.md#settings-and-defaults) but SESSION_SERIALIZER. */
const DJANGO_SETTING_NAMES = new Set([
  "SESSION_ENGINE",
  "SESSION_COOKIE_NAME",
  "SESSION_COOKIE_AGE",
  "SESSION_COOKIE_DOMAIN",
  "SESSION_COOKIE_PATH",
  "SESSION_COOKIE_SECURE",
  "SESSION_COOKIE_HTTPONLY",
  "SESSION_COOKIE_SAMESITE",
  "SESSION_SAVE_EVERY_REQUEST",
  "SESSION_EXPIRE_AT_BROWSER_CLOSE",
  "SESSION_CACHE_ALIAS",
  "SESSION_FILE_PATH",
  "SESSION_SERIALIZER",
  "SECRET_KEY",
  "SECRET_KEY_FALLBACKS",
  "CSRF_USE_SESSIONS",
]);

function fromEnv(env: Record<string, string | undefined>) {
  return resolveSessionSettings(sessionSettingsFromEnv({ SECRET_KEY: "k", ...env }));
}

/** Asserts `fn` throws ImproperlyConfigured whose message names every one of `names`. */
function assertNames(fn: () => unknown, ...names: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ImproperlyConfigured, `expected ImproperlyConfigured, got ${String(error)}`);
    for (const name of names) assert.ok(error.message.includes(name), `${JSON.stringify(error.message)} names ${name}`);
    return true;
  });
}

describe("resolveSessionSettings defaults (Django's)", () => {
  test("every default equals Django's", () => {
    const settings = resolveSessionSettings({ SECRET_KEY: "k" });
    for (const [name, value] of Object.entries(DJANGO_DEFAULTS)) {
      assert.deepEqual(settings[name as keyof typeof settings], value, name);
    }
    assert.equal(settings.SECRET_KEY, "k");
  });

  test("the default SESSION_ENGINE is Django's default engine (db)", () => {
    const settings = resolveSessionSettings({ SECRET_KEY: "k" });
    assert.equal(builtInEngineName(settings.SESSION_ENGINE), "db");
  });

  test("the whole resolved object (no extra settings beyond the documented extensions)", () => {
    assert.deepEqual(resolveSessionSettings({ SECRET_KEY: "k" }), {
      ...DJANGO_DEFAULTS,
      SESSION_ENGINE: "db",
      SECRET_KEY: "k",
      SESSION_DB_TABLE: "sessions",
      SESSION_DETECT_MUTATIONS: true,
      SESSION_CLEANUP_INTERVAL: 0,
      SESSION_MAX_BYTES: 0,
    });
  });

  test("setting names are Django's (SESSION_DB_TABLE, SESSION_DETECT_MUTATIONS, SESSION_CLEANUP_INTERVAL and SESSION_MAX_BYTES are the only additions)", () => {
    const extra = SESSION_SETTING_NAMES.filter((name) => !DJANGO_SETTING_NAMES.has(name));
    assert.deepEqual(extra, [
      "SESSION_DB_TABLE",
      "SESSION_DETECT_MUTATIONS",
      "SESSION_CLEANUP_INTERVAL",
      "SESSION_MAX_BYTES",
    ]);
    for (const name of Object.keys(DJANGO_DEFAULTS)) assert.ok(SESSION_SETTING_NAMES.includes(name as never), name);
  });

  test("explicit values override the defaults", () => {
    const settings = resolveSessionSettings({
      SECRET_KEY: "k",
      SESSION_COOKIE_NAME: "sid",
      SESSION_COOKIE_AGE: 60,
      SESSION_COOKIE_DOMAIN: ".example.com",
      SESSION_COOKIE_PATH: "/app/",
      SESSION_COOKIE_SECURE: true,
      SESSION_COOKIE_HTTPONLY: false,
      SESSION_COOKIE_SAMESITE: false,
      SESSION_EXPIRE_AT_BROWSER_CLOSE: true,
      SESSION_SAVE_EVERY_REQUEST: true,
      SECRET_KEY_FALLBACKS: ["old"],
    });
    assert.equal(settings.SESSION_COOKIE_NAME, "sid");
    assert.equal(settings.SESSION_COOKIE_AGE, 60);
    assert.equal(settings.SESSION_COOKIE_DOMAIN, ".example.com");
    assert.equal(settings.SESSION_COOKIE_PATH, "/app/");
    assert.equal(settings.SESSION_COOKIE_SECURE, true);
    assert.equal(settings.SESSION_COOKIE_HTTPONLY, false);
    assert.equal(settings.SESSION_COOKIE_SAMESITE, false);
    assert.equal(settings.SESSION_EXPIRE_AT_BROWSER_CLOSE, true);
    assert.equal(settings.SESSION_SAVE_EVERY_REQUEST, true);
    assert.deepEqual(settings.SECRET_KEY_FALLBACKS, ["old"]);
  });

  test("SameSite accepts Lax/Strict/None case-insensitively and keeps the value as written", () => {
    for (const value of ["Lax", "Strict", "None", "lax", "STRICT", "none"]) {
      assert.equal(
        resolveSessionSettings({ SECRET_KEY: "k", SESSION_COOKIE_SAMESITE: value }).SESSION_COOKIE_SAMESITE,
        value,
      );
    }
  });

  test("a missing SECRET_KEY is refused with a message that says what it is", () => {
    assert.throws(
      () => resolveSessionSettings({} as SessionSettingsInput),
      (error: unknown) =>
        error instanceof ImproperlyConfigured &&
        error.message ===
          "Invalid session settings: SECRET_KEY is required (Django's SECRET_KEY: a long random string)",
    );
  });

  test("an unknown setting is refused with its name", () => {
    assertNames(
      () =>
        resolveSessionSettings({ SECRET_KEY: "k", SESSION_COOKIE_AGEE: 5 } as unknown as Parameters<
          typeof resolveSessionSettings
        >[0]),
      "SESSION_COOKIE_AGEE",
    );
  });
});

describe("sessionSettingsFromEnv", () => {
  test("unset variables keep Django's defaults", () => {
    assert.deepEqual(sessionSettingsFromEnv({}), {});
    assert.deepEqual(fromEnv({}), resolveSessionSettings({ SECRET_KEY: "k" }));
  });

  test("booleans: true/1/yes/on and false/0/no/off, any case, trimmed", () => {
    for (const value of ["true", "1", "yes", "on", "TRUE", " True ", "On"]) {
      assert.equal(fromEnv({ SESSION_COOKIE_SECURE: value }).SESSION_COOKIE_SECURE, true, value);
    }
    for (const value of ["false", "0", "no", "off", "FALSE", " No "]) {
      assert.equal(fromEnv({ SESSION_COOKIE_HTTPONLY: value }).SESSION_COOKIE_HTTPONLY, false, value);
    }
    const all = fromEnv({
      SESSION_EXPIRE_AT_BROWSER_CLOSE: "1",
      SESSION_SAVE_EVERY_REQUEST: "yes",
      SESSION_DETECT_MUTATIONS: "off",
    });
    assert.equal(all.SESSION_EXPIRE_AT_BROWSER_CLOSE, true);
    assert.equal(all.SESSION_SAVE_EVERY_REQUEST, true);
    assert.equal(all.SESSION_DETECT_MUTATIONS, false);
  });

  test("an empty boolean keeps the default", () => {
    assert.equal(fromEnv({ SESSION_COOKIE_HTTPONLY: "" }).SESSION_COOKIE_HTTPONLY, true);
  });

  test("integers", () => {
    assert.equal(fromEnv({ SESSION_COOKIE_AGE: "3600" }).SESSION_COOKIE_AGE, 3600);
    assert.equal(fromEnv({ SESSION_COOKIE_AGE: " 60 " }).SESSION_COOKIE_AGE, 60);
    assert.equal(fromEnv({ SESSION_COOKIE_AGE: "0" }).SESSION_COOKIE_AGE, 0);
    assert.equal(fromEnv({ SESSION_COOKIE_AGE: "" }).SESSION_COOKIE_AGE, 1209600);
    assert.equal(fromEnv({ SESSION_CLEANUP_INTERVAL: "3600" }).SESSION_CLEANUP_INTERVAL, 3600);
    assert.equal(fromEnv({}).SESSION_CLEANUP_INTERVAL, 0);
    assert.throws(
      () => fromEnv({ SESSION_CLEANUP_INTERVAL: "hourly" }),
      /SESSION_CLEANUP_INTERVAL must be a whole number of seconds \(got "hourly"\)/,
    );
    assert.equal(fromEnv({ SESSION_MAX_BYTES: "65536" }).SESSION_MAX_BYTES, 65536);
    assert.equal(fromEnv({}).SESSION_MAX_BYTES, 0);
    assert.throws(
      () => fromEnv({ SESSION_MAX_BYTES: "64k" }),
      /SESSION_MAX_BYTES must be a whole number of bytes \(got "64k"\)/,
    );
    assert.throws(
      () => resolveSessionSettings({ SECRET_KEY: "k", SESSION_MAX_BYTES: -1 }),
      /SESSION_MAX_BYTES must not be negative/,
    );
  });

  test("SECRET_KEY_FALLBACKS is a comma-separated list", () => {
    assert.deepEqual(fromEnv({ SECRET_KEY_FALLBACKS: "old-one, old-two" }).SECRET_KEY_FALLBACKS, [
      "old-one",
      "old-two",
    ]);
    assert.deepEqual(fromEnv({ SECRET_KEY_FALLBACKS: "single" }).SECRET_KEY_FALLBACKS, ["single"]);
    assert.deepEqual(fromEnv({ SECRET_KEY_FALLBACKS: "" }).SECRET_KEY_FALLBACKS, []);
  });

  test("an empty SESSION_COOKIE_DOMAIN means none", () => {
    assert.equal(fromEnv({ SESSION_COOKIE_DOMAIN: "" }).SESSION_COOKIE_DOMAIN, null);
    assert.equal(fromEnv({ SESSION_COOKIE_DOMAIN: ".example.com" }).SESSION_COOKIE_DOMAIN, ".example.com");
  });

  test("SESSION_COOKIE_SAMESITE: empty or false means no attribute; others kept as written", () => {
    assert.equal(fromEnv({ SESSION_COOKIE_SAMESITE: "" }).SESSION_COOKIE_SAMESITE, false);
    assert.equal(fromEnv({ SESSION_COOKIE_SAMESITE: "false" }).SESSION_COOKIE_SAMESITE, false);
    assert.equal(fromEnv({ SESSION_COOKIE_SAMESITE: "False" }).SESSION_COOKIE_SAMESITE, false);
    assert.equal(fromEnv({ SESSION_COOKIE_SAMESITE: "Strict" }).SESSION_COOKIE_SAMESITE, "Strict");
    assert.equal(fromEnv({ SESSION_COOKIE_SAMESITE: "None" }).SESSION_COOKIE_SAMESITE, "None");
  });

  test("strings: engine, cookie name, path, secret", () => {
    const settings = fromEnv({
      SESSION_ENGINE: "django.contrib.sessions.backends.db",
      SESSION_COOKIE_NAME: "__Host-sid",
      SESSION_COOKIE_PATH: "/app/",
      SECRET_KEY: "s3cret",
    });
    assert.equal(settings.SESSION_ENGINE, "django.contrib.sessions.backends.db");
    assert.equal(settings.SESSION_COOKIE_NAME, "__Host-sid");
    assert.equal(settings.SESSION_COOKIE_PATH, "/app/");
    assert.equal(settings.SECRET_KEY, "s3cret");
  });

  test("SESSION_DB_TABLE: Django's django_session or any lower-case table name, trimmed", () => {
    assert.equal(fromEnv({ SESSION_DB_TABLE: " django_session " }).SESSION_DB_TABLE, "django_session");
    assert.equal(fromEnv({ SESSION_DB_TABLE: "_app_sessions2" }).SESSION_DB_TABLE, "_app_sessions2");
    assert.equal(fromEnv({}).SESSION_DB_TABLE, "sessions");
  });
});

describe("bad values throw ImproperlyConfigured naming the setting", () => {
  test("SESSION_COOKIE_AGE=abc", () => {
    assertNames(() => fromEnv({ SESSION_COOKIE_AGE: "abc" }), "SESSION_COOKIE_AGE");
    assertNames(() => fromEnv({ SESSION_COOKIE_AGE: "1.5" }), "SESSION_COOKIE_AGE");
  });

  test("SESSION_COOKIE_SECURE=maybe", () => {
    assertNames(() => fromEnv({ SESSION_COOKIE_SECURE: "maybe" }), "SESSION_COOKIE_SECURE");
  });

  test("SESSION_COOKIE_SAMESITE=sometimes", () => {
    assertNames(() => fromEnv({ SESSION_COOKIE_SAMESITE: "sometimes" }), "SESSION_COOKIE_SAMESITE");
    assertNames(
      () => resolveSessionSettings({ SECRET_KEY: "k", SESSION_COOKIE_SAMESITE: "sometimes" }),
      "SESSION_COOKIE_SAMESITE",
    );
  });

  test("empty or missing SECRET_KEY", () => {
    assertNames(() => fromEnv({ SECRET_KEY: "" }), "SECRET_KEY");
    assertNames(() => fromEnv({ SECRET_KEY: "   " }), "SECRET_KEY");
    assertNames(() => resolveSessionSettings(sessionSettingsFromEnv({})), "SECRET_KEY");
  });

  test("SESSION_DB_TABLE that is not a plain lower-case table name (so never SQL)", () => {
    for (const name of [
      "",
      "Sessions",
      "2sessions",
      "my-sessions",
      "public.sessions",
      'x"; drop table y',
      "s".repeat(64),
    ]) {
      assertNames(() => fromEnv({ SESSION_DB_TABLE: name }), "SESSION_DB_TABLE", "table name");
    }
  });

  test("bad cookie names", () => {
    for (const name of ["bad name", "a;b", "", "a=b", "sess\u00e9"]) {
      assertNames(() => fromEnv({ SESSION_COOKIE_NAME: name }), "SESSION_COOKIE_NAME");
    }
  });

  test("every bad setting is named in one message", () => {
    assertNames(
      () => resolveSessionSettings({ SECRET_KEY: "", SESSION_COOKIE_NAME: "a b", SESSION_COOKIE_SAMESITE: "x" }),
      "SECRET_KEY",
      "SESSION_COOKIE_NAME",
      "SESSION_COOKIE_SAMESITE",
    );
    assertNames(
      () => sessionSettingsFromEnv({ SESSION_COOKIE_SECURE: "maybe", SESSION_COOKIE_AGE: "abc" }),
      "SESSION_COOKIE_SECURE",
      "SESSION_COOKIE_AGE",
    );
  });
});

describe("SESSION_ENGINE resolution", () => {
  test("every built-in engine by short name and by Django's dotted path", () => {
    assert.deepEqual(ENGINE_NAMES, ["db", "cache", "cached_db", "file", "signed_cookies"]);
    for (const name of ENGINE_NAMES) {
      assert.equal(builtInEngineName(name), name);
      assert.equal(builtInEngineName(`django.contrib.sessions.backends.${name}`), name);
    }
    assert.equal(builtInEngineName("./my-engine.js"), null);
  });

  test("which resources each engine needs, so the app opens only those; a custom engine may need any", () => {
    assert.deepEqual(engineNeeds("db"), { database: true, cache: false });
    assert.deepEqual(engineNeeds("django.contrib.sessions.backends.cache"), { database: false, cache: true });
    assert.deepEqual(engineNeeds("cached_db"), { database: true, cache: true });
    assert.deepEqual(engineNeeds("file"), { database: false, cache: false });
    assert.deepEqual(engineNeeds("signed_cookies"), { database: false, cache: false });
    assert.deepEqual(engineNeeds("./my-engine.js"), { database: true, cache: true });
  });

  test("an unknown engine is refused with a message listing the valid ones", async () => {
    const db = await memoryDatabase();
    for (const bad of ["django.contrib.sessions.backends.nope", "DB", "redis", "./no/such/module.js"]) {
      await assert.rejects(
        createSessionEngine(resolveSessionSettings({ SECRET_KEY: "k", SESSION_ENGINE: bad }), { db }),
        (error: unknown) => {
          assert.ok(error instanceof ImproperlyConfigured, bad);
          assert.ok(error.message.includes(`SESSION_ENGINE ${JSON.stringify(bad)}`), error.message);
          for (const name of ENGINE_NAMES) assert.ok(error.message.includes(name), error.message);
          return true;
        },
      );
    }
  });

  test("createSessionEngine resolves both spellings and names what an engine is missing", async () => {
    const db = await memoryDatabase();
    for (const spelling of ["db", "django.contrib.sessions.backends.db"]) {
      const engine = await createSessionEngine(resolveSessionSettings({ SECRET_KEY: "k", SESSION_ENGINE: spelling }), {
        db,
      });
      assert.equal(engine.name, "db");
    }
    await assert.rejects(createSessionEngine(resolveSessionSettings({ SECRET_KEY: "k" }), {}), /needs a database/);
    await assert.rejects(
      createSessionEngine(resolveSessionSettings({ SECRET_KEY: "k", SESSION_ENGINE: "cache" }), { caches: {} }),
      /SESSION_CACHE_ALIAS "default" is not a configured cache/,
    );
  });
});
