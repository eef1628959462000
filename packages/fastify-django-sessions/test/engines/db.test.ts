/** The db engine beyond the conformance suite: batched purges and listing a large table. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CursorCodec, InvalidCursor, toSqliteDatetime } from "../../src/index.js";
import { dbFixture, TEST_SECRET } from "../../../../test/helpers.js";

async function withRows(expired: number, live: number) {
  const f = await dbFixture();
  const rows = [];
  for (let i = 0; i < expired + live; i++) {
    const offset = i < expired ? -3600_000 : 3600_000;
    rows.push({
      session_key: `k${String(i).padStart(31, "0")}`,
      session_data: "e30:x:y",
      expire_date: toSqliteDatetime(f.clock.now() + offset),
    });
  }
  await f.db.insertInto("sessions").values(rows).execute();
  return f;
}

test("clearExpired deletes in batches, reports progress after each, and keeps live rows", async () => {
  // Not four expired rows to each live one: batch by batch.
  const f = await withRows(35, 10);
  const progress: number[] = [];
  const removed = await f.engine.clearExpired({ batchSize: 10, onProgress: (n) => progress.push(n) });
  assert.equal(removed, 35);
  assert.deepEqual(progress, [10, 20, 30, 35]);
  const left = await f.db
    .selectFrom("sessions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  assert.equal(Number(left.n), 10);
});

test("clearExpired with mostly expired rows on SQLite: the live rows move to a new table in one step, schema and index intact", async () => {
  const f = await withRows(400, 7);
  const schemaBefore = f.sqlite
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY name")
    .all();
  const live = await f.db
    .selectFrom("sessions")
    .selectAll()
    .where("expire_date", ">", toSqliteDatetime(f.clock.now()))
    .orderBy("session_key")
    .execute();
  const progress: number[] = [];
  assert.equal(await f.engine.clearExpired({ onProgress: (n) => progress.push(n) }), 400);
  assert.deepEqual(progress, [400], "one step");
  assert.deepEqual(
    f.sqlite.prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'sessions' ORDER BY name").all(),
    schemaBefore,
  );
  assert.deepEqual(await f.db.selectFrom("sessions").selectAll().orderBy("session_key").execute(), live);
  // The engine's own statements work on the new table.
  const session = f.engine.open(null);
  session.set("after", true);
  await session.save();
  assert.equal(f.engine.open(session.sessionKey).get("after"), true);
});

test("listSessions reads more rows than one query takes, skipping expired ones; tampered data reads as null", async () => {
  const f = await withRows(3, 1203);
  let count = 0;
  let previous = "~";
  for await (const stored of f.engine.listSessions!()) {
    // One expiry for all: the tie is broken by key, descending.
    assert.ok(stored.key < previous, "latest expiry first, then by key descending, each once");
    assert.equal(stored.data, null, "a signature that does not verify");
    previous = stored.key;
    count++;
  }
  assert.equal(count, 1203);
  assert.equal(await f.engine.countSessions!(), 1203);
});

test("a page decodes only its rows: each of them that does not verify is reported once, no other row", async () => {
  const f = await withRows(0, 30);
  const warnings: object[] = [];
  const log = { warn: (obj: object) => void warnings.push(obj), error() {} };
  const first = [];
  for await (const stored of f.engine.listSessions!({ limit: 10, log })) first.push(stored);
  assert.equal(first.length, 10);
  // Rows are listed from the highest key down (one expiry for all): these ten are k..29 to k..20.
  assert.equal(warnings.length, 10, "each decoded row that does not verify is reported, no more");
  assert.ok(warnings.every((w) => JSON.stringify(w).includes("django.security.SuspiciousSession")));
  assert.ok(!JSON.stringify(warnings).includes(first[0]!.key), "never the whole key");
});

test("a key prefix narrows the listing and the count exactly, at the edges of the alphabet too", async () => {
  const f = await withRows(0, 50);
  const more = ["abz1", "abzz", "ac00", "a9x0", "a900", "aa00", "zzzz", "zz9z"].map((stem) => stem + "0".repeat(28));
  const expire_date = toSqliteDatetime(f.clock.now() + 3600_000);
  await f.db
    .insertInto("sessions")
    .values(more.map((session_key) => ({ session_key, session_data: "e30:x:y", expire_date })))
    .execute();
  const listed = async (keyPrefix: string) => {
    const found = [];
    for await (const stored of f.engine.listSessions!({ keyPrefix })) found.push(stored.key);
    assert.equal(await f.engine.countSessions!({ keyPrefix }), found.length, `count for ${keyPrefix}`);
    return found.sort();
  };
  const starting = (prefix: string) =>
    [...more, ...Array.from({ length: 50 }, (_, i) => `k${String(i).padStart(31, "0")}`)]
      .filter((k) => k.startsWith(prefix))
      .sort();
  for (const prefix of ["abz", "ab", "a9", "a", "zz", "zzz", "z", `k${"0".repeat(29)}4`, "k", "q"]) {
    assert.deepEqual(await listed(prefix), starting(prefix), prefix);
  }
});

test("on SQLite a large count is taken in slices of the index, exact across slices and across a tie bigger than one", async () => {
  const f = await dbFixture();
  const tie = toSqliteDatetime(f.clock.now() + 7200_000);
  const rows = Array.from({ length: 80_000 }, (_, i) => ({
    session_key: `k${String(i).padStart(31, "0")}`,
    session_data: "e30:x:y",
    // 30,000 rows share one expiry (more than a slice of 25,000); the others are a second apart.
    expire_date: i < 30_000 ? tie : toSqliteDatetime(f.clock.now() + (i % 3 === 0 ? -1 : 1) * (1000 + i * 1000)),
  }));
  for (let i = 0; i < rows.length; i += 5000)
    await f.db
      .insertInto("sessions")
      .values(rows.slice(i, i + 5000))
      .execute();
  const live = rows.filter((r) => r.expire_date > toSqliteDatetime(f.clock.now())).length;
  assert.equal(await f.engine.countSessions!(), live);
  // Cursors inside the tie and beyond it: before + itself + after is everything.
  const cursors: string[] = [];
  let n = 0;
  for await (const stored of f.engine.listSessions!({ limit: 40_001 }))
    if ([0, 30_000, 40_000].includes(n++)) cursors.push(stored.cursor!);
  for (const [i, cursor] of cursors.entries()) {
    const before = await f.engine.countSessions!({ before: cursor });
    const after = await f.engine.countSessions!({ after: cursor });
    assert.equal(before, [0, 30_000, 40_000][i], "counted before");
    assert.equal(before + 1 + after, live, "before + 1 + after");
  }
});

test("a cursor sealed for something else, or with other parts, is refused (InvalidCursor)", async () => {
  const f = await withRows(0, 3);
  const codec = new CursorCodec(TEST_SECRET);
  const key = `k${"0".repeat(31)}`;
  await assert.rejects(f.engine.countSessions!({ after: codec.seal("another-listing", [key]) }), InvalidCursor);
  await assert.rejects(f.engine.countSessions!({ after: codec.seal("key", [key, "extra"]) }), InvalidCursor);
  assert.throws(() => codec.open(codec.seal("kind", ["a", "b"]), "kind", 1), InvalidCursor);
  assert.deepEqual(codec.open(codec.seal("kind", ["a", "b"]), "kind", 2), ["a", "b"]);
});
