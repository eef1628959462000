/**
 * The `db` engine: one row per session in the table SESSION_DB_TABLE names (`sessions` by
 * default, `django_session` to share Django's), through kysely. Data is stored in Django's signed
 * format, so a Django app with the same SECRET_KEY reads the same rows.
 */
import type { Kysely } from "kysely";
import { datetimeColumnMs, parseIsoformat, toSqliteDatetime } from "../dates.js";
import {
  decodeStored,
  defineEngine,
  type ClearOptions,
  type CountOptions,
  type EngineContext,
  type ListOptions,
  type RawRecord,
  type SessionEngine,
  type StoredSession,
} from "../engine.js";
import { generateSessionKey, hasKeyAlphabet, isStorableKey, MAX_SESSION_KEY_LENGTH } from "../keys.js";
import { CursorCodec, InvalidCursor, withLazyCursor } from "../listing.js";
import { CreateError } from "../errors.js";
import { isJsonObject } from "../json.js";
import type { LockStore } from "../locks.js";
import { SqliteSessions, type SessionRow } from "./sqlite-sessions.js";
import { dialectOf } from "./kysely-dialect.js";
import { importPeer } from "../optional-peers.js";
import { DEFAULT_SESSION_TABLE, withSessionTable } from "../session-table.js";
import type { Database as BetterSqlite3Database } from "better-sqlite3";
import {
  MISSING_RECORD,
  SessionBase,
  STORED_DATA_SALT,
  type LoadedRecord,
  type RecordWrite,
  type SessionContext,
  type SessionData,
  type SessionShape,
} from "../session-base.js";

type KyselyModule = typeof import("kysely");

/** kysely's `sql` tag, loaded at first use (kysely is an optional peer: see optional-peers.ts). */
const kysely = () => importPeer<KyselyModule>("kysely", "The db and cached_db engines");

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

/** What the db engine is given by the application. */
export interface DbEngineOptions<DB extends SessionsDatabase = SessionsDatabase> {
  /** Any kysely database that has the sessions table (the application's own may have more tables). */
  db: Kysely<DB>;
  /**
   * The better-sqlite3 handle behind `db`, when it is SQLite: the engine then prepares its own
   * statements and reads and writes through it directly (much faster than through kysely).
   */
  sqlite?: BetterSqlite3Database;
  /** How an instant is written to `expire_date` (text for SQLite, Date for PostgreSQL). */
  dateValue?: (epochMs: number) => string | Date;
}

export interface DbStore {
  /** Queries that name `sessions` reach the configured table (see session-table.ts). */
  readonly db: Kysely<SessionsDatabase>;
  /** The sessions table's real name (SESSION_DB_TABLE). */
  readonly table: string;
  readonly dateValue: (epochMs: number) => string | Date;
  /** SQLite (no row locks: a write transaction locks the database). */
  readonly sqlite: boolean;
  /** The sessions table through better-sqlite3 directly, when the application gave its handle. */
  readonly direct: SqliteSessions | null;
}

