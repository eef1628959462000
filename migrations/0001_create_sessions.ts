// The sessions table: Django's django_session (columns, types, index) under the name
// SESSION_DB_TABLE gives it, made by the package's own migration, which also makes session_locks.
// A table of that name that exists already (Django's, on a database Django migrated) is left as
// it is. Databases migrated before SESSION_DB_TABLE have "sessions" with the index
// sessions_expire_date_idx; new ones get Django's index name (sessions_expire_date_16e4c444).
import type { Kysely } from "kysely";
import { DEFAULT_SESSION_TABLE } from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";
import type { MigrationOptions } from "../src/db/migrations.js";

const DEFAULTS: MigrationOptions = { sessionTable: DEFAULT_SESSION_TABLE };

export async function up(db: Kysely<unknown>, { sessionTable }: MigrationOptions = DEFAULTS): Promise<void> {
  await sessionTablesMigration({ table: sessionTable }).up(db);
}

export async function down(db: Kysely<unknown>, { sessionTable }: MigrationOptions = DEFAULTS): Promise<void> {
  await sessionTablesMigration({ table: sessionTable }).down!(db);
}
