/**
 * The tables the db and cached_db engines need, as a kysely migration an application adds to its
 * own Migrator: the sessions table exactly as Django's migration makes django_session (columns,
 * types, index names), under the name SESSION_DB_TABLE gives it, and session_locks beside it for
 * routes that run one request of a session at a time. Each is created only if it does not exist,
 * so whichever of Django and this migration runs first, the other finds the table it expects
 * (Django then needs `manage.py migrate --fake-initial`, since the table is already there).
 *
 * Applications without kysely's migrator: the same statements, for the default table name, are in
 * the package's sql/sqlite.sql and sql/postgresql.sql.
 */
import { createHash } from "node:crypto";
import { PostgresAdapter, sql, SqliteAdapter, type Kysely, type Migration } from "kysely";
import { ImproperlyConfigured } from "./errors.js";
import { DEFAULT_SESSION_TABLE, DJANGO_SESSION_TABLE, quoteIdentifier } from "./session-table.js";
import { TABLE_NAME, TABLE_NAME_RULE } from "./settings.js";

export { DEFAULT_SESSION_TABLE, DJANGO_SESSION_TABLE } from "./session-table.js";

/** The route lock's leases (not Django's: Django has no such lock). */
export const SESSION_LOCKS_TABLE = "session_locks";

export type SessionTablesDialect = "sqlite" | "postgres";

/** Longest identifier Django makes an index name to fit: PostgreSQL's 63, else its default of 200. */
const MAX_NAME_LENGTH: Record<SessionTablesDialect, number> = { sqlite: 200, postgres: 63 };

/**
 * The name Django's schema editor gives an index (BaseDatabaseSchemaEditor._create_index_name):
 * `<table>_<columns>_<digest><suffix>`, where the digest is the first 8 hex digits of one MD5 over
 * the table's name then each column's (django.db.backends.utils.names_digest); too long a name is
 * cut down Django's way. `django_session`'s expire_date index: django_session_expire_date_a5c62663.
 */
export function djangoIndexName(table: string, columns: readonly string[], suffix = "", maxLength = 200): string {
  const digest = createHash("md5");
  for (const part of [table, ...columns]) digest.update(part);
  let hashSuffix = digest.digest("hex").slice(0, 8) + suffix;
  const joined = columns.join("_");
  const name = `${table}_${joined}_${hashSuffix}`;
  if (name.length <= maxLength) return name;
  if (hashSuffix.length > maxLength / 3) hashSuffix = hashSuffix.slice(0, Math.floor(maxLength / 3));
  const otherLength = Math.floor((maxLength - hashSuffix.length) / 2) - 1;
  const short = `${table.slice(0, otherLength)}_${joined.slice(0, otherLength)}_${hashSuffix}`;
  return short.startsWith("_") || /^\d/.test(short) ? `D${short.slice(0, -1)}` : short;
}

/**
 * The statements that create the sessions table named `table` as Django's migration creates
 * django_session on that database (Django's DDL, with IF NOT EXISTS): the table, the expire_date
 * index, and on PostgreSQL the varchar_pattern_ops index Django adds for a primary key's LIKE.
 */
export function sessionTableStatements(dialect: SessionTablesDialect, table: string = DEFAULT_SESSION_TABLE): string[] {
  const t = quoteIdentifier(checkedTable(table));
  const index = (columns: string[], suffix = "") =>
    quoteIdentifier(djangoIndexName(table, columns, suffix, MAX_NAME_LENGTH[dialect]));
  const expireType = dialect === "postgres" ? "timestamp with time zone" : "datetime";
  const statements = [
    `CREATE TABLE IF NOT EXISTS ${t} ("session_key" varchar(40) NOT NULL PRIMARY KEY, ` +
      `"session_data" text NOT NULL, "expire_date" ${expireType} NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS ${index(["expire_date"])} ON ${t} ("expire_date")`,
  ];
  if (dialect === "postgres") {
    statements.push(
      `CREATE INDEX IF NOT EXISTS ${index(["session_key"], "_like")} ON ${t} ("session_key" varchar_pattern_ops)`,
    );
  }
  return statements;
}

/** The statement that creates session_locks (the route lock's leases; epoch milliseconds). */
export function sessionLocksStatement(): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(SESSION_LOCKS_TABLE)} ("session_key" varchar(40) NOT NULL PRIMARY KEY, ` +
    `"token" varchar(64) NOT NULL, "expires_at" bigint NOT NULL)`
  );
}

function checkedTable(table: string): string {
  if (!TABLE_NAME.test(table)) {
    throw new ImproperlyConfigured(`sessionTablesMigration: table ${JSON.stringify(table)} ${TABLE_NAME_RULE}.`);
  }
  return table;
}

function dialectOf(db: Kysely<unknown>): SessionTablesDialect {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return "postgres";
  if (adapter instanceof SqliteAdapter) return "sqlite";
  throw new ImproperlyConfigured("The session tables' migration runs on SQLite and PostgreSQL only.");
}

/** Whether `table` exists where CREATE TABLE would put it (PostgreSQL: the current schema). */
async function tableExists(db: Kysely<unknown>, dialect: SessionTablesDialect, table: string): Promise<boolean> {
  const query =
    dialect === "postgres"
      ? sql`select 1 from pg_catalog.pg_tables where schemaname = current_schema() and tablename = ${table}`
      : sql`select 1 from sqlite_master where type = 'table' and name = ${table}`;
  return (await query.execute(db)).rows.length > 0;
}

/**
 * Whether Django's own migrations count django_session as theirs (sessions.0001_initial applied,
 * or faked onto a table made here): Django would break without it, so `down` leaves it.
 */
async function djangoOwnsSessionTable(db: Kysely<unknown>, dialect: SessionTablesDialect): Promise<boolean> {
  if (!(await tableExists(db, dialect, "django_migrations"))) return false;
  const query = sql`select 1 from django_migrations where app = 'sessions' and name = '0001_initial'`;
  return (await query.execute(db)).rows.length > 0;
}

export interface SessionTablesOptions {
  /** The sessions table's name: the app's SESSION_DB_TABLE (default "sessions"; Django's is "django_session"). */
  table?: string;
}

/**
 * A kysely migration ({ up, down }) for the session tables. `up` creates the sessions table with
 * its indexes unless a table of that name exists (then it is left exactly as it is: Django's, or
 * one made earlier), and session_locks unless it exists. `down` drops session_locks, and the
 * sessions table too unless it is django_session and Django's migrations have it as applied.
 */
export function sessionTablesMigration({ table = DEFAULT_SESSION_TABLE }: SessionTablesOptions = {}): Migration {
  checkedTable(table);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const dialect = dialectOf(db);
      if (!(await tableExists(db, dialect, table))) {
        for (const statement of sessionTableStatements(dialect, table)) await sql.raw(statement).execute(db);
      }
      await sql.raw(sessionLocksStatement()).execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      const dialect = dialectOf(db);
      await db.schema.dropTable(SESSION_LOCKS_TABLE).ifExists().execute();
      if (table === DJANGO_SESSION_TABLE && (await djangoOwnsSessionTable(db, dialect))) return;
      await db.schema.dropTable(table).ifExists().execute();
    },
  };
}
