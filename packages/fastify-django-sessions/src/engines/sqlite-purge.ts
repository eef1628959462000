/**
 * Django's clear_expired for the sessions table on SQLite, fast enough for millions of rows
 * while the app keeps writing.
 *
 * Deleting a row costs a write to three B-trees, and session keys are random, so the key index
 * is written at random places: about 9 µs a row at best, in one huge statement that would hold
 * SQLite's single write lock for seconds. Two ways out, chosen by counting first:
 * - When most rows are expired (the usual case for a store nobody purged), the live rows are
 *   copied to a new table that then takes the old one's place, in one short transaction: its
 *   cost follows the live rows, not the expired ones (a million expired rows, a thousand live:
 *   about 0.2 s). The table is recreated from its own schema, indexes included, so it stays
 *   Django's.
 * - Otherwise rows are deleted a batch at a time in expiry order, each batch its own short
 *   transaction, with a pause as long as the batch between them, so other writers (the app's
 *   requests, in this process or another) get the lock in between.
 */
import type { Database } from "better-sqlite3";
import { DEFAULT_SESSION_TABLE, quoteIdentifier } from "../session-table.js";

export interface PurgeOptions {
  /** Rows per batch when deleting batch by batch (default: sized to take about 20 ms). */
  batchSize?: number;
  onProgress?: (removed: number) => void;
}

/** Live rows at most for the table swap: copying more would hold the write lock too long. */
const MOST_LIVE_ROWS_TO_COPY = 200_000;
/** The swap is chosen when expired rows outnumber live ones by this much. */
const EXPIRED_PER_LIVE = 4;
const BATCH_MS = 20;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a CREATE TABLE statement for `name` starts with, however the name is quoted. */
function createTablePrefix(name: string): RegExp {
  return new RegExp(`^CREATE TABLE\\s+(?:"${name}"|\`${name}\`|\\[${name}\\]|${name}\\b)`, "i");
}

/** The CREATE statements of `name` and its indexes, or null when swapping would be unsafe. */
function swappableSchema(db: Database, name: string): { table: string; indexes: string[] } | null {
  const objects = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL").all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string;
  }[];
  const table = objects.find((o) => o.type === "table" && o.name === name);
  if (!table || !createTablePrefix(name).test(table.sql)) return null;
  // Triggers on it, views over it, or other tables referring to it would be broken by a swap.
  const dependents = objects.filter(
    (o) =>
      o !== table &&
      ((o.type !== "index" && new RegExp(`\\b${name}\\b`, "i").test(o.sql)) ||
        (o.type === "trigger" && o.tbl_name === name)),
  );
  if (dependents.length > 0) return null;
  const indexes = objects.filter((o) => o.type === "index" && o.tbl_name === name).map((o) => o.sql);
  return { table: table.sql, indexes };
}

/**
 * Copies what the purge wrote to the WAL into the database now, without blocking anyone
 * (PASSIVE): otherwise the next commit of the app would, inside a request.
 */
function checkpoint(db: Database): void {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    /* c8 ignore next 3 -- untested: a PASSIVE checkpoint does not fail on a WAL database the tests can make */
  } catch {
    // Not in WAL mode, or busy: the app's own checkpoints will do it.
  }
}

/** `table`: the sessions table's name (SESSION_DB_TABLE, already checked: letters, digits, _). */
export async function purgeExpiredSessions(
  db: Database,
  cutoff: string,
  options: PurgeOptions = {},
  table: string = DEFAULT_SESSION_TABLE,
): Promise<number> {
  try {
    return await purge(db, cutoff, options, table);
  } finally {
    checkpoint(db);
  }
}

async function purge(
  db: Database,
  cutoff: string,
  { batchSize, onProgress }: PurgeOptions,
  name: string,
): Promise<number> {
  const t = quoteIdentifier(name);
  const purging = quoteIdentifier(`${name}_purging`);
  const count = db.prepare(`SELECT count(*) FROM ${t} WHERE expire_date < ?`).pluck();
  const countLive = db.prepare(`SELECT count(*) FROM ${t} WHERE expire_date >= ?`).pluck();
  const expired = count.get(cutoff) as number;
  if (expired === 0) return 0;
  const live = countLive.get(cutoff) as number;
  const schema = swappableSchema(db, name);
  if (schema !== null && live <= MOST_LIVE_ROWS_TO_COPY && expired >= EXPIRED_PER_LIVE * live) {
    const removed = db
      .transaction(() => {
        const before = count.get(cutoff) as number;
        db.exec(schema.table.replace(createTablePrefix(name), `CREATE TABLE ${purging}`));
        db.prepare(`INSERT INTO ${purging} SELECT * FROM ${t} WHERE expire_date >= ?`).run(cutoff);
        db.exec(`DROP TABLE ${t}; ALTER TABLE ${purging} RENAME TO ${t}`);
        for (const index of schema.indexes) db.exec(index);
        return before;
      })
      .immediate();
    onProgress?.(removed);
    return removed;
  }
  const remove = db.prepare(`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE expire_date < ? LIMIT ?)`);
  let size = batchSize ?? 1000;
  let removed = 0;
  for (;;) {
    const started = performance.now();
    const changes = remove.run(cutoff, size).changes;
    const took = performance.now() - started;
    removed += changes;
    if (changes > 0) onProgress?.(removed);
    if (changes < size) return removed;
    if (batchSize === undefined)
      size = Math.max(100, Math.min(50_000, Math.round((size * BATCH_MS) / Math.max(took, 1))));
    // As long a pause as the batch held the lock: whoever waited for it goes first.
    await sleep(Math.max(2, Math.round(took)));
  }
}
