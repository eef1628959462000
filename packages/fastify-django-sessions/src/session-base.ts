/**
 * Django's SessionBase: the dict API, the accessed/modified flags and the expiry rules. Engines
 * subclass it and implement only loadRecord, exists, save and deleteRecord (plus clearExpired on
 * the engine). Loading is lazy as in Django; because stores are asynchronous, the record is
 * fetched ahead (prefetch) and applied at the first synchronous access, so a session that a
 * request never touches behaves exactly as if it had never been loaded.
 *
 * Beyond Django, the session records which keys this request changed (set, deleted, or changed
 * in place), so an engine can save those changes on top of the record as it is stored at that
 * moment instead of overwriting it: two requests of one session that change different keys
 * both keep their change (see updatedRecord and docs/concurrency.md).
 */
import { parseIsoformat, toIsoformat } from "./dates.js";
import { CreateError, KeyError, SessionNotLoadedError, SessionTooLarge, UpdateError } from "./errors.js";
import { dumps, isJsonObject, type JsonObject, type JsonValue } from "./json.js";
import { BadSignature, type TimestampSigner } from "./signing.js";
import { generateSessionKey, MIN_SESSION_KEY_LENGTH, SHOWN_KEY_PREFIX_LENGTH } from "./keys.js";
import type { SessionSettings } from "./settings.js";

/** The stored dictionary. */
export type SessionData = JsonObject;

/** Constraint for an application's declared session shape: every value must be JSON. */
export type SessionShape<T> = { [K in keyof T]: JsonValue | undefined };

type Key<T> = Extract<keyof T, string>;
type Value<T, K extends keyof T> = Exclude<T[K], undefined>;

/** What Django stores under `_session_expiry`: seconds, or an ISO-8601 instant. */
export type StoredExpiry = number | string;

/** The minimal logger an engine needs; Fastify's request.log fits. */
export interface SessionLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Points inside an engine's save where a test can pause it, so a race with another request is
 * certain instead of a matter of luck (the conformance suite uses it). Engines that merge call
 * beforeWrite between reading the stored record and writing it, inside their atomic section.
 */
export interface EngineHooks {
  beforeWrite?(sessionKey: string): Promise<void> | void;
}

/** Shared, per-engine collaborators every session object receives. */
export interface SessionContext {
  readonly settings: SessionSettings;
  /** Signs stored data with Django's key salt `django.contrib.sessions.SessionStore`. */
  readonly signer: TimestampSigner;
  /** Current time in milliseconds; a test clock can replace it. */
  readonly now: () => number;
  readonly log: SessionLogger;
  readonly hooks?: EngineHooks;
}

/**
 * The result of reading a record, applied at first access: the data, and the state changes
 * Django's load() makes (key dropped on a miss, a new key, or `modified` set).
 */
export interface LoadedRecord {
  data: SessionData;
  /** undefined leaves the key as it is; null drops it (unknown or expired record). */
  key?: string | null;
  modified?: boolean;
  /** The record as the store holds it (its raw text), so a save can tell whether it changed since. */
  stored?: string;
}

/** One record ready to write: the text the store keeps, the data it holds and its expiry. */
export interface RecordWrite {
  readonly key: string;
  readonly text: string;
  /** The data's JSON (what `text` signs, or is, for the cache engine). */
  readonly json: string;
  readonly data: Map<string, JsonValue>;
  readonly expiresAt: Date;
  /** Seconds from now until it expires (a cache's TTL); 0 or less means already expired. */
  readonly ageSeconds: number;
}

export const MISSING_RECORD: Readonly<LoadedRecord> = Object.freeze({ data: {}, key: null });

export const EXPIRY_KEY = "_session_expiry";
export const TEST_COOKIE_NAME = "testcookie";
export const TEST_COOKIE_VALUE = "worked";

/** Django's salt for data stored server-side (its class name is SessionStore for every engine). */
export const STORED_DATA_SALT = "django.contrib.sessions.SessionStore";

function validKey(key: string | null | undefined): string | null {
  return key && key.length >= MIN_SESSION_KEY_LENGTH ? key : null;
}

/** The `_session_expiry` a data map holds, as expiry arithmetic reads it. */
function expiryIn(data: ReadonlyMap<string, JsonValue>): StoredExpiry | null | undefined {
  const value = data.get(EXPIRY_KEY);
  return typeof value === "number" || typeof value === "string" || value === null ? value : undefined;
}

