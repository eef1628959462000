// The sessions table of Django's django_session: key, signed data, indexed expiry.
import { PostgresAdapter, type Kysely } from "kysely";

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sessions")
    .addColumn("session_key", "varchar(40)", (col) => col.primaryKey().notNull())
    .addColumn("session_data", "text", (col) => col.notNull())
    .addColumn("expire_date", isPostgres(db) ? "timestamptz" : "datetime", (col) => col.notNull())
    .execute();
  await db.schema.createIndex("sessions_expire_date_idx").on("sessions").column("expire_date").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("sessions").execute();
}
