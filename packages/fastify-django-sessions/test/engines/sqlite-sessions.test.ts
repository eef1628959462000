/**
 * The db engine on SQLite through better-sqlite3 directly: its row cache never hides a write
 * made elsewhere (another process, or other code on the same connection), and the writes of one
 * event-loop turn commit together, each failing alone.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import SQLite from "better-sqlite3";
import { openSqlite } from "../../../../src/db/database.js";
import { migrateToLatest } from "../../../../src/db/migrations.js";
import { createSessionEngine, UpdateError, type SessionEngine } from "../../src/index.js";
import { CACHED_ROWS } from "../../src/engines/sqlite-sessions.js";
import { countStatements, testSettings, TestClock } from "../../../../test/helpers.js";

const directory = mkdtempSync(join(tmpdir(), "sqlite-sessions-"));
after(() => rmSync(directory, { recursive: true, force: true }));

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function fileEngine(name: string) {
  const path = join(directory, `${name}.sqlite3`);
  const database = openSqlite(path);
  await migrateToLatest(database.db);
  const clock = new TestClock(Date.now());
  const engine = await createSessionEngine(
    testSettings(),
    { db: database.db, sqlite: database.sqlite },
    { now: clock.now },
  );
  after(() => database.db.destroy());
  return { path, database, engine, clock };
}

async function read(engine: SessionEngine, key: string): Promise<Record<string, unknown>> {
  await nextTurn();
  return Object.fromEntries(engine.open(key).items());
}

async function saved(engine: SessionEngine, data: Record<string, string | number>): Promise<string> {
  const session = engine.open(null);
  session.update(data);
  await session.save();
  return session.sessionKey!;
}

test("a write by another process (another connection) is read at the next turn, never the cached row", async () => {
  const { path, engine } = await fileEngine("other-process");
  const key = await saved(engine, { n: 1 });
  assert.deepEqual(await read(engine, key), { n: 1 });
  // The other process: a second engine on its own connection to the same file.
  const other = await fileEngine("other-process");
  assert.equal(other.path, path);
  const session = other.engine.open(key);
  session.set("n", 2);
  await session.save();
  assert.deepEqual(await read(engine, key), { n: 2 });
  await other.engine.open(null).deleteRecord(key);
  assert.deepEqual(await read(engine, key), {}, "deleted elsewhere: gone here too");
});

test("a write by other code on the same connection (through kysely) is read at the next turn", async () => {
  const { database, engine } = await fileEngine("same-connection");
  const key = await saved(engine, { n: 1 });
  const tampered = await saved(engine, { n: 2 });
  assert.deepEqual(await read(engine, key), { n: 1 });
  const row = await database.db
    .selectFrom("sessions")
    .select("session_data")
    .where("session_key", "=", tampered)
    .executeTakeFirstOrThrow();
  await database.db
    .updateTable("sessions")
    .set({ session_data: row.session_data })
    .where("session_key", "=", key)
    .execute();
  assert.deepEqual(await read(engine, key), { n: 2 }, "the row copied over it");
  await database.db
    .updateTable("sessions")
    .set({ session_data: "not:signed:data" })
    .where("session_key", "=", key)
    .execute();
  assert.deepEqual(await read(engine, key), {}, "data that does not verify reads as empty");
});

test("the route lock's leases, written on the same connection, leave the cached rows cached", async () => {
  const { database, engine } = await fileEngine("locks");
  const key = await saved(engine, { n: 1 });
  assert.deepEqual(await read(engine, key), { n: 1 });
  const statements = countStatements(database.sqlite!);
  try {
    const release = await engine.locks!.acquire(key, { waitMs: 1000, leaseMs: 5000 });
    assert.ok(release, "the lock is taken");
    assert.ok(
      statements.statements.some((sql) => /insert into "?session_locks/i.test(sql)),
      "a lease was written",
    );
    await release();
    assert.ok(
      statements.statements.some((sql) => /delete from "?session_locks/i.test(sql)),
      "and given back",
    );
    assert.deepEqual(await read(engine, key), { n: 1 });
    assert.deepEqual(
      statements.statements.filter((sql) => /from "?sessions"?\s/i.test(sql)),
      [],
      "the session was not read again",
    );
  } finally {
    statements.restore();
  }
});

test("the cache keeps the rows used last: the least recently used is the one read again", async () => {
  const { database, engine } = await fileEngine("bounded");
  const keys: string[] = [];
  for (let i = 0; i < CACHED_ROWS; i += 500) {
    keys.push(...(await Promise.all(Array.from({ length: 500 }, (_, j) => saved(engine, { n: i + j })))));
  }
  const statements = countStatements(database.sqlite!);
  try {
    const reads = () => statements.statements.filter((sql) => /from "?sessions"?\s/i.test(sql)).length;
    // The first row saved is read (so used last) and one more row is saved: the cache is over its
    // bound by one, and the row that goes is the second saved, not the first.
    assert.deepEqual(await read(engine, keys[0]!), { n: 0 });
    await saved(engine, { n: CACHED_ROWS });
    assert.equal(reads(), 0, "every row so far came from the cache");
    assert.deepEqual(await read(engine, keys[0]!), { n: 0 });
    assert.deepEqual(await read(engine, keys.at(-1)!), { n: CACHED_ROWS - 1 });
    assert.equal(reads(), 0, "rows used recently are still cached");
    assert.deepEqual(await read(engine, keys[1]!), { n: 1 });
    assert.equal(reads(), 1, "the least recently used row was dropped and is read from the table");
  } finally {
    statements.restore();
  }
});

test("a cached row still expires on time", async () => {
  const { engine, clock } = await fileEngine("expiry");
  const session = engine.open(null);
  session.set("n", 1);
  session.setExpiry(60);
  await session.save();
  const key = session.sessionKey!;
  assert.deepEqual(await read(engine, key), { n: 1, _session_expiry: 60 });
  clock.advance(61);
  assert.deepEqual(await read(engine, key), {});
});

test("one turn's saves commit together; one that fails (its session deleted) fails alone", async () => {
  const { path, engine } = await fileEngine("batch");
  const keys = await Promise.all([1, 2, 3].map((n) => saved(engine, { n })));
  const sessions = keys.map((key) => engine.open(key));
  sessions.forEach((session, i) => session.set("n", 10 + i));
  await engine.open(null).deleteRecord(keys[1]);
  const results = await Promise.allSettled(sessions.map((session) => session.save()));
  assert.deepEqual(
    results.map((r) => r.status),
    ["fulfilled", "rejected", "fulfilled"],
  );
  assert.ok((results[1] as PromiseRejectedResult).reason instanceof UpdateError);
  // Read back through a connection of its own, as another process would.
  const check = new SQLite(path, { readonly: true });
  try {
    const rows = check.prepare("SELECT session_key FROM sessions ORDER BY session_key").all() as {
      session_key: string;
    }[];
    assert.deepEqual(
      rows.map((r) => r.session_key),
      [keys[0], keys[2]].sort(),
    );
  } finally {
    check.close();
  }
  assert.deepEqual(await read(engine, keys[0]!), { n: 10 });
  assert.deepEqual(await read(engine, keys[2]!), { n: 12 });
});
