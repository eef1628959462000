/** The application's database: a typed kysely instance over SQLite (better-sqlite3). */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { SessionsDatabase } from "../sessions/index.js";

/** Every table the app uses. */
export interface Database extends SessionsDatabase {}

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** Where the data lives, for messages. */
  location: string;
}

/** Opens (creating if needed) the SQLite file at `path`; ":memory:" for a throwaway database. */
export function openSqlite(path: string): OpenedDatabase {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  // WAL lets readers run while a write commits; the busy timeout covers a second process
  // (the migrate command) holding the write lock briefly.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }), location: path };
}
