/** kysely's Migrator over the plain files in migrations/. */
import { promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  FileMigrationProvider,
  Migrator,
  PostgresAdapter,
  sql,
  type DatabaseIntrospector,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  type TableMetadata,
} from "kysely";
import { DEFAULT_SESSION_TABLE } from "fastify-django-sessions";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** What the migrations in migrations/ are told about the app: the second argument of their up/down. */
export interface MigrationOptions {
  /** SESSION_DB_TABLE: the sessions table a new database gets (migrations/0001). */
  sessionTable: string;
}

export const DEFAULT_MIGRATION_OPTIONS: MigrationOptions = { sessionTable: DEFAULT_SESSION_TABLE };

/** A migration file of migrations/: kysely's up/down, which may read the options. */
interface ConfigurableMigration {
  up: (db: Kysely<unknown>, options?: MigrationOptions) => Promise<void>;
  down?: (db: Kysely<unknown>, options?: MigrationOptions) => Promise<void>;
}

/** The files of migrations/ (kysely's FileMigrationProvider), each called with `options`. */
class ConfiguredMigrations implements MigrationProvider {
  readonly #files = new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_FOLDER });

  constructor(private readonly options: MigrationOptions) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const migrations: Record<string, Migration> = {};
    for (const [name, found] of Object.entries(await this.#files.getMigrations())) {
      const file: ConfigurableMigration = found;
      const up = file.up.bind(file);
      const down = file.down?.bind(file);
      migrations[name] = {
        up: (db) => up(db, this.options),
        ...(down ? { down: (db) => down(db, this.options) } : {}),
      };
    }
    return migrations;
  }
}

/**
 * kysely's migrator. On PostgreSQL its bookkeeping tables go in the connection's current schema
 * (the first of search_path): without naming it, kysely would take same-named tables in any
 * other schema of the database for its own and skip creating them. And it looks only there:
 * kysely finds its tables by listing every table of every schema, a query that fails when
 * another session drops a schema meanwhile ("schema ... does not exist") or when this role may
 * not read some schema (kysely issues #1419, #1537).
 */
export async function createMigrator<DB>(
  db: Kysely<DB>,
  options: MigrationOptions = DEFAULT_MIGRATION_OPTIONS,
): Promise<Migrator> {
  let schema: string | undefined;
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    schema = rows[0]?.schema;
  }
  return new Migrator({
    db: schema ? withIntrospector(db, schemaIntrospector(db, schema)) : db,
    provider: new ConfiguredMigrations(options),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

/** What the migrator asks of introspection (its schema, its tables), answered for one schema only. */
function schemaIntrospector<DB>(db: Kysely<DB>, schema: string): DatabaseIntrospector {
  const getTables = async (): Promise<TableMetadata[]> => {
    const { rows } = await sql<{ name: string; type: string }>`
      select table_name as name, table_type as type from information_schema.tables where table_schema = ${schema}
    `.execute(db);
    return rows.map((row) => ({ name: row.name, schema, isView: row.type === "VIEW", columns: [] }));
  };
  return {
    async getSchemas() {
      const { rows } = await sql<{ name: string }>`
        select nspname as name from pg_catalog.pg_namespace where nspname = ${schema}
      `.execute(db);
      return rows;
    },
    getTables,
    async getMetadata() {
      return { tables: await getTables() };
    },
  };
}

/** `db` with another `introspection`; every other member is db's own, called on db itself. */
function withIntrospector<DB>(db: Kysely<DB>, introspection: DatabaseIntrospector): Kysely<DB> {
  return new Proxy(db, {
    get(target, property) {
      if (property === "introspection") return introspection;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
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
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: MigrationOptions = DEFAULT_MIGRATION_OPTIONS,
): Promise<MigrationResultSet> {
  const result = await (await createMigrator(db, options)).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error")?.migrationName;
    const reason = asError(result.error).message;
    throw new MigrationFailed(failed ? `Migration ${failed} failed: ${reason}` : `Migrations could not run: ${reason}`);
  }
  return result;
}

/**
 * Whether `table` exists where an unqualified name finds it (search_path on PostgreSQL). Asked of
 * the catalog by name: kysely's introspection lists every schema's tables and fails when another
 * session drops a schema meanwhile.
 */
export async function hasTable<DB>(db: Kysely<DB>, table: string): Promise<boolean> {
  const query =
    db.getExecutor().adapter instanceof PostgresAdapter
      ? sql`select 1 from pg_catalog.pg_class where oid = to_regclass(${table}::text) and relkind in ('r', 'p')`
      : sql`select 1 from sqlite_master where type = 'table' and name = ${table}`;
  const { rows } = await query.execute(db);
  return rows.length > 0;
}
