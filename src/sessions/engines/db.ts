/**
 * The `db` engine: one row per session in the `sessions` table, through kysely. Data is stored
 * in Django's signed format, so a Django app with the same SECRET_KEY reads the same rows.
 */
import { sql, SqliteAdapter, type Kysely } from "kysely";
import { datetimeColumnMs, toSqliteDatetime } from "../dates.js";
import { decodeStored, defineEngine, type ClearOptions, type EngineContext, type ListOptions, type SessionEngine, type StoredSession } from "../engine.js";
import { hasKeyAlphabet, MAX_SESSION_KEY_LENGTH } from "../keys.js";
import { CreateError, UpdateError } from "../errors.js";
import type { LockStore } from "../locks.js";
import {
  MISSING_RECORD,
  SessionBase,
  type LoadedRecord,
  type RecordWrite,
  type SessionContext,
  type SessionData,
  type SessionShape,
} from "../session-base.js";

export interface SessionsTable {
  session_key: string;
  session_data: string;
  /** SQLite: Django's `YYYY-MM-DD HH:MM:SS.ffffff` UTC text; PostgreSQL: timestamptz. */
  expire_date: string | Date;
}

/** Leases of the per-session route lock (migrations/0004_create_session_locks.ts). */
export interface SessionLocksTable {
  session_key: string;
  token: string;
  /** Epoch milliseconds (bigint: PostgreSQL hands it back as a string). */
  expires_at: number | string | bigint;
}

export interface SessionsDatabase {
  sessions: SessionsTable;
  session_locks: SessionLocksTable;
}

/** Any kysely database that has the sessions table (the app's own may have more tables). */
export interface DbEngineOptions<DB extends SessionsDatabase = SessionsDatabase> {
  db: Kysely<DB>;
  /** How an instant is written to `expire_date` (text for SQLite, Date for PostgreSQL). */
  dateValue?: (epochMs: number) => string | Date;
}

export interface DbStore {
  readonly db: Kysely<SessionsDatabase>;
  readonly dateValue: (epochMs: number) => string | Date;
  /** SQLite (no row locks: a write transaction locks the database). */
  readonly sqlite: boolean;
}

export function dbStore(db: Kysely<SessionsDatabase>, dateValue: (epochMs: number) => string | Date): DbStore {
  return { db, dateValue, sqlite: db.getExecutor().adapter instanceof SqliteAdapter };
}

/**
 * Runs `work` in a transaction that writes. On SQLite it begins IMMEDIATE: the write lock is
 * taken before the first read, so a read-then-write can never be overtaken by another process
 * (a plain BEGIN would take it only at the first write, and fail if another writer came first).
 * kysely runs SQLite on one connection, so this process's other queries wait meanwhile.
 */
