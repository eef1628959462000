/** The application's database: a typed kysely instance over SQLite (default) or PostgreSQL. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, sql, SqliteDialect, type Generated } from "kysely";
import pg from "pg";
import { toSqliteDatetime, type SessionsDatabase } from "fastify-django-sessions";
import { checkpointInBackground } from "./wal-checkpointer.js";
import { connectionErrorFields } from "./connection-errors.js";
import { maskUrl } from "fastify-django-sessions";

export interface UsersTable {
  id: Generated<number>;
  username: string;
  /** Django's format: `<algorithm>$<parameters>$<salt>$<hash>`. */
  password: string;
  /** 1 for staff (the admin pages), 0 otherwise. */
  is_staff: Generated<number>;
  last_login: string | Date | null;
  date_joined: Generated<string | Date>;
}

/** One row per session a user is logged in with (see src/auth/user-sessions.ts). */
export interface UserSessionsTable {
  session_key: string;
  user_id: number;
  /** When the user logged in with this session. */
  created_at: string | Date;
  last_seen_at: string | Date;
  user_agent: string;
  ip_address: string;
}

/** One row per session ended by someone else, until its cookie can no longer come back (src/auth/ended-sessions.ts). */
export interface EndedSessionsTable {
  /** SHA-256 (hex) of the session key. */
  key_hash: string;
  reason: string;
  logged_in: number;
  expire_date: string | Date;
}

/** Every table the app uses. */
export interface Database extends SessionsDatabase {
  users: UsersTable;
  user_sessions: UserSessionsTable;
  ended_sessions: EndedSessionsTable;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** The better-sqlite3 handle behind `db` on SQLite (the session engine reads and writes through it). */
  sqlite?: SQLite.Database;
  dialect: "sqlite" | "postgres";
  /** Where the data lives, for messages (passwords masked). */
  location: string;
  /** How an instant is written to a datetime column. */
  dateValue: (epochMs: number) => string | Date;
  /** Where lost PostgreSQL connections are logged from now on (standard error until then). */
  logConnectionErrorsTo?(logger: ConnectionLog): void;
  /** Closes the database (and what openSqlite started beside it). */
  close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite file at `path`; ":memory:" for a throwaway database.
 * A server passes `backgroundCheckpoints` (see wal-checkpointer.ts); short-lived commands do not.
 */
export function openSqlite(
  path: string,
  { backgroundCheckpoints = false }: { backgroundCheckpoints?: boolean } = {},
): OpenedDatabase {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers run while a write commits; the busy timeout covers a second process
  // (the migrate command) holding the write lock briefly. synchronous=NORMAL: a commit is in the
  // WAL file when it returns, so it survives the process being killed; the WAL is flushed to
  // disk at checkpoints, so a power loss can undo the last commits (never corrupt the file).
  // Set on every connection: a new file is switched to WAL by this one, which would keep FULL.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  const checkpointer = backgroundCheckpoints && path !== ":memory:" ? checkpointInBackground(sqlite, path) : undefined;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    db,
    sqlite,
    dialect: "sqlite",
    location: path,
    dateValue: toSqliteDatetime,
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/** Where a lost PostgreSQL connection is reported: pino's (Fastify's) logger fits. */
export interface ConnectionLog {
  warn(fields: object, message: string): void;
}

/** Until the app's logger takes over (commands keep it): one line on standard error. */
const STDERR_LOG: ConnectionLog = {
  warn: (_fields, message) => void process.stderr.write(`warning: ${message}\n`),
};

/**
 * A PostgreSQL pool; `options` can set e.g. a search_path for an isolated test schema.
 *
 * A connection that dies (PostgreSQL restarted or stopped) emits 'error' on its pg Client. The
 * pool listens for that only while the client is idle in it; one checked out by a query has no
 * listener, and Node ends the process on an unheard 'error' (node-postgres issue #1324). So every
 * client gets a listener of its own as it connects, for its whole life: the query in flight fails
 * by itself (a 503, see connection-errors.ts), the pool drops the broken client when it is
 * released, and the next query opens a new connection. Each loss is logged once, as a warning.
 */
export function openPostgres(url: string, options?: string): OpenedDatabase {
  const location = maskUrl(url);
  // A connection that cannot be made fails within 5 s (ECONNREFUSED at once), so no request waits forever.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000, options });
  let log = STDERR_LOG;
  const reported = new WeakSet<Error>();
  const report = (error: Error) => {
    // The client's listener and the pool's (for an idle client) hear the same error.
    if (reported.has(error)) return;
    reported.add(error);
    const fields = connectionErrorFields(error);
    log.warn(
      { database: location, ...fields },
      `PostgreSQL connection lost (${fields.code ? `${fields.code} ` : ""}${fields.reason}); a new one is opened for the next query`,
    );
  };
  pool.on("connect", (client) => client.on("error", report));
  pool.on("error", report);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: "postgres",
    location,
    dateValue: (ms) => new Date(ms),
    logConnectionErrorsTo(logger) {
      log = logger;
    },
    close: () => db.destroy(),
  };
}

export function openDatabase(
  { databaseUrl, databasePath }: { databaseUrl: string | null; databasePath: string },
  options: { backgroundCheckpoints?: boolean } = {},
): OpenedDatabase {
  return databaseUrl ? openPostgres(databaseUrl) : openSqlite(databasePath, options);
}

export class DatabaseUnavailable extends Error {
  override name = "DatabaseUnavailable";
}

/** Fails with one clear line when the database cannot be reached. */
export async function checkDatabase({ db, dialect, location }: OpenedDatabase): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    const what = dialect === "postgres" ? "PostgreSQL" : "SQLite";
    throw new DatabaseUnavailable(`cannot reach ${what} at ${location}: ${(error as Error).message}`);
  }
}
