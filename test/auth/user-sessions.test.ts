/** The user_sessions table follows sessions: written at most once a minute, pruned against the store. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { login } from "../../src/auth/session-auth.js";
import { UserSessions } from "../../src/auth/user-sessions.js";
import { toSqliteDatetime } from "fastify-django-sessions";
import { dbFixture } from "../helpers.js";

const ada = { id: 1, password: "pbkdf2_sha256$1$salt$hash" };
const sighting = { userAgent: "Firefox", ip: "127.0.0.1" };

async function setup() {
  const f = await dbFixture();
  await f.db.insertInto("users").values({ id: 1, username: "ada", password: ada.password }).execute();
  const userSessions = new UserSessions({
    db: f.db,
    engine: f.engine,
    secrets: f.settings,
    dateValue: toSqliteDatetime,
    now: f.clock.now,
  });
  /** A saved session logged in as ada. */
  async function loggedIn(): Promise<string> {
    const session = f.engine.open(null);
    await login(session, ada, f.settings);
    await session.save();
    return session.sessionKey!;
  }
  const lastSeen = async (key: string) =>
    (
      await f.db
        .selectFrom("user_sessions")
        .select("last_seen_at")
        .where("session_key", "=", key)
        .executeTakeFirstOrThrow()
    ).last_seen_at;
  return { ...f, userSessions, loggedIn, lastSeen };
}

test("last seen is written at login, then at most once per touch interval", async () => {
  const { userSessions, loggedIn, lastSeen, clock } = await setup();
  const key = await loggedIn();
  await userSessions.seen(key, 1, sighting, { loggedIn: true });
  const first = await lastSeen(key);
  clock.advance(30);
  await userSessions.seen(key, 1, sighting);
  assert.equal(await lastSeen(key), first, "not rewritten within a minute");
  clock.advance(31);
  await userSessions.seen(key, 1, sighting);
  assert.notEqual(await lastSeen(key), first);
});

test("a cycled key moves the row and keeps when the user logged in", async () => {
  const { userSessions, loggedIn, clock } = await setup();
  const key = await loggedIn();
  await userSessions.seen(key, 1, sighting, { loggedIn: true });
  const [before] = await userSessions.list(ada, key);
  clock.advance(120);
  const moved = await loggedIn();
  await userSessions.moved(key, moved);
  const [after] = await userSessions.list(ada, moved);
  assert.equal(after?.keyPrefix, moved.slice(0, 8));
  assert.equal(after?.current, true);
  assert.deepEqual(after?.loggedInAt, before?.loggedInAt);
});

test("list drops rows whose session is gone or belongs to someone else, and reports expiry", async () => {
  const { userSessions, loggedIn, engine, db, settings, clock } = await setup();
  const live = await loggedIn();
  const gone = await loggedIn();
  for (const key of [live, gone]) await userSessions.seen(key, 1, sighting, { loggedIn: true });
  await engine.open(gone).deleteRecord(gone);
  const listed = await userSessions.list(ada, null);
  assert.deepEqual(
    listed.map((s) => s.keyPrefix),
    [live.slice(0, 8)],
  );
  assert.equal(listed[0]!.expiresAt?.getTime(), clock.now() + settings.SESSION_COOKIE_AGE * 1000);
  assert.equal((await db.selectFrom("user_sessions").selectAll().execute()).length, 1);
});

test("endOthers deletes the other records, even ones with an outdated password hash", async () => {
  const { userSessions, loggedIn, engine } = await setup();
  const keep = await loggedIn();
  const other = await loggedIn();
  for (const key of [keep, other]) await userSessions.seen(key, 1, sighting, { loggedIn: true });
  const changed = { ...ada, password: "pbkdf2_sha256$1$salt$other" };
  assert.equal(await userSessions.endOthers(changed, [keep]), 1);
  assert.equal(await engine.open(other).exists(other), false);
  assert.equal(await engine.open(keep).exists(keep), true);
});
