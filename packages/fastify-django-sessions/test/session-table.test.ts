/**
 * SESSION_DB_TABLE: the db and cached_db engines on a database whose sessions table is Django's
 * django_session and that has no `sessions` table at all. The store contract on each path, then
 * what it leaves in the table.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { describeSessionEngine } from "../src/conformance.js";
import {
  createSessionEngine,
  MemoryCache,
  toSqliteDatetime,
  withSessionTable,
  type EngineHooks,
  type SessionsDatabase,
} from "../src/index.js";
import { sessionTablesMigration } from "../src/migrations.js";
import { testSettings, TestClock } from "../../../test/helpers.js";
import { DATABASE_URL, NO_POSTGRES } from "../../../test/services.js";

const TABLE = "django_session";
const settings = (engine = "db") => testSettings({ SESSION_ENGINE: engine, SESSION_DB_TABLE: TABLE });

/** An in-memory SQLite holding only what the package's migration makes for django_session. */
async function djangoSqlite() {
  const sqlite = new SQLite(":memory:");
  const db = new Kysely<SessionsDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
  await sessionTablesMigration({ table: TABLE }).up(db);
  return { db, sqlite };
}

/** A PostgreSQL schema of its own holding only what the migration makes for django_session. */
async function djangoPostgres() {
  const schema = `t_session_table_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4, options: `-c search_path=${schema}` });
  const db = new Kysely<SessionsDatabase>({ dialect: new PostgresDialect({ pool }) });
  await sessionTablesMigration({ table: TABLE }).up(db);
  return {
    db,
    async drop() {
      await db.destroy();
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

const engineOn = async (
  resources: Parameters<typeof createSessionEngine>[1],
  now: () => number,
  hooks: EngineHooks,
  engine = "db",
) => createSessionEngine(settings(engine), resources, { now, hooks });

describeSessionEngine("db on django_session (SQLite, through better-sqlite3 directly)", async (clock, hooks) => ({
  engine: await engineOn(await djangoSqlite(), clock.now, hooks),
}));

describeSessionEngine("db on django_session (SQLite, through kysely only)", async (clock, hooks) => ({
  engine: await engineOn({ db: (await djangoSqlite()).db }, clock.now, hooks),
}));

describeSessionEngine("cached_db on django_session (SQLite + in-process cache)", async (clock, hooks) => ({
  engine: await engineOn(
    { ...(await djangoSqlite()), caches: { default: new MemoryCache({ now: clock.now }) } },
    clock.now,
    hooks,
    "cached_db",
  ),
}));

describeSessionEngine(
  "db on django_session (PostgreSQL)",
  async (clock, hooks) => {
    const store = await djangoPostgres();
    return {
      engine: await engineOn({ db: store.db, dateValue: (ms) => new Date(ms) }, clock.now, hooks),
      cleanup: () => store.drop(),
    };
  },
  { skipReason: NO_POSTGRES || undefined },
);

describe("what the engines leave in django_session", () => {
  for (const direct of [true, false]) {
    test(`SQLite ${direct ? "with the better-sqlite3 handle" : "through kysely"}: rows, purge and the lock's lease`, async () => {
      const { db, sqlite } = await djangoSqlite();
      const clock = new TestClock();
      const engine = await createSessionEngine(settings(), direct ? { db, sqlite } : { db }, { now: clock.now });
      const schema = () =>
        sqlite.prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? ORDER BY name").all(TABLE);
      const before = schema();
      const session = engine.open(null);
      session.set("n", 1);
      await session.save();
      const rows = () => sqlite.prepare(`SELECT session_key, expire_date FROM "${TABLE}"`).all();
      assert.deepEqual(rows(), [
        { session_key: session.sessionKey, expire_date: toSqliteDatetime(clock.now() + 1_209_600_000) },
      ]);
      // Enough expired rows that the SQLite purge swaps the table (with the handle); the schema stays Django's.
      const insert = sqlite.prepare(`INSERT INTO "${TABLE}" VALUES (?, 'e30:x:y', ?)`);
      for (let i = 0; i < 10; i++) insert.run(`expired${i}`.padEnd(32, "0"), toSqliteDatetime(clock.now() - 1000));
      assert.equal(await engine.clearExpired(), 10);
      assert.deepEqual(rows().length, 1);
      assert.deepEqual(schema(), before);
      assert.deepEqual(
        sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all(),
        [{ name: TABLE }, { name: "session_locks" }],
        "no table named sessions was made or needed",
      );
      assert.equal(await engine.countSessions!(), 1);
      const release = await engine.locks!.acquire(session.sessionKey!, { waitMs: 1000, leaseMs: 10_000 });
      assert.ok(release, "the lease was taken");
      assert.equal((sqlite.prepare("SELECT count(*) AS n FROM session_locks").get() as { n: number }).n, 1);
      await release();
      assert.equal((sqlite.prepare("SELECT count(*) AS n FROM session_locks").get() as { n: number }).n, 0);
      await db.destroy();
    });
  }

  test("withSessionTable: qualified columns name the table too", async () => {
    const { db, sqlite } = await djangoSqlite();
    sqlite.prepare(`INSERT INTO "${TABLE}" VALUES ('k', 'data', '2030-01-01 00:00:00.000000')`).run();
    const rows = await withSessionTable(db, TABLE)
      .selectFrom("sessions")
      .select(["sessions.session_key", "sessions.session_data"])
      .where("sessions.expire_date", ">", "2029-01-01")
      .execute();
    assert.deepEqual(rows, [{ session_key: "k", session_data: "data" }]);
    assert.equal(withSessionTable(db, "sessions"), db, "the default name: the same instance, no plugin");
    await db.destroy();
  });
});