/** JSON of a value for change detection (undefined for a missing one). */
const fingerprint = (value: JsonValue | undefined): string | undefined =>
  value === undefined ? undefined : JSON.stringify(value);

/** What one request did to the store that waits for its response to succeed (see deferStoreChanges). */
interface DeferredChanges {
  /** Records to delete once the response is sent (flush, cycleKey). */
  deletions: string[];
  /** Records created for this request (cycleKey), removed again if the response fails. */
  created: string[];
  /** flush() ran: a failed response must not tell the browser to drop its cookie. */
  flushed: boolean;
}

export abstract class SessionBase<T extends SessionShape<T> = SessionData> {
  /** Set by every read or write through the API; drives `Vary: Cookie`. */
  accessed = false;
  #modified = false;
  #key: string | null;
  #cache: Map<string, JsonValue> | undefined;
  #fetched: LoadedRecord | undefined;
  /** Keys this request set or deleted through the API. */
  #touched: Set<string> | undefined;
  /** clear() ran: the data replaces the stored record instead of being merged into it. */
  #replaced = false;
  /**
   * Objects and arrays handed out to the caller, with their JSON when first handed out (or at
   * the last write) and the baseline `modified = false` last set, to see changes made in place.
   */
  #handedOut: Map<string, { written: string; baseline: string }> | undefined;
  /** The record's raw text as this session last read or wrote it. */
  #stored: string | undefined;
  /** Set by deferStoreChanges(): the deferred changes, or null until there is one. */
  #deferred: DeferredChanges | null | undefined;
  #readFromStore = false;
  /** Retry bound for create(); the cache engine lowers it as Django does. */
  protected maxCreateAttempts = Number.POSITIVE_INFINITY;
  /** False when the session lives in the cookie: deleting it then touches no store. */
  protected readonly keepsRecords: boolean = true;

  constructor(
    sessionKey: string | null | undefined,
    protected readonly context: SessionContext,
  ) {
    this.#key = validKey(sessionKey);
  }

  // ---- the engine contract -------------------------------------------------------------

  /** Reads the record for `sessionKey` (never null here). Must not create a record. */
  protected abstract loadRecord(): Promise<LoadedRecord>;
  /**
   * The same, synchronously, for stores that can answer at once (SQLite through better-sqlite3,
   * the in-process cache, the cookie itself); undefined where it would need I/O that must be
   * awaited. Engines that can give it are read at the first touch, as Django reads: a request
   * that never touches the session costs nothing.
   */
  protected loadRecordSync(): LoadedRecord | undefined {
    return undefined;
  }
  /** Whether the store has a record for `key` (expired or not). */
  abstract exists(key: string): Promise<boolean>;
  /**
   * Persists the data. With mustCreate the write must create a new record (CreateError if the
   * key is taken); without it, it must update an existing one (UpdateError if none).
   */
  abstract save(mustCreate?: boolean): Promise<void>;
  /** Removes the record for `key` (default: the current key). Missing records are ignored. */
  abstract deleteRecord(key?: string | null): Promise<void>;

  // ---- key and loading -----------------------------------------------------------------

  /** The session key (read-only; null when there is none). */
  get sessionKey(): string | null {
    return this.#key;
  }

  /** The settings the session was opened with (its engine's): the cookie's, the secrets. */
  get settings(): Readonly<SessionSettings> {
    return this.context.settings;
  }

  protected set sessionKeyValue(key: string | null | undefined) {
    this.#key = validKey(key);
  }

