// Sessions ended by someone else (another session of the user, a password change, staff), so
// their browser can be told why at its next request. Keyed by a hash of the session key: the
// table names no live key and cannot be used to find one. Beside Django's sessions table.
import { PostgresAdapter, type Kysely } from "kysely";

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const datetime = isPostgres(db) ? "timestamptz" : "datetime";
  await db.schema
    .createTable("ended_sessions")
    .addColumn("key_hash", "varchar(64)", (col) => col.primaryKey().notNull())
    .addColumn("reason", "varchar(16)", (col) => col.notNull())
    // 1 when the session was logged in (its browser is sent to log in again), 0 otherwise.
    .addColumn("logged_in", "integer", (col) => col.notNull().defaultTo(0))
    // After this no browser can still hold the cookie: clearsessions removes the row.
    .addColumn("expire_date", datetime, (col) => col.notNull())
    .execute();
  await db.schema.createIndex("ended_sessions_expire_date_idx").on("ended_sessions").column("expire_date").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("ended_sessions").execute();
}