export function dbStore(
  db: Kysely<SessionsDatabase>,
  dateValue: (epochMs: number) => string | Date,
  sqlite?: BetterSqlite3Database,
  table: string = DEFAULT_SESSION_TABLE,
): DbStore {
  const isSqlite = dialectOf(db) === "sqlite";
  return {
    db: withSessionTable(db, table),
    table,
    dateValue,
    sqlite: isSqlite,
    direct: isSqlite && sqlite ? new SqliteSessions(sqlite, table) : null,
  };
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
  if (dialectOf(db) !== "sqlite") return db.transaction().execute(work);
  const { sql } = await kysely();
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
export function tableLocks({ db, direct }: DbStore, now: () => number = Date.now): LockStore {
  return {
    async tryAcquire(name, token, leaseMs) {
      // Keys the table cannot hold (too long for varchar(40)) are unknown keys: this process's queue is enough.
      if (name.length > MAX_SESSION_KEY_LENGTH) return true;
      const at = now();
      // On SQLite, a statement prepared once instead of one built and prepared per request.
      if (direct?.idle) return direct.takeLock(name, token, at + leaseMs, at);
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
      if (direct?.idle) return direct.releaseLock(name, token);
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
  protected async fetchRow(): Promise<Pick<SessionsTable, "session_data" | "expire_date"> | undefined> {
    const { db, dateValue, direct } = this.store;
    if (direct) return direct.readLive(this.sessionKey!, dateValue(this.context.now()) as string);
    return db
      .selectFrom("sessions")
      .select(["session_data", "expire_date"])
      .where("session_key", "=", this.sessionKey!)
      .where("expire_date", ">", dateValue(this.context.now()))
      .executeTakeFirst();
  }

  /** A row whose data does not verify reads as {} but keeps its key (Django). */
  private recordOfRow(row: Pick<SessionsTable, "session_data"> | undefined): LoadedRecord {
    return row ? { data: this.decode(row.session_data), stored: row.session_data } : MISSING_RECORD;
  }

  protected override get loadsSynchronously(): boolean {
    return this.store.direct !== null;
  }

  /** With the better-sqlite3 handle the row is read at first touch, so an untouched session costs nothing. */
  protected override loadRecordSync(): LoadedRecord | undefined {
    const { direct, dateValue } = this.store;
    if (direct === null) return undefined;
    const row = direct.readLive(this.sessionKey!, dateValue(this.context.now()) as string);
    return row ? { data: this.verifiedData(row), stored: row.session_data } : MISSING_RECORD;
  }

  /**
   * The row's data. A cached row keeps the JSON of data it verified before, so a returning
   * visitor's signature is checked once, not on every request; data that does not verify is
   * decoded (to {}, with Django's warning) every time.
   */
  private verifiedData(row: SessionRow): SessionData {
    if (row.verified !== undefined) return JSON.parse(row.verified) as SessionData;
    try {
      const json = this.context.signer.unsignJson(row.session_data);
      const value: unknown = JSON.parse(json);
      if (!isJsonObject(value)) return {};
      row.verified = json;
      return value;
    } catch {
      // decode() reads it as Django does: {}, with the security warning for a bad signature.
      return this.decode(row.session_data);
    }
  }

  protected async loadRecord(): Promise<LoadedRecord> {
    return this.recordOfRow(await this.fetchRow());
  }

  /** Keys are random and the INSERT refuses a taken one (CreateError), so no lookup first. */
  protected override async newSessionKey(): Promise<string> {
    return generateSessionKey();
  }

  async exists(key: string): Promise<boolean> {
    if (this.store.direct) return this.store.direct.exists(key);
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
    const key = await this.keyToSave(mustCreate);
    if (key === null) return;
    this.recordWritten(mustCreate ? await this.insertRecord() : await this.updateRecord(key));
  }

  /** Django's INSERT: CreateError when the key is taken. */
  protected async insertRecord(): Promise<RecordWrite> {
    const write = this.newRecord();
    const { db, dateValue, direct } = this.store;
    if (direct) {
      const expireDate = dateValue(write.expiresAt.getTime()) as string;
      if (!(await direct.write((table) => table.insert(write.key, write.text, expireDate, write.json))))
        throw new CreateError(write.key);
      return write;
    }
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
  protected async updateRecord(key: string): Promise<RecordWrite> {
    const own = this.ownRecord();
    const { db, dateValue, sqlite, direct } = this.store;
    await this.beforeWrite(key);
    const read = this.storedText;
    if (direct) {
      // One transaction per event-loop turn: the conditional UPDATE, or on conflict read, merge, write.
      return direct.write((table) => {
        const ownDate = dateValue(own.expiresAt.getTime()) as string;
        if (read !== undefined && table.updateIf(key, own.text, ownDate, read, own.json)) return own;
        const write = this.updatedRecord(table.read(key), own);
        table.update(key, write.text, dateValue(write.expiresAt.getTime()) as string, write.json);
        return write;
      });
    }
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
    if (this.store.direct) this.store.direct.delete(key);
    else await this.store.db.deleteFrom("sessions").where("session_key", "=", key).execute();
  }
}

/**
 * Django's clear_expired for the table: rows with expire_date < now. With the better-sqlite3
 * handle, sqlite-purge.ts (a table swap when most rows are expired, else short batches with
 * pauses); otherwise deleted `batchSize` at a time, each batch its own short statement, so a
 * large purge never holds the table for long.
 */
export async function clearExpiredRows(
  context: EngineContext,
  { db, dateValue, direct }: DbStore,
  { batchSize, onProgress }: ClearOptions = {},
): Promise<number> {
  const cutoff = dateValue(context.now());
  if (direct)
    return direct.purgeExpired(cutoff as string, {
      ...(batchSize ? { batchSize } : {}),
      ...(onProgress ? { onProgress } : {}),
    });
  batchSize ??= 1000;
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
    /* c8 ignore next -- untested: the closing brace of for (;;), which every run leaves by return, is never reached */
  }
}

/** The smallest a-z0-9 string above every key starting with `prefix`; undefined when there is none (all z). */
function prefixEnd(prefix: string): string | undefined {
  const stem = prefix.replace(/z+$/, "");
  if (stem === "") return undefined;
  const last = stem.at(-1)!;
  return stem.slice(0, -1) + (last === "9" ? "a" : String.fromCharCode(last.charCodeAt(0) + 1));
}

const EXPIRY_CURSOR = "expiry";
/** Rows per query when listing without a limit. */
const UNLIMITED_PAGE = 500;

/**
 * The expire_date of a row exactly as the database compares it, for a cursor: SQLite's text as
 * stored; PostgreSQL's timestamptz to the microsecond (a JavaScript Date keeps milliseconds).
 */
function exactExpiry(db: Kysely<SessionsDatabase>, sql: KyselyModule["sql"]) {
  return dialectOf(db) === "postgres"
    ? sql<string>`to_char(expire_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : sql<string | Date>`expire_date`;
}

const EXPIRY_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A cursor's (expire_date, session_key), checked before it reaches a query. */
function openExpiryCursor(codec: CursorCodec, cursor: string): { expiry: string; key: string } {
  const [expiry, key] = codec.open(cursor, EXPIRY_CURSOR, 2) as [string, string];
  if (!EXPIRY_TEXT.test(expiry) || key.length > MAX_SESSION_KEY_LENGTH) throw new InvalidCursor();
  return { expiry, key };
}

/** One end of a range of expire_date. */
interface Bound {
  value: string | Date;
  inclusive: boolean;
}

/**
 * Orders two expire_date values as the database does: SQLite compares its text as text;
 * PostgreSQL compares instants (a cursor holds microseconds, a Date milliseconds).
 */
function compareExpiry(a: string | Date, b: string | Date): number {
  if (typeof a === "string" && typeof b === "string" && !a.endsWith("Z") && !b.endsWith("Z"))
    return a < b ? -1 : a > b ? 1 : 0;
  const micros = (v: string | Date) => (typeof v === "string" ? parseIsoformat(v) : v.getTime() * 1000);
  return micros(a) - micros(b);
}

/** The narrower of two lower (`side` 1) or upper (`side` -1) bounds; at a tie, the exclusive one. */
function narrower(a: Bound | undefined, b: Bound | undefined, side: 1 | -1): Bound | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const order = compareExpiry(a.value, b.value) * side;
  return order > 0 ? a : order < 0 ? b : a.inclusive ? b : a;
}

/**
 * The unexpired rows that ListOptions/CountOptions select, in listing order (expire_date
 * descending, then session_key descending). Keyset conditions on both columns keep every page a
 * range of the expire_date index (SQLite and PostgreSQL), however deep. Each end of that range
 * is given once, as the narrowest of the bounds in play: SQLite takes one bound per end for the
 * index and would otherwise walk from the wider one. A key prefix becomes a range of the primary
 * key as well, and a LIKE on a-z0-9 only (never a wildcard). `slice` narrows further (counting).
 */
function selected(
  context: EngineContext,
  { db, dateValue }: DbStore,
  codec: CursorCodec,
  { keyPrefix, after, before }: CountOptions,
  slice: { lower?: Bound; upper?: Bound } = {},
) {
  let query = db.selectFrom("sessions");
  let lower = narrower({ value: dateValue(context.now()), inclusive: false }, slice.lower, 1)!;
  let upper = slice.upper;
  if (keyPrefix) {
    query = query.where("session_key", ">=", keyPrefix).where("session_key", "like", `${keyPrefix}%`);
    const end = prefixEnd(keyPrefix);
    if (end !== undefined) query = query.where("session_key", "<", end);
  }
  if (after !== undefined) {
    const { expiry, key } = openExpiryCursor(codec, after);
    upper = narrower(upper, { value: expiry, inclusive: true }, -1);
    query = query.where((eb) => eb.or([eb("expire_date", "<", expiry), eb("session_key", "<", key)]));
  }
  if (before !== undefined) {
    const { expiry, key } = openExpiryCursor(codec, before);
    lower = narrower(lower, { value: expiry, inclusive: true }, 1)!;
    query = query.where((eb) => eb.or([eb("expire_date", ">", expiry), eb("session_key", ">", key)]));
  }
  query = query.where("expire_date", lower.inclusive ? ">=" : ">", lower.value);
  if (upper !== undefined) query = query.where("expire_date", upper.inclusive ? "<=" : "<", upper.value);
  return query;
}

/** The unexpired rows, latest expiry first; with a limit, one query reads and decodes just that many. */
export async function* listRows(
  context: EngineContext,
  store: DbStore,
  codec: CursorCodec,
  options: ListOptions = {},
): AsyncGenerator<StoredSession> {
  if (options.keyPrefix !== undefined && !hasKeyAlphabet(options.keyPrefix)) return;
  const cursorOf = (row: { session_key: string; expire_exact: string | Date }) =>
    codec.seal(EXPIRY_CURSOR, [
      row.expire_exact instanceof Date ? row.expire_exact.toISOString() : row.expire_exact,
      row.session_key,
    ]);
  // The last `limit` before a cursor: read upwards from it, then turned round.
  const fromEnd = options.before !== undefined && options.after === undefined && options.limit !== undefined;
  const direction = fromEnd ? "asc" : "desc";
  let { after } = options;
  let wanted = options.limit ?? Number.POSITIVE_INFINITY;
  const { sql } = await kysely();
  while (wanted > 0) {
    const size = Math.min(wanted, UNLIMITED_PAGE);
    const rows = await selected(context, store, codec, { ...options, after })
      .select(["session_key", "session_data", "expire_date", exactExpiry(store.db, sql).as("expire_exact")])
      .orderBy("expire_date", direction)
      .orderBy("session_key", direction)
      .limit(fromEnd ? wanted : size)
      .execute();
    if (fromEnd) rows.reverse();
    for (const row of rows) {
      const stored = {
        key: row.session_key,
        data: decodeStored(context.signer, row.session_data, options.log, row.session_key),
        expiresAt: new Date(datetimeColumnMs(row.expire_date)),
        size: Buffer.byteLength(row.session_data),
      };
      yield withLazyCursor(stored, () => cursorOf(row));
    }
    wanted -= rows.length;
    // From the end, the one query took everything asked for.
    if (fromEnd || rows.length < size) return;
    after = cursorOf(rows.at(-1)!);
  }
}

/** Index entries one slice of a SQLite count walks (a few milliseconds each). */
const COUNT_SLICE = 25_000;

/** How many rows listRows would yield (no limit), counted in the database. */
export async function countRows(
  context: EngineContext,
  store: DbStore,
  codec: CursorCodec,
  options: CountOptions = {},
): Promise<number> {
  if (options.keyPrefix !== undefined && !hasKeyAlphabet(options.keyPrefix)) return 0;
  const count = async (query: ReturnType<typeof selected>) =>
    Number(
      (await query.select((eb) => eb.fn.countAll<number | string | bigint>().as("n")).executeTakeFirstOrThrow()).n,
    );
  // A key prefix is a short range of the primary key; PostgreSQL counts in its own process.
  if (options.keyPrefix || !store.sqlite) return count(selected(context, store, codec, options));
  // better-sqlite3 runs a query on the event loop: one count over a million index entries
  // would hold every request for tens of milliseconds. So the expire_date index is counted in
  // slices, with a yield between them: an OFFSET over the index alone finds the slice's last
  // entry and the one after it; when their expiries differ, the slice holds exactly
  // COUNT_SLICE rows and nothing else needs counting.
  let total = 0;
  let upper: Bound | undefined;
  for (;;) {
    const [last, next] = await selected(context, store, codec, options, { upper })
      .select("expire_date")
      .orderBy("expire_date", "desc")
      .limit(2)
      .offset(COUNT_SLICE - 1)
      .execute();
    if (last === undefined) return total + (await count(selected(context, store, codec, options, { upper })));
    const value = last.expire_date;
    if (next === undefined) return total + COUNT_SLICE;
    if (compareExpiry(value, next.expire_date) !== 0) {
      total += COUNT_SLICE;
    } else {
      // Rows of one expiry straddle the slice's end: count those above it, then that expiry alone.
      total += await count(selected(context, store, codec, options, { lower: { value, inclusive: false }, upper }));
      total += await count(
        selected(context, store, codec, options, {
          lower: { value, inclusive: true },
          upper: { value, inclusive: true },
        }),
      );
    }
    upper = { value, inclusive: false };
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * The engine touches only the sessions table, whose columns DB must declare as SessionsTable
 * does; so viewing a wider database as SessionsDatabase is sound (kysely's types are invariant).
 */
export function sessionsOnly<DB extends SessionsDatabase>(db: Kysely<DB>): Kysely<SessionsDatabase> {
  return db as unknown as Kysely<SessionsDatabase>;
}

/**
 * What an engine whose records are rows of the sessions table (db, cached_db) does with the
 * table as a whole: purge, list and count it, merge saves, and keep the route locks' leases in
 * it (the database is shared by every process, and stays up when a cache does not).
 */
export function tableEngineOptions(context: EngineContext, store: DbStore) {
  const cursors = new CursorCodec(context.settings.SECRET_KEY);
  return {
    clearExpired: (options?: ClearOptions) => clearExpiredRows(context, store, options),
    listSessions: (options?: ListOptions) => listRows(context, store, cursors, options),
    countSessions: (options?: CountOptions) => countRows(context, store, cursors, options),
    listOrder: "expiry" as const,
    mergesSaves: true,
    lockStore: tableLocks(store),
    async readRecord(key: string): Promise<RawRecord> {
      if (!isStorableKey(key)) return { kind: "unusable-key" };
      const row = await store.db
        .selectFrom("sessions")
        .select(["session_key", "session_data", "expire_date"])
        .where("session_key", "=", key)
        .executeTakeFirst();
      return { kind: "row", table: context.settings.SESSION_DB_TABLE, row: row ?? null, salt: STORED_DATA_SALT };
    },
  };
}

export function dbEngine<DB extends SessionsDatabase>(
  context: EngineContext,
  { db, dateValue = toSqliteDatetime, sqlite }: DbEngineOptions<DB>,
): SessionEngine {
  const store = dbStore(sessionsOnly(db), dateValue, sqlite, context.settings.SESSION_DB_TABLE);
  // The database belongs to the application, which closes it.
  return defineEngine("db", context, (key, ctx) => new DbSession(key, ctx, store), {
    ...tableEngineOptions(context, store),
    loadsSynchronously: store.direct !== null,
  });
}
