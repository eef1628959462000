/** hasTable: whether a table exists, on SQLite and on PostgreSQL while other sessions drop schemas. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { sql } from "kysely";
import { openSqlite } from "../../src/db/database.js";
import { hasTable, migrateToLatest } from "../../src/db/migrations.js";
import { NO_POSTGRES, postgresSchema, duringSchemaChurn } from "../services.js";

test("SQLite: a table is found once migrations created it, and only a table of that name", async () => {
  const { db } = openSqlite(":memory:");
  try {
    assert.equal(await hasTable(db, "sessions"), false);
    await migrateToLatest(db);
    assert.equal(await hasTable(db, "sessions"), true);
    assert.equal(await hasTable(db, "ended_sessions"), true);
    assert.equal(await hasTable(db, "session"), false);
    await sql`create view recent as select * from sessions`.execute(db);
    assert.equal(await hasTable(db, "recent"), false, "a view is not a table");
  } finally {
    await db.destroy();
  }
});

test(
  "PostgreSQL: tables are found in the connection's schema, also while another session creates and drops schemas",
  { skip: NO_POSTGRES || false },
  async () => {
    const pg = await postgresSchema("hastable");
    try {
      // kysely's introspection (every table of every schema) failed here with "schema ... does not exist".
      await duringSchemaChurn(async () => {
        for (let i = 0; i < 100; i++) {
          assert.equal(await hasTable(pg.db, "ended_sessions"), true);
          assert.equal(await hasTable(pg.db, "no_such_table"), false);
          assert.equal(await hasTable(pg.db, "sessions_pkey"), false, "an index is not a table");
        }
      });
    } finally {
      await pg.drop();
    }
  },
);
