/** login / get_user / logout as they touch the session (docs/django-sessions.md#login-logout-and-cycle_key), on the db engine. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  authenticatedUser,
  login,
  logout,
  MODEL_BACKEND,
  sessionAuthHash,
  SESSION_USER_HASH,
  SESSION_USER_ID,
  updateSessionAuthHash,
  type AuthUser,
} from "../../src/auth/session-auth.js";
import { createSessionEngine } from "fastify-django-sessions";
import { djangoVectors } from "../fixtures/django-vectors.js";
import { dbFixture, memoryDatabase, testSettings } from "../helpers.js";

const vectors = djangoVectors;

const alice: AuthUser = { id: 1, password: "scrypt$salt$16384$8$5$aliceHash" };
const bob: AuthUser = { id: 2, password: "scrypt$salt$16384$8$5$bobHash" };

async function fixture(overrides: Parameters<typeof testSettings>[0] = {}) {
  const f = await dbFixture(overrides);
  const rowKeys = async () =>
    (await f.db.selectFrom("sessions").select("session_key").execute()).map((r) => r.session_key);
  const open = async (key: string | null) => {
    const session = f.engine.open(key);
    await session.load();
    return session;
  };
  return { ...f, rowKeys, open };
}

test("the session auth hash is Django's, for every vector", () => {
  for (const v of vectors.session_auth_hash) {
    assert.equal(sessionAuthHash(v.password_hash, vectors.secret_key), v.hex);
  }
});

describe("login", () => {
  test("an anonymous session is cycled to a new key and keeps its data", async () => {
    const f = await fixture();
    const session = await f.open(null);
    session.set("cart", ["apple"]);
    await session.save();
    const anonymousKey = session.sessionKey!;
    const loaded = await f.open(anonymousKey);
    await login(loaded, alice, f.settings);
    await loaded.save();
    assert.ok(loaded.sessionKey && loaded.sessionKey !== anonymousKey);
    assert.deepEqual(await f.rowKeys(), [loaded.sessionKey], "the anonymous record is gone");
    const after = await f.open(loaded.sessionKey);
    assert.deepEqual(Object.fromEntries(after.items()), {
      cart: ["apple"],
      _auth_user_id: "1",
      _auth_user_backend: MODEL_BACKEND,
      _auth_user_hash: sessionAuthHash(alice.password, f.settings.SECRET_KEY),
    });
  });

  test("the same user with the same password keeps the key", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    await session.save();
    const key = session.sessionKey;
    const again = await f.open(key);
    await login(again, alice, f.settings);
    assert.equal(again.sessionKey, key);
  });

  test("another user's session is flushed: old data gone, old record deleted", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    session.set("cart", ["alice's"]);
    await session.save();
    const aliceKey = session.sessionKey!;
    const loaded = await f.open(aliceKey);
    await login(loaded, bob, f.settings);
    await loaded.save();
    assert.notEqual(loaded.sessionKey, aliceKey);
    assert.equal(loaded.get("cart"), undefined);
    assert.equal(loaded.get(SESSION_USER_ID), "2");
    assert.deepEqual(await f.rowKeys(), [loaded.sessionKey]);
  });

  test("the same user whose password changed is flushed too", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    session.set("cart", ["x"]);
    await session.save();
    const loaded = await f.open(session.sessionKey);
    await login(loaded, { ...alice, password: "scrypt$salt$16384$8$5$changed" }, f.settings);
    assert.equal(loaded.get("cart"), undefined);
  });
});

describe("authenticatedUser (get_user)", () => {
  const users = new Map<number, AuthUser>([
    [1, alice],
    [2, bob],
  ]);
  const find = async (id: number) => users.get(id);

  test("a logged-in session gives its user; an anonymous one null, untouched", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    await session.save();
    assert.equal(await authenticatedUser(await f.open(session.sessionKey), find), alice);
    const anonymous = await f.open(null);
    assert.equal(await authenticatedUser(anonymous, find), null);
    assert.equal(anonymous.modified, false);
  });

  test("a password changed elsewhere logs the session out (flushed, record deleted)", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    await session.save();
    const changed = new Map(users).set(1, { ...alice, password: "scrypt$salt$16384$8$5$new" });
    const later = await f.open(session.sessionKey);
    assert.equal(await authenticatedUser(later, async (id) => changed.get(id)), null);
    assert.equal(later.sessionKey, null);
    assert.deepEqual(await f.rowKeys(), []);
  });

  test("a hash made with a fallback secret keeps the user and cycles the key", async () => {
    const old = await fixture({ SECRET_KEY: "old-secret" });
    const session = await old.open(null);
    await login(session, alice, old.settings);
    await session.save();
    const settings = testSettings({ SECRET_KEY: "new-secret", SECRET_KEY_FALLBACKS: ["old-secret"] });
    const engine = await createSessionEngine(settings, { db: old.db }, { now: old.clock.now });
    const rotated = engine.open(session.sessionKey);
    await rotated.load();
    assert.equal(await authenticatedUser(rotated, find), alice);
    assert.ok(rotated.sessionKey && rotated.sessionKey !== session.sessionKey);
    assert.equal(rotated.get(SESSION_USER_HASH), sessionAuthHash(alice.password, "new-secret"));
  });

  test("an unknown backend or a deleted user is anonymous without touching the session", async () => {
    const f = await fixture();
    const session = await f.open(null);
    await login(session, alice, f.settings);
    session.set("_auth_user_backend", "some.other.Backend");
    assert.equal(await authenticatedUser(session, find), null);
    session.set("_auth_user_backend", MODEL_BACKEND);
    assert.equal(await authenticatedUser(session, async () => undefined), null);
    assert.equal(session.get(SESSION_USER_ID), "1");
  });
});

test("logout flushes; updateSessionAuthHash keeps this session under a new key", async () => {
  const db = await memoryDatabase();
  const settings = testSettings();
  const engine = await createSessionEngine(settings, { db });
  const session = engine.open(null);
  await login(session, alice, settings);
  await session.save();
  const key = session.sessionKey;
  const newAlice = { ...alice, password: "scrypt$salt$16384$8$5$new" };
  await updateSessionAuthHash(session, newAlice, settings);
  assert.ok(session.sessionKey && session.sessionKey !== key);
  assert.equal(session.get(SESSION_USER_HASH), sessionAuthHash(newAlice.password, settings.SECRET_KEY));
  await logout(session);
  assert.equal(session.sessionKey, null);
  assert.equal(session.isEmpty(), true);
});
