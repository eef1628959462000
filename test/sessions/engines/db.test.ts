/** The db engine beyond the conformance suite: batched purges and listing a large table. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { toSqliteDatetime } from "../../../src/sessions/index.js";
import { dbFixture } from "../../helpers.js";

async function withRows(expired: number, live: number) {
  const f = await dbFixture();
  const rows = [];
  for (let i = 0; i < expired + live; i++) {
    const offset = i < expired ? -3600_000 : 3600_000;
    rows.push({ session_key: `k${String(i).padStart(31, "0")}`, session_data: "e30:x:y", expire_date: toSqliteDatetime(f.clock.now() + offset) });
  }
  await f.db.insertInto("sessions").values(rows).execute();
  return f;
}

test("clearExpired deletes in batches, reports progress after each, and keeps live rows", async () => {
  const f = await withRows(35, 5);
  const progress: number[] = [];
  const removed = await f.engine.clearExpired({ batchSize: 10, onProgress: (n) => progress.push(n) });
  assert.equal(removed, 35);
  assert.deepEqual(progress, [10, 20, 30, 35]);
  const left = await f.db.selectFrom("sessions").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  assert.equal(Number(left.n), 5);
});

test("listSessions pages through more rows than one page, skipping expired ones; tampered data reads as null", async () => {
  const f = await withRows(3, 1203);
  let count = 0;
  let previous = "";
  for await (const stored of f.engine.listSessions!()) {
    assert.ok(stored.key > previous, "in key order, each once");
    assert.equal(stored.data, null, "a signature that does not verify");
    previous = stored.key;
    count++;
  }
  assert.equal(count, 1203);
});
