/**
 * djangoUserId: django.contrib.auth.get_user() on sessions Django itself logged in. The hashes and
 * stored sessions in fixtures/django-auth.json are Django's (fixtures/django-auth.py prints them);
 * with Django installed, the file is checked against a fresh run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { join } from "node:path";
import {
  djangoUserId,
  sessionAuthHash,
  MODEL_BACKEND,
  SESSION_USER_BACKEND,
  SESSION_USER_HASH,
  SESSION_USER_ID,
  type SessionSettingsInput,
} from "../src/index.js";
import { dbFixture } from "../../../test/helpers.js";
import { DJANGO_PYTHON, NO_DJANGO } from "../../../test/django.js";
import { PROJECT_ROOT } from "../../../test/processes.js";

// From the project's root: compiled tests run from .build/, where only code is.
const FIXTURES = join(PROJECT_ROOT, "packages/fastify-django-sessions/test/fixtures");
const FIXTURE = join(FIXTURES, "django-auth.json");
const SCRIPT = join(FIXTURES, "django-auth.py");

interface DjangoAuthFixture {
  django_version: string;
  secret_key: string;
  fallback_key: string;
  password_hash: string;
  changed_password_hash: string;
  hash_current: string;
  hash_fallback: string;
  session_data_current: string;
  session_data_fallback: string;
}
const django = JSON.parse(readFileSync(FIXTURE, "utf8")) as DjangoAuthFixture;

/** A db engine with `secrets`, and a row holding Django's stored data under a fresh key. */
async function djangoSession(data: string, secrets: Partial<SessionSettingsInput> = {}) {
  const f = await dbFixture({ SECRET_KEY: django.secret_key, ...secrets });
  const key = "djangologgedin0000000000000000ab";
  await f.db
    .insertInto("sessions")
    .values({ session_key: key, session_data: data, expire_date: "2999-01-01 00:00:00.000000" })
    .execute();
  const session = f.engine.open(key);
  await session.load();
  const rowKeys = async () =>
    (await f.db.selectFrom("sessions").select("session_key").execute()).map((r) => r.session_key);
  return { ...f, key, session, rowKeys };
}

/** A loader that answers for user 7 only, and records the ids it was asked for. */
function users(passwordHash: string | null = django.password_hash) {
  const asked: string[] = [];
  return {
    asked,
    passwordHash: async (id: string) => {
      asked.push(id);
      return id === "7" ? passwordHash : undefined;
    },
  };
}

test("the session auth hash is Django's, under the current secret and a fallback", () => {
  assert.equal(sessionAuthHash(django.password_hash, django.secret_key), django.hash_current);
  assert.equal(sessionAuthHash(django.password_hash, django.fallback_key), django.hash_fallback);
});

test("the fixture is what the installed Django computes", { skip: NO_DJANGO }, () => {
  const run = spawnSync(DJANGO_PYTHON!, [SCRIPT], { encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const fresh = JSON.parse(run.stdout) as DjangoAuthFixture;
  // The stored data carry a timestamp: those two are checked by reading them below.
  for (const field of ["password_hash", "changed_password_hash", "hash_current", "hash_fallback"] as const) {
    assert.equal(fresh[field], django[field], field);
  }
});

describe("djangoUserId (get_user)", () => {
  test("a session Django logged in gives the user's id, and is left as it was", async () => {
    const f = await djangoSession(django.session_data_current);
    assert.equal(f.session.get(SESSION_USER_HASH), django.hash_current, "Django's stored data read");
    const loader = users();
    assert.equal(await djangoUserId(f.session, loader), "7");
    assert.deepEqual(loader.asked, ["7"]);
    assert.equal(f.session.modified, false);
    assert.equal(f.session.sessionKey, f.key);
  });

  test("a hash made with a fallback secret: the user, under a new key, the hash rewritten with SECRET_KEY", async () => {
    const f = await djangoSession(django.session_data_fallback, { SECRET_KEY_FALLBACKS: [django.fallback_key] });
    assert.equal(await djangoUserId(f.session, users()), "7");
    assert.notEqual(f.session.sessionKey, f.key);
    assert.equal(f.session.get(SESSION_USER_HASH), django.hash_current);
    assert.deepEqual(f.session.get("cart"), ["tea"], "the data kept");
    await f.session.save();
    assert.deepEqual(await f.rowKeys(), [f.session.sessionKey], "the old key's row deleted");
  });

  test("the data signed with a fallback secret but the hash with no secret in use: flushed", async () => {
    const f = await djangoSession(django.session_data_fallback, {
      SECRET_KEY: "another-secret-entirely",
      SECRET_KEY_FALLBACKS: [django.secret_key, "unrelated"],
    });
    assert.equal(f.session.get(SESSION_USER_ID), "7", "the data itself verifies with a fallback");
    assert.equal(await djangoUserId(f.session, users()), null);
    assert.equal(f.session.sessionKey, null);
    assert.deepEqual(await f.rowKeys(), []);
  });

  test("a password changed since the login logs the session out: flushed, its row deleted", async () => {
    const f = await djangoSession(django.session_data_current);
    assert.equal(await djangoUserId(f.session, users(django.changed_password_hash)), null);
    assert.equal(f.session.sessionKey, null);
    assert.equal(f.session.isEmpty(), true);
    assert.deepEqual(await f.rowKeys(), []);
  });

  test("no stored hash (or not a string) is a mismatch too: flushed", async () => {
    for (const hash of [undefined, 12]) {
      const f = await djangoSession(django.session_data_current);
      if (hash === undefined) f.session.delete(SESSION_USER_HASH);
      else f.session.set(SESSION_USER_HASH, hash);
      assert.equal(await djangoUserId(f.session, users()), null);
      assert.equal(f.session.sessionKey, null);
    }
  });

  test("a backend not accepted, or a user who is not there: null, the session untouched", async () => {
    const f = await djangoSession(django.session_data_current);
    f.session.set(SESSION_USER_BACKEND, "myapp.backends.EmailBackend");
    await f.session.save();
    const loader = users();
    assert.equal(await djangoUserId(f.session, loader), null);
    assert.deepEqual(loader.asked, [], "no user looked up");
    assert.equal(
      await djangoUserId(f.session, { ...users(), backends: [MODEL_BACKEND, "myapp.backends.EmailBackend"] }),
      "7",
    );
    f.session.set(SESSION_USER_BACKEND, MODEL_BACKEND);
    assert.equal(await djangoUserId(f.session, users(null)), null, "inactive or deleted user");
    f.session.set(SESSION_USER_ID, "8");
    assert.equal(await djangoUserId(f.session, users()), null);
    assert.equal(f.session.sessionKey, f.key);
    assert.deepEqual(await f.rowKeys(), [f.key]);
  });

  test("an anonymous session: null without a look-up; an integer id is read as Django's to_python would", async () => {
    const f = await djangoSession(django.session_data_current);
    const loader = users();
    f.session.delete(SESSION_USER_ID);
    assert.equal(await djangoUserId(f.session, loader), null);
    f.session.set(SESSION_USER_ID, 7);
    assert.equal(await djangoUserId(f.session, loader), "7");
    f.session.set(SESSION_USER_ID, { id: 7 });
    assert.equal(await djangoUserId(f.session, loader), null);
    assert.deepEqual(loader.asked, ["7"]);
  });
});
