/**
 * The sessions table on SQLite through better-sqlite3 directly: statements prepared once, reads
 * answered synchronously (so a session is read only when a request touches it, as in Django), and
 * the writes of one event-loop turn committed together in one transaction. Each save's promise
 * settles only after that commit, so a response is never sent for a write that is not stored.
 *
 * Rows it has read or written are kept in a bounded in-process cache, with the data they hold
 * once verified, so a returning visitor's session is usually neither read nor verified again.
 * The cache is checked once per event-loop turn that reads: when anyone else has written the
 * database since (another process: SQLite's data_version; other code on this connection:
 * total_changes beyond this class's own), it is emptied. So a read never returns a row older
 * than one the request could have seen.
 *
 * The db engine uses this when the application hands it the better-sqlite3 handle (the
 * `sqlite` resource); with a kysely instance alone it goes through kysely, which is slower.
 */
import type { Database, Statement, Transaction } from "better-sqlite3";
import { LRUCache } from "lru-cache";
import { purgeExpiredSessions, type PurgeOptions } from "./sqlite-purge.js";
import { DEFAULT_SESSION_TABLE, quoteIdentifier } from "../session-table.js";

/** A row as stored, and its data as JSON once a session has verified it. */
export interface SessionRow {
  session_data: string;
  expire_date: string;
  /** The verified data's JSON (never set for data whose signature failed). */
  verified?: string;
}

/** Rows kept at most (the least recently read or written go first): a few megabytes. */
export const CACHED_ROWS = 10_000;

/** What a write can do inside the batch's transaction, synchronously. */
export interface SessionsTableWriter {
  /** The stored text for `key` (expired or not), or undefined when there is no row. */
  read(key: string): string | undefined;
  /**
   * UPDATE the row only if it still holds `expected`; true when it did. `json` is the data the
   * new text signs, which the cache then needs not verify again.
   */
  updateIf(key: string, text: string, expireDate: string, expected: string, json?: string): boolean;
  /** UPDATE the row; true when there was one. */
  update(key: string, text: string, expireDate: string, json?: string): boolean;
  /** INSERT a new row; false when the key is taken. */
  insert(key: string, text: string, expireDate: string, json?: string): boolean;
}

type Outcome = { ok: true; value: unknown; written: [string, SessionRow][] } | { ok: false; error: unknown };

