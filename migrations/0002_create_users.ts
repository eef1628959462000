// Users who can log in (Django's auth_user, trimmed to what sessions need).
import { PostgresAdapter, sql, type Kysely } from "kysely";

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable("users")
    .addColumn("id", pg ? "serial" : "integer", (col) => col.primaryKey())
    .addColumn("username", "varchar(150)", (col) => col.notNull().unique())
    .addColumn("password", "varchar(255)", (col) => col.notNull())
    .addColumn("is_staff", "integer", (col) => col.notNull().defaultTo(0))
    .addColumn("last_login", pg ? "timestamptz" : "datetime")
    .addColumn("date_joined", pg ? "timestamptz" : "datetime", (col) => col.notNull().defaultTo(sql`CURRENT_TIMESTAMP`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("users").execute();
}
