/**
 * The real Redis and PostgreSQL the tests use, from REDIS_URL and DATABASE_URL (CI sets both).
 * Without them those tests report themselves skipped with the reason.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPostgres, type OpenedDatabase } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";

export const REDIS_URL = process.env.REDIS_URL || undefined;
export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const NO_REDIS = REDIS_URL ? false : "REDIS_URL is not set: no Redis server to test against";
export const NO_POSTGRES = DATABASE_URL ? false : "DATABASE_URL is not set: no PostgreSQL server to test against";

/** A unique prefix so parallel test files never see each other's Redis keys. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString("hex")}`;
}

/** A migrated PostgreSQL database in a schema of its own, dropped by `drop()`. */
export async function postgresSchema(
  label: string,
): Promise<OpenedDatabase & { schema: string; drop: () => Promise<void> }> {
  const schema = `t_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const opened = openPostgres(DATABASE_URL!, `-c search_path=${schema}`);
  await migrateToLatest(opened.db);
  return {
    ...opened,
    schema,
    drop: async () => {
      await opened.db.destroy();
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * `work`, while another PostgreSQL session keeps creating and dropping schemas, as the other test
 * files do: catalog queries that list every schema fail when one is dropped under them. Fails if
 * no schema was dropped meanwhile (the work did not run under churn).
 */
export async function duringSchemaChurn<T>(work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  let churning = true;
  let dropped = 0;
  const loop = (async () => {
    while (churning) {
      const name = `t_churn_${randomBytes(4).toString("hex")}`;
      await client.query(`create schema ${name}; create table ${name}.t (id int primary key, label text)`);
      await client.query(`drop schema ${name} cascade`);
      dropped++;
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    churning = false;
    await loop.finally(() => client.end());
  }
  assert.ok(dropped > 0, "schemas were dropped meanwhile");
  return result;
}