interface Queued {
  work: (writer: SessionsTableWriter) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class SqliteSessions {
  readonly #db: Database;
  /** The sessions table's name (SESSION_DB_TABLE), for the purge. */
  readonly #table: string;
  readonly #live: Statement<[string, string], SessionRow>;
  readonly #any: Statement<[string], { session_data: string }>;
  readonly #exists: Statement<[string], { found: number }>;
  readonly #updateIf: Statement<[string, string, string, string]>;
  readonly #update: Statement<[string, string, string]>;
  readonly #insert: Statement<[string, string, string]>;
  readonly #delete: Statement<[string]>;
  readonly #writer: SessionsTableWriter;
  readonly #probe: Statement<[], { version: number; changes: number }>;
  /** The route lock's statements (session_locks), prepared at first use: a database may not have the table. */
  #locks: { take: Statement<[string, string, number, number]>; release: Statement<[string, string]> } | undefined;
  // An LRUCache, not a Map in use order: evicting a Map's oldest key leaves a hole that every
  // later eviction walks past again (~6 µs a new session once full). Emptied by moving to a new
  // generation, not by clear() (20 µs empty, 0.7 ms full), since processes that share the file
  // empty it on every turn after one another's writes.
  readonly #rows = new LRUCache<string, { row: SessionRow; generation: number }>({ max: CACHED_ROWS });
  /** Rows cached in an older generation read as not cached (and are evicted in their turn). */
  #generation = 0;
  /** data_version and total_changes at the last check, and the changes made here since. */
  #seen: { version: number; changes: number } | undefined;
  #ownChanges = 0;
  #checkedThisTurn = false;
  /** Rows written by the work running now. */
  #written: [string, SessionRow][] = [];
  #queue: Queued[] = [];
  #scheduled = false;
  /** One turn's works in one transaction (made once: better-sqlite3 wraps it in BEGIN/COMMIT). */
  readonly #runBatch: Transaction<(batch: Queued[]) => Outcome[]>;

  /** `table` is the sessions table's name (SESSION_DB_TABLE, already checked). */
  constructor(db: Database, table: string = DEFAULT_SESSION_TABLE) {
    this.#db = db;
    this.#table = table;
    const t = quoteIdentifier(table);
    this.#live = db.prepare(`SELECT session_data, expire_date FROM ${t} WHERE session_key = ? AND expire_date > ?`);
    this.#any = db.prepare(`SELECT session_data FROM ${t} WHERE session_key = ?`);
    this.#exists = db.prepare(`SELECT 1 AS found FROM ${t} WHERE session_key = ?`);
    this.#updateIf = db.prepare(
      `UPDATE ${t} SET session_data = ?, expire_date = ? WHERE session_key = ? AND session_data = ?`,
    );
    this.#update = db.prepare(`UPDATE ${t} SET session_data = ?, expire_date = ? WHERE session_key = ?`);
    this.#insert = db.prepare(
      `INSERT INTO ${t} (session_key, session_data, expire_date) VALUES (?, ?, ?) ON CONFLICT (session_key) DO NOTHING`,
    );
    this.#delete = db.prepare(`DELETE FROM ${t} WHERE session_key = ?`);
    this.#probe = db.prepare(
      "SELECT (SELECT data_version FROM pragma_data_version()) AS version, total_changes() AS changes",
    );
    this.#seen = this.#probe.get();
    // Rows written are remembered once their work has succeeded and the batch is committed.
    const wrote = (key: string, text: string, expireDate: string, json: string | undefined, changes: number) => {
      this.#ownChanges += changes;
      if (changes > 0)
        this.#written.push([
          key,
          { session_data: text, expire_date: expireDate, ...(json === undefined ? {} : { verified: json }) },
        ]);
      return changes > 0;
    };
    this.#runBatch = db.transaction((batch: Queued[]) =>
      batch.map((item): Outcome => {
        this.#written = [];
        try {
          return { ok: true, value: item.work(this.#writer), written: this.#written };
        } catch (error) {
          return { ok: false, error };
        }
      }),
    );
    this.#writer = {
      read: (key) => this.#any.get(key)?.session_data,
      updateIf: (key, text, expireDate, expected, json) =>
        wrote(key, text, expireDate, json, this.#updateIf.run(text, expireDate, key, expected).changes),
      update: (key, text, expireDate, json) =>
        wrote(key, text, expireDate, json, this.#update.run(text, expireDate, key).changes),
      insert: (key, text, expireDate, json) =>
        wrote(key, text, expireDate, json, this.#insert.run(key, text, expireDate).changes),
    };
  }

  /** Empties the cache if anyone but this class wrote the database since the last check. */
  #check(): void {
    if (this.#checkedThisTurn) return;
    this.#checkedThisTurn = true;
    setImmediate(() => (this.#checkedThisTurn = false));
    const now = this.#probe.get()!;
    const seen = this.#seen;
    if (seen === undefined || now.version !== seen.version || now.changes !== seen.changes + this.#ownChanges) {
      this.#generation++;
    }
    this.#seen = now;
    this.#ownChanges = 0;
  }

  #remember(key: string, row: SessionRow): void {
    this.#rows.set(key, { row, generation: this.#generation });
  }

  /**
   * The unexpired row (`now` in the column's format), or undefined. A cached row is the same
   * object each time: a session may set `verified` on it once it has checked the signature.
   */
  readLive(key: string, now: string): SessionRow | undefined {
    this.#check();
    const cached = this.#rows.get(key);
    let row = cached?.generation === this.#generation ? cached.row : undefined;
    if (row === undefined) {
      row = this.#live.get(key, now);
      if (row === undefined) return undefined;
      this.#remember(key, row);
    }
    return row.expire_date > now ? row : undefined;
  }

  /** Removes the rows that expired before `cutoff` (see sqlite-purge.ts). */
  async purgeExpired(cutoff: string, options: PurgeOptions): Promise<number> {
    try {
      return await purgeExpiredSessions(this.#db, cutoff, options, this.#table);
    } finally {
      this.#generation++;
    }
  }

  /**
   * Whether this connection can run a statement of its own now: not while someone else's
   * transaction is open on it (a migration through kysely), which the statement would join.
   */
  get idle(): boolean {
    return !this.#db.inTransaction;
  }

  /**
   * Takes the route lock's lease on `key` if it is free or ran out by `now`: one upsert, in a
   * transaction of its own. Its writes are not the sessions table's, so the row cache stays.
   */
  takeLock(key: string, token: string, until: number, now: number): boolean {
    const changes = this.#lockStatements().take.run(key, token, until, now).changes;
    this.#ownChanges += changes;
    return changes > 0;
  }

  /** Ends the lease on `key` if `token` still holds it. */
  releaseLock(key: string, token: string): void {
    this.#ownChanges += this.#lockStatements().release.run(key, token).changes;
  }

  #lockStatements() {
    return (this.#locks ??= {
      take: this.#db.prepare(
        "INSERT INTO session_locks (session_key, token, expires_at) VALUES (?, ?, ?) ON CONFLICT (session_key) " +
          "DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at WHERE session_locks.expires_at <= ?",
      ),
      release: this.#db.prepare("DELETE FROM session_locks WHERE session_key = ? AND token = ?"),
    });
  }

  exists(key: string): boolean {
    return this.#exists.get(key) !== undefined;
  }

  delete(key: string): void {
    this.#ownChanges += this.#delete.run(key).changes;
    this.#rows.delete(key);
  }

  /**
   * Runs `work` in this turn's write transaction (BEGIN IMMEDIATE: no other process writes
   * between its reads and its writes) and resolves once that transaction is committed. A work
   * writes at most once, as its last step, so one that throws has written nothing: it rejects
   * alone and the others still commit.
   */
  write<T>(work: (writer: SessionsTableWriter) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#commit());
      }
    });
  }

  #commit(): void {
    // Someone else's transaction is open on this connection (a migration): wait for it.
    /* c8 ignore next 4 -- untested: needs another transaction (a migration) open on the connection at the instant a deferred commit runs */
    if (this.#db.inTransaction) {
      setImmediate(() => this.#commit());
      return;
    }
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    let outcomes: Outcome[];
    try {
      outcomes = this.#runBatch.immediate(batch);
      /* c8 ignore next 8 -- untested: a failing COMMIT (disk full, locked past busy_timeout) cannot be made on demand */
    } catch (error) {
      // The commit itself failed (the database is locked past busy_timeout, the disk is full):
      // nothing of this batch is stored, and every save says so. What the cache learnt from it
      // may be wrong: forget it all.
      this.#generation++;
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (!outcome.ok) return item.reject(outcome.error);
      for (const [key, row] of outcome.written) this.#remember(key, row);
      item.resolve(outcome.value);
    });
  }
}
