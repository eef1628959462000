// Which sessions each user is logged in with, for the account page's list and "sign out
// everywhere else". Kept beside Django's sessions table, whose schema stays Django's.
import { PostgresAdapter, type Kysely } from "kysely";

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const datetime = isPostgres(db) ? "timestamptz" : "datetime";
  await db.schema
    .createTable("user_sessions")
    .addColumn("session_key", "varchar(40)", (col) => col.primaryKey().notNull())
    .addColumn("user_id", "integer", (col) => col.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", datetime, (col) => col.notNull())
    .addColumn("last_seen_at", datetime, (col) => col.notNull())
    .addColumn("user_agent", "varchar(256)", (col) => col.notNull().defaultTo(""))
    .addColumn("ip_address", "varchar(45)", (col) => col.notNull().defaultTo(""))
    .execute();
  await db.schema.createIndex("user_sessions_user_id_idx").on("user_sessions").column("user_id").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("user_sessions").execute();
}