export async function inWriteTransaction<T>(
  db: Kysely<SessionsDatabase>,
  work: (trx: Kysely<SessionsDatabase>) => Promise<T>,
): Promise<T> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return db.transaction().execute(work);
  return db.connection().execute(async (connection) => {
    await sql`begin immediate`.execute(connection);
    try {
      const result = await work(connection);
      await sql`commit`.execute(connection);
      return result;
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * The route lock's leases in the session_locks table, shared by every process on the database:
 * a free or lapsed lease is taken in one upsert; the lease ends by itself, so a crashed holder
 * blocks nobody for longer than `leaseMs`. Leases are wall-clock times (processes compare them).
 */
export function tableLocks({ db }: DbStore, now: () => number = Date.now): LockStore {
  return {
    async tryAcquire(name, token, leaseMs) {
      // Keys the table cannot hold (too long for varchar(40)) are unknown keys: this process's queue is enough.
      if (name.length > MAX_SESSION_KEY_LENGTH) return true;
      const at = now();
      const result = await db
        .insertInto("session_locks")
        .values({ session_key: name, token, expires_at: at + leaseMs })
        .onConflict((conflict) =>
          conflict
            .column("session_key")
            .doUpdateSet({ token, expires_at: at + leaseMs })
            .where("session_locks.expires_at", "<=", at),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async release(name, token) {
      await db.deleteFrom("session_locks").where("session_key", "=", name).where("token", "=", token).execute();
    },
  };
}

export class DbSession<T extends SessionShape<T> = SessionData> extends SessionBase<T> {
  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    protected readonly store: DbStore,
  ) {
    super(sessionKey, context);
  }

  /** The unexpired row for the current key. */
  protected fetchRow(): Promise<Pick<SessionsTable, "session_data" | "expire_date"> | undefined> {
    const { db, dateValue } = this.store;
    return db
      .selectFrom("sessions")
      .select(["session_data", "expire_date"])
      .where("session_key", "=", this.sessionKey!)
      .where("expire_date", ">", dateValue(this.context.now()))
      .executeTakeFirst();
  }

  protected async loadRecord(): Promise<LoadedRecord> {
    const row = await this.fetchRow();
    // A row whose data does not verify reads as {} but keeps its key (Django).
    return row ? { data: this.decode(row.session_data), stored: row.session_data } : MISSING_RECORD;
  }

  async exists(key: string): Promise<boolean> {
    const row = await this.store.db
      .selectFrom("sessions")
      .select("session_key")
      .where("session_key", "=", key)
      .executeTakeFirst();
    return row !== undefined;
  }

  override async recordExpiryDate(): Promise<Date | null> {
    if (this.sessionKey === null) return null;
    const row = await this.store.db
      .selectFrom("sessions")
      .select("expire_date")
      .where("session_key", "=", this.sessionKey)
      .executeTakeFirst();
    return row ? new Date(datetimeColumnMs(row.expire_date)) : null;
  }

  async save(mustCreate = false): Promise<void> {
    if (this.sessionKey === null) return this.create();
    if (!mustCreate) await this.load();
    this.recordWritten(mustCreate ? await this.insertRecord() : await this.updateRecord());
  }

  /** Django's INSERT: CreateError when the key is taken. */
  protected async insertRecord(): Promise<RecordWrite> {
    const write = this.newRecord();
    const { db, dateValue } = this.store;
    const result = await db
      .insertInto("sessions")
      .values({ session_key: write.key, session_data: write.text, expire_date: dateValue(write.expiresAt.getTime()) })
      .onConflict((conflict) => conflict.column("session_key").doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new CreateError(write.key);
    return write;
  }

  /**
   * Writes this request's changes onto the row with no other write in between. Usually nobody
   * else wrote the row since this request read it, and one conditional UPDATE (still holding
   * what was read) stores the session's own data. Otherwise the row is read and merged inside a
   * transaction: SQLite takes the database's write lock first (BEGIN IMMEDIATE), PostgreSQL the
   * row's (SELECT ... FOR UPDATE), so a concurrent save waits and then merges onto this one's
   * result, and a concurrent delete either lands first (UpdateError: never brought back) or after.
   */
  protected async updateRecord(): Promise<RecordWrite> {
    const key = this.sessionKey;
    // The key was unknown and loading dropped it: Django fails the forced update the same way.
    if (key === null) throw new UpdateError("The session has no record to update.");
    const own = this.ownRecord();
    const { db, dateValue, sqlite } = this.store;
    await this.beforeWrite(key);
    const read = this.storedText;
    if (read !== undefined) {
      const result = await db
        .updateTable("sessions")
        .set({ session_data: own.text, expire_date: dateValue(own.expiresAt.getTime()) })
        .where("session_key", "=", key)
        .where("session_data", "=", read)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) return own;
    }
    return inWriteTransaction(db, async (trx) => {
      const row = await trx
        .selectFrom("sessions")
        .select("session_data")
        .where("session_key", "=", key)
        .$if(!sqlite, (query) => query.forUpdate())
        .executeTakeFirst();
      const write = this.updatedRecord(row?.session_data, own);
      await trx
        .updateTable("sessions")
        .set({ session_data: write.text, expire_date: dateValue(write.expiresAt.getTime()) })
        .where("session_key", "=", key)
        .execute();
      return write;
    });
  }

  async deleteRecord(key: string | null = this.sessionKey): Promise<void> {
    if (key === null) return;
    await this.store.db.deleteFrom("sessions").where("session_key", "=", key).execute();
  }
}

/**
 * Django's clear_expired for the table: rows with expire_date < now, deleted `batchSize` at a
 * time (each batch its own short statement), so a large purge never holds the table for long.
 */
export async function clearExpiredRows(
  context: EngineContext,
  { db, dateValue }: DbStore,
  { batchSize = 1000, onProgress }: ClearOptions = {},
): Promise<number> {
  const cutoff = dateValue(context.now());
  let removed = 0;
  for (;;) {
    const batch = db.selectFrom("sessions").select("session_key").where("expire_date", "<", cutoff).limit(batchSize);
    const result = await db.deleteFrom("sessions").where("session_key", "in", batch).executeTakeFirst();
    const count = Number(result.numDeletedRows);
    removed += count;
    if (count > 0) onProgress?.(removed);
    if (count < batchSize) return removed;
    // Let other work on this connection pool (a running app's requests) go between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The unexpired rows, in key order, read a page at a time. */
export async function* listRows(context: EngineContext, { db, dateValue }: DbStore, { keyPrefix }: ListOptions = {}): AsyncGenerator<StoredSession> {
  if (keyPrefix !== undefined && !hasKeyAlphabet(keyPrefix)) return;
  const page = 500;
  let after = "";
  for (;;) {
    let query = db
      .selectFrom("sessions")
      .select(["session_key", "session_data", "expire_date"])
      .where("expire_date", ">", dateValue(context.now()))
      .where("session_key", ">", after)
      .orderBy("session_key")
      .limit(page);
    // a-z0-9 only, so the prefix holds no LIKE wildcard.
    if (keyPrefix) query = query.where("session_key", "like", `${keyPrefix}%`);
    const rows = await query.execute();
    for (const row of rows) {
      yield {
        key: row.session_key,
        data: decodeStored(context.signer, row.session_data),
        expiresAt: new Date(datetimeColumnMs(row.expire_date)),
        size: Buffer.byteLength(row.session_data),
      };
    }
    if (rows.length < page) return;
    after = rows[rows.length - 1]!.session_key;
  }
}

/**
 * The engine touches only the sessions table, whose columns DB must declare as SessionsTable
 * does; so viewing a wider database as SessionsDatabase is sound (kysely's types are invariant).
 */
export function sessionsOnly<DB extends SessionsDatabase>(db: Kysely<DB>): Kysely<SessionsDatabase> {
  return db as unknown as Kysely<SessionsDatabase>;
}

export function dbEngine<DB extends SessionsDatabase>(
  context: EngineContext,
  { db, dateValue = toSqliteDatetime }: DbEngineOptions<DB>,
): SessionEngine {
  const store = dbStore(sessionsOnly(db), dateValue);
  // The database belongs to the application, which closes it.
  return defineEngine("db", context, (key, ctx) => new DbSession(key, ctx, store), {
    clearExpired: (options) => clearExpiredRows(context, store, options),
    listSessions: (options) => listRows(context, store, options),
    mergesSaves: true,
    lockStore: tableLocks(store),
  });
}
