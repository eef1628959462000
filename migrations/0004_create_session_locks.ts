// Leases for routes that run one request at a time per session (config: { session: { lock } }),
// shared by every process on the same database. Beside Django's sessions table, not in it.
// 0001 makes it on databases created since the package ships the tables' migration; this one
// made it on older databases, and now only if it is missing.
import { sql, type Kysely } from "kysely";
import { sessionLocksStatement, SESSION_LOCKS_TABLE } from "fastify-django-sessions/migrations";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(sessionLocksStatement()).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable(SESSION_LOCKS_TABLE).execute();
}
