/**
 * The `db` engine: one row per session in the `sessions` table, through kysely. Data is stored
 * in Django's signed format, so a Django app with the same SECRET_KEY reads the same rows.
 */
import type { Kysely } from "kysely";
import { datetimeColumnMs, toSqliteDatetime } from "../dates.js";
import { decodeStored, defineEngine, type ClearOptions, type EngineContext, type ListOptions, type SessionEngine, type StoredSession } from "../engine.js";
import { hasKeyAlphabet } from "../keys.js";
import { CreateError, UpdateError } from "../errors.js";
import {
  MISSING_RECORD,
  SessionBase,
  type LoadedRecord,
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

export interface SessionsDatabase {
  sessions: SessionsTable;
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
    return row ? { data: this.decode(row.session_data) } : MISSING_RECORD;
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
    const { db, dateValue } = this.store;
    const sessionKey = this.sessionKey;
    const sessionData = this.encode(this.dataForSave(mustCreate));
    const expireDate = dateValue(this.getExpiryDate().getTime());
    if (mustCreate) {
      const result = await db
        .insertInto("sessions")
        .values({ session_key: sessionKey, session_data: sessionData, expire_date: expireDate })
        .onConflict((conflict) => conflict.column("session_key").doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new CreateError(sessionKey);
      return;
    }
    const result = await db
      .updateTable("sessions")
      .set({ session_data: sessionData, expire_date: expireDate })
      .where("session_key", "=", sessionKey)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new UpdateError(sessionKey);
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

/** The database belongs to the application, which closes it. */
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
  const store: DbStore = { db: sessionsOnly(db), dateValue };
  return defineEngine("db", context, (key, ctx) => new DbSession(key, ctx, store), {
    clearExpired: (options) => clearExpiredRows(context, store, options),
    listSessions: (options) => listRows(context, store, options),
  });
}
