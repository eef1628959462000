/** kysely's Migrator over the plain files in migrations/. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FileMigrationProvider, Migrator, sql, type Kysely, type MigrationResultSet } from "kysely";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** `schema`: where kysely keeps its migration tables on PostgreSQL (default: public). */
export function createMigrator(db: Kysely<any>, { schema }: { schema?: string } = {}): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER }),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

export class MigrationFailed extends Error {
  override name = "MigrationFailed";
}

/** Applies pending migrations; throws MigrationFailed naming the migration that failed. */
export async function migrateToLatest(db: Kysely<any>, options: { schema?: string } = {}): Promise<MigrationResultSet> {
  const result = await createMigrator(db, options).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new MigrationFailed(`Migration ${failed} failed: ${reason}`);
  }
  return result;
}

/** Whether the sessions table exists (the app checks this when auto-migration is off). */
export async function hasSessionsTable(db: Kysely<any>): Promise<boolean> {
  try {
    await sql`select 1 from sessions where 1 = 0`.execute(db);
    return true;
  } catch {
    return false;
  }
}
