/** kysely's Migrator over the plain files in migrations/. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileMigrationProvider, Migrator, PostgresAdapter, sql, type Kysely, type MigrationResultSet } from "kysely";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/**
 * kysely's migrator. On PostgreSQL its bookkeeping tables go in the connection's current schema
 * (the first of search_path): without naming it, kysely would take same-named tables in any
 * other schema of the database for its own and skip creating them.
 */
export async function createMigrator<DB>(db: Kysely<DB>): Promise<Migrator> {
  let schema: string | undefined;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    schema = rows[0]?.schema;
  }
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/** What kysely's migrator reports as a failure (whatever the migration threw), as an Error. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class MigrationFailed extends Error {
  override name = "MigrationFailed";
}

/** Applies pending migrations; throws MigrationFailed naming the migration that failed. */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<MigrationResultSet> {
  const result = await (await createMigrator(db)).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName;
    const reason = asError(result.error).message;
    throw new MigrationFailed(failed ? `Migration ${failed} failed: ${reason}` : `Migrations could not run: ${reason}`);
  }
  return result;
}

/** Whether the sessions table exists (the app checks this when auto-migration is off). */
export async function hasSessionsTable<DB>(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`select 1 from sessions where 1 = 0`.execute(db);
    return true;
  } catch {
    return false;
  }
}
