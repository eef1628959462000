// Leases for routes that run one request at a time per session (config: { session: { lock } }),
// shared by every process on the same database. Beside Django's sessions table, not in it.
import type { Kysely } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("session_locks")
    .addColumn("session_key", "varchar(40)", (col) => col.primaryKey().notNull())
    .addColumn("token", "varchar(64)", (col) => col.notNull())
    // Epoch milliseconds: when the lease ends and another request may take it.
    .addColumn("expires_at", "bigint", (col) => col.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("session_locks").execute();
}