  /** Fetches the record ahead of first access; it is applied only when the data is touched. */
  async prefetch(): Promise<void> {
    if (this.#cache !== undefined || this.#fetched !== undefined || this.#key === null) return;
    this.#fetched = this.loadRecordSync() ?? (await this.loadRecord());
  }

  /** Makes the data available to the synchronous API (awaited automatically by the plugin). */
  async load(): Promise<void> {
    await this.prefetch();
  }

  /** Whether this session's record was read from the store (its data applied) so far. */
  get readFromStore(): boolean {
    return this.#readFromStore;
  }

  /** Whether the data can be read now (fetched, or readable synchronously at the first touch). */
  get isLoaded(): boolean {
    return this.#cache !== undefined || this.#fetched !== undefined || this.#key === null || this.loadsSynchronously;
  }

  /** True when loadRecordSync answers (the engine reads at the first touch, no prefetch needed). */
  protected get loadsSynchronously(): boolean {
    return false;
  }

  /** Django's `_get_session`: the data, marking the session accessed. */
  protected data(noLoad = false): Map<string, JsonValue> {
    this.accessed = true;
    if (this.#cache !== undefined) return this.#cache;
    const fetched = this.#fetched;
    this.#fetched = undefined;
    if (this.#key === null || noLoad) return (this.#cache = new Map<string, JsonValue>());
    if (fetched === undefined) return this.#apply(this.loadRecordSync());
    return this.#apply(fetched);
  }

  #apply(fetched: LoadedRecord | undefined): Map<string, JsonValue> {
    if (fetched === undefined) throw new SessionNotLoadedError();
    this.#readFromStore = true;
    if (fetched.key !== undefined) this.sessionKeyValue = fetched.key;
    if (fetched.modified) this.#modified = true;
    this.#stored = fetched.stored;
    return (this.#cache = new Map(Object.entries(fetched.data)));
  }

  /** The data, in insertion order, ready to encode (Django's `_get_session(no_load=must_create)`). */
  protected dataForSave(mustCreate: boolean): Map<string, JsonValue> {
    return this.data(mustCreate);
  }

  // ---- flags -----------------------------------------------------------------------------

  /**
   * True after any write. With SESSION_DETECT_MUTATIONS (the default) it is also true when an
   * object or array handed out by get()/values()/items()/setdefault() was changed in place.
   */
  get modified(): boolean {
    if (!this.#modified && this.#cache !== undefined && this.context.settings.SESSION_DETECT_MUTATIONS) {
      for (const [key, seen] of this.#handedOut ?? []) {
        if (fingerprint(this.#cache.get(key)) !== seen.baseline) {
          this.#modified = true;
          break;
        }
      }
    }
    return this.#modified;
  }

  /** Setting false makes the current data the baseline for in-place change detection. */
  set modified(value: boolean) {
    this.#modified = value;
    if (!value && this.#cache !== undefined) {
      for (const [key, seen] of this.#handedOut ?? []) seen.baseline = fingerprint(this.#cache.get(key)) ?? "";
    }
  }

  /** Records an object or array as it escapes, so a change made to it in place can be seen. */
  #handOut<V>(key: string, value: V): V {
    if (typeof value === "object" && value !== null && !this.#handedOut?.has(key)) {
      const json = JSON.stringify(value);
      (this.#handedOut ??= new Map()).set(key, { written: json, baseline: json });
    }
    return value;
  }

  #handOutAll(): void {
    for (const [key, value] of this.#cache ?? []) this.#handOut(key, value);
  }

  /** A write through the API. */
  #touch(key: string): void {
    (this.#touched ??= new Set()).add(key);
    this.#modified = true;
  }

  /** The keys this request changed: set or deleted through the API, or changed in place. */
  changedKeys(): string[] {
    const keys = new Set(this.#touched);
    const data = this.#cache;
    if (data !== undefined) {
      for (const [key, seen] of this.#handedOut ?? []) {
        if (fingerprint(data.get(key)) !== seen.written) keys.add(key);
      }
    }
    return [...keys];
  }

  // ---- the dict API ----------------------------------------------------------------------

  get<K extends Key<T>>(key: K): Value<T, K> | undefined;
  get<K extends Key<T>>(key: K, defaultValue: Value<T, K>): Value<T, K>;
  get<K extends Key<T>>(key: K, defaultValue?: Value<T, K>): Value<T, K> | undefined {
    const data = this.data();
    return data.has(key) ? this.#handOut(key, data.get(key) as Value<T, K>) : defaultValue;
  }

  set<K extends Key<T>>(key: K, value: Value<T, K>): void {
    this.data().set(key, value);
    this.#touch(key);
  }

  /** Django's `del session[key]`: KeyError when missing (and then nothing changes). */
  delete(key: Key<T>): void {
    if (!this.data().delete(key)) throw new KeyError(key);
    this.#touch(key);
  }

  has(key: string): boolean {
    return this.data().has(key);
  }

  pop<K extends Key<T>>(key: K): Value<T, K>;
  pop<K extends Key<T>, D>(key: K, defaultValue: D): Value<T, K> | D;
  pop<K extends Key<T>, D>(key: K, ...rest: [D?]): Value<T, K> | D {
    const data = this.data();
    if (data.has(key)) {
      const value = data.get(key) as Value<T, K>;
      data.delete(key);
      this.#touch(key);
      return value;
    }
    if (rest.length === 0) throw new KeyError(key);
    return rest[0] as D;
  }

  setdefault<K extends Key<T>>(key: K, value: Value<T, K>): Value<T, K> {
    const data = this.data();
    if (data.has(key)) return this.#handOut(key, data.get(key) as Value<T, K>);
    data.set(key, value);
    this.#touch(key);
    return this.#handOut(key, value);
  }

  /** Merges `values` in; marks the session modified even when `values` is empty (as Django). */
  update(values: Partial<{ [K in Key<T>]: Value<T, K> }>): void {
    const data = this.data();
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      data.set(key, value as JsonValue);
      (this.#touched ??= new Set()).add(key);
    }
    this.#modified = true;
  }

  keys(): Key<T>[] {
    return [...this.data().keys()] as Key<T>[];
  }

  values(): JsonValue[] {
    const values = [...this.data().values()];
    this.#handOutAll();
    return values;
  }

  items(): [Key<T>, JsonValue][] {
    const items = [...this.data().entries()] as [Key<T>, JsonValue][];
    this.#handOutAll();
    return items;
  }

  /** Empties the data without loading it from the store; a save then replaces the record. */
  clear(): void {
    this.#cache = new Map();
    this.#fetched = undefined;
    this.#handedOut = undefined;
    this.#touched = undefined;
    this.#replaced = true;
    this.accessed = true;
    this.#modified = true;
  }

  /** True when there is no key and no data (a keyed session with empty data is not empty). */
  isEmpty(): boolean {
    return this.#key === null && (this.#cache === undefined || this.#cache.size === 0);
  }

  // ---- lifecycle -------------------------------------------------------------------------

  /**
   * How every engine that stores records starts save(), as Django's do: a session without a key
   * is created (create() comes back here with mustCreate); an update loads the record first,
   * since applying it drops a key the store does not know or has expired. Resolves to the key to
   * write under, or null when create() did the whole save. An update whose key was dropped fails
   * with UpdateError, as Django's forced update does.
   */
  protected async keyToSave(mustCreate: boolean): Promise<string | null> {
    if (this.#key === null) {
      await this.create();
      return null;
    }
    if (!mustCreate) await this.load();
    const key = this.#key;
    if (key === null) throw new UpdateError("The session has no record to update.");
    return key;
  }

  /** A fresh key that the store does not have yet. */
  protected async newSessionKey(): Promise<string> {
    for (;;) {
      const key = generateSessionKey();
      if (!(await this.exists(key))) return key;
    }
  }

  /** New key, record saved at once with the current data, retrying on collision. */
  async create(): Promise<void> {
    for (let attempt = 0; attempt < this.maxCreateAttempts; attempt++) {
      this.sessionKeyValue = await this.newSessionKey();
      try {
        await this.save(true);
      } catch (error) {
        if (error instanceof CreateError) continue;
        throw error;
      }
      this.#modified = true;
      if (this.keepsRecords) this.#deferredChanges()?.created.push(this.#key!);
      return;
    }
    throw new Error("Unable to create a new session key. It is likely that the cache is unavailable.");
  }

  /** Empties the data, deletes the record and drops the key (logout). */
  async flush(): Promise<void> {
    const key = this.#key;
    this.clear();
    const deferred = this.#deferredChanges();
    if (deferred !== undefined) deferred.flushed = true;
    if (deferred !== undefined && this.keepsRecords) {
      if (key !== null) deferred.deletions.push(key);
    } else {
      await this.deleteRecord(key);
    }
    this.sessionKeyValue = null;
  }

  /** New key with the same data; the old record is deleted (session-fixation defence). */
  async cycleKey(): Promise<void> {
    const data = this.data();
    const oldKey = this.#key;
    await this.create();
    this.#cache = data;
    if (oldKey === null) return;
    const deferred = this.#deferredChanges();
    if (deferred !== undefined && this.keepsRecords) deferred.deletions.push(oldKey);
    else await this.deleteRecord(oldKey);
  }

  // ---- one request's changes to the store --------------------------------------------------

  /**
   * Beyond Django: from now on, records that flush() and cycleKey() would delete stay until
   * commitStoreChanges(), and records cycleKey() creates are removed by discardStoreChanges(),
   * so a response that fails never destroys the session it arrived with. The plugin calls this
   * for every request; code outside a request deletes at once, as Django does.
   */
  deferStoreChanges(): void {
    this.#deferred ??= null;
  }

  /** The changes waiting for the response, made on first need; undefined outside a request. */
  #deferredChanges(): DeferredChanges | undefined {
    if (this.#deferred === undefined) return undefined;
    return (this.#deferred ??= { deletions: [], created: [], flushed: false });
  }

  /** Whether commitStoreChanges() or discardStoreChanges() has anything to do. */
  get hasStoreChanges(): boolean {
    return !!this.#deferred && (this.#deferred.deletions.length > 0 || this.#deferred.created.length > 0);
  }

  /** Whether flush() ran while store changes were deferred. */
  get flushedInRequest(): boolean {
    return this.#deferred?.flushed ?? false;
  }

  /** The response succeeded: delete what flush() and cycleKey() retired. */
  async commitStoreChanges(): Promise<void> {
    const deferred = this.#deferred;
    this.#deferred = undefined;
    for (const key of deferred?.deletions ?? []) await this.deleteRecord(key);
  }

  /** The response failed: keep the records the request arrived with, remove the ones it made. */
  async discardStoreChanges(): Promise<void> {
    const deferred = this.#deferred;
    this.#deferred = undefined;
    for (const key of deferred?.created ?? []) await this.deleteRecord(key);
  }

  // ---- what engines write --------------------------------------------------------------------

  /**
   * The stored text of data serialised as `json` (Django's signed format; the cache engine
   * stores the JSON itself).
   */
  protected encodeJson(json: string): string {
    return this.context.signer.signJson(json);
  }

  /** The data in a record's stored text (a record that does not verify reads as {}). */
  protected decodeRecord(text: string): SessionData {
    return this.decode(text);
  }

  /** A record of `data` for the current key, refused with SessionTooLarge over SESSION_MAX_BYTES. */
  protected recordOf(data: Map<string, JsonValue>): RecordWrite {
    const key = this.#key;
    if (key === null) throw new UpdateError("The session has no key to save under.");
    const json = dumps(data);
    const text = this.encodeJson(json);
    const limit = this.context.settings.SESSION_MAX_BYTES;
    // The stored text is ASCII, so its length is its size in bytes.
    if (limit > 0 && text.length > limit) throw new SessionTooLarge(text.length, limit);
    const expiry = expiryIn(data);
    return {
      key,
      text,
      json,
      data,
      expiresAt: this.getExpiryDate({ expiry }),
      ageSeconds: this.getExpiryAge({ expiry }),
    };
  }

  /** What save(mustCreate=true) writes: the whole data under the current key. */
  protected newRecord(): RecordWrite {
    return this.recordOf(this.dataForSave(true));
  }

  /**
   * What save() writes when nothing else changed the record since this session read it: the
   * session's own data. An engine can work it out before its atomic section (encoding and
   * signing need no lock) and pass it to updatedRecord; an unstorable value then fails before
   * the store is touched.
   */
  protected ownRecord(): RecordWrite {
    return this.recordOf(this.dataForSave(false));
  }

  /**
   * What save() writes when the store holds `current` (the record's raw text, read inside the
   * engine's atomic section; undefined when there is no record: UpdateError, as Django). When
   * nothing else wrote the record since this session read it, that is this session's data
   * (`own`, if already worked out); otherwise this request's changes (keys set, deleted or
   * changed in place) are applied on top of the stored data, so another request's change to a
   * different key is kept. After clear() the data replaces the record.
   */
  protected updatedRecord(current: string | undefined, own?: RecordWrite): RecordWrite {
    if (current === undefined) throw new UpdateError(this.#key ?? "The session has no record to update.");
    if (this.#replaced || current === this.#stored) return own ?? this.ownRecord();
    const data = this.dataForSave(false);
    const merged = new Map(Object.entries(this.decodeRecord(current)));
    for (const key of this.changedKeys()) {
      if (data.has(key)) merged.set(key, data.get(key)!);
      else merged.delete(key);
    }
    return this.recordOf(merged);
  }

  /**
   * Called by the engine once `write` is stored: the session now holds what the store holds
   * (merged data included), and has no unsaved changes left to merge.
   */
  protected recordWritten(write: RecordWrite): void {
    this.#cache = write.data;
    this.#stored = write.text;
    this.#touched = undefined;
    this.#replaced = false;
    for (const [key, seen] of this.#handedOut ?? []) seen.written = fingerprint(write.data.get(key)) ?? "";
  }

  /** The record's raw text as this session last read or wrote it (undefined when it has none). */
  protected get storedText(): string | undefined {
    return this.#stored;
  }

  /** Lets a test pause a save between its read and its write (EngineHooks.beforeWrite). */
  protected async beforeWrite(key: string): Promise<void> {
    await this.context.hooks?.beforeWrite?.(key);
  }

  // ---- expiry ----------------------------------------------------------------------------

  /** Seconds until expiry counted from `modification` (default now), floored like Django. */
  getExpiryAge(options: { modification?: Date | number; expiry?: StoredExpiry | null } = {}): number {
    const expiry = "expiry" in options ? options.expiry : this.storedExpiry();
    if (!expiry) return this.getSessionCookieAge();
    if (typeof expiry === "number") return expiry;
    const modificationMs = Number(options.modification ?? this.context.now());
    return Math.floor((parseIsoformat(expiry) - modificationMs * 1000) / 1_000_000);
  }

  /** The instant the session expires, counted from `modification` (default now). */
  getExpiryDate(options: { modification?: Date | number; expiry?: StoredExpiry | null } = {}): Date {
    const expiry = "expiry" in options ? options.expiry : this.storedExpiry();
    if (typeof expiry === "string") return new Date(Math.floor(parseIsoformat(expiry) / 1000));
    const modificationMs = Number(options.modification ?? this.context.now());
    return new Date(modificationMs + (expiry || this.getSessionCookieAge()) * 1000);
  }

  /**
   * Per-session expiry: seconds of inactivity (a number, may be negative), a fixed instant
   * (a Date), 0 for a cookie that ends with the browser, null for the global policy.
   */
  setExpiry(value: number | Date | null): void {
    const data = this.data();
    if (value === null) {
      if (data.delete(EXPIRY_KEY)) this.#touch(EXPIRY_KEY);
      return;
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError("setExpiry() needs a finite number of seconds");
    }
    data.set(EXPIRY_KEY, value instanceof Date ? toIsoformat(value.getTime()) : value);
    this.#touch(EXPIRY_KEY);
  }

  /** Whether the cookie ends with the browser: the global setting unless setExpiry() chose. */
  getExpireAtBrowserClose(): boolean {
    const expiry = this.storedExpiry();
    if (expiry === undefined || expiry === null) {
      return this.context.settings.SESSION_EXPIRE_AT_BROWSER_CLOSE;
    }
    return expiry === 0;
  }

  /**
   * When the store will drop this session's record unless it is saved again, where the engine
   * can tell (the sessions table's expire_date, a cache entry's TTL, a file's mtime); null when
   * it cannot or there is no record. For listing sessions: a request never needs it.
   */
  async recordExpiryDate(): Promise<Date | null> {
    return null;
  }

  /** Django's get_session_cookie_age() hook. */
  getSessionCookieAge(): number {
    return this.context.settings.SESSION_COOKIE_AGE;
  }

  protected storedExpiry(): StoredExpiry | null | undefined {
    return expiryIn(this.data());
  }

  // ---- test cookie -----------------------------------------------------------------------

  setTestCookie(): void {
    this.data().set(TEST_COOKIE_NAME, TEST_COOKIE_VALUE);
    this.#touch(TEST_COOKIE_NAME);
  }

  testCookieWorked(): boolean {
    return this.data().get(TEST_COOKIE_NAME) === TEST_COOKIE_VALUE;
  }

  deleteTestCookie(): void {
    if (!this.data().delete(TEST_COOKIE_NAME)) throw new KeyError(TEST_COOKIE_NAME);
    this.#touch(TEST_COOKIE_NAME);
  }

  // ---- encoding --------------------------------------------------------------------------

  /** Django's SessionBase.encode: signed, compressed-when-smaller JSON. */
  encode(data: SessionData | ReadonlyMap<string, JsonValue>): string {
    return this.context.signer.signObject(data);
  }

  /**
   * Django's SessionBase.decode: a bad signature reads as {} with a security warning; any other
   * unreadable payload reads as {} silently. Never throws.
   */
  decode(sessionData: string): SessionData {
    try {
      const value = this.context.signer.unsignObject(sessionData);
      return isJsonObject(value) ? value : {};
    } catch (error) {
      if (error instanceof BadSignature) {
        this.context.log.warn(
          { logger: "django.security.SuspiciousSession", sessionKey: this.#key?.slice(0, SHOWN_KEY_PREFIX_LENGTH) },
          "Session data corrupted",
        );
      }
      return {};
    }
  }
}
