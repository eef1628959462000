/**
 * Django's SessionBase: the dict API, the accessed/modified flags and the expiry rules. Engines
 * subclass it and implement only loadRecord, exists, save and deleteRecord (plus clearExpired on
 * the engine). Loading is lazy as in Django; because stores are asynchronous, the record is
 * fetched ahead (prefetch) and applied at the first synchronous access, so a session that a
 * request never touches behaves exactly as if it had never been loaded.
 */
import { parseIsoformat, toIsoformat } from "./dates.js";
import { CreateError, KeyError, SessionNotLoadedError } from "./errors.js";
import type { JsonObject, JsonValue } from "./json.js";
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

/** Shared, per-engine collaborators every session object receives. */
export interface SessionContext {
  readonly settings: SessionSettings;
  /** Signs stored data with Django's key salt `django.contrib.sessions.SessionStore`. */
  readonly signer: TimestampSigner;
  /** Current time in milliseconds; a test clock can replace it. */
  readonly now: () => number;
  readonly log: SessionLogger;
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

function isPlainObject(value: unknown): value is SessionData {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export abstract class SessionBase<T extends SessionShape<T> = SessionData> {
  /** Set by every read or write through the API; drives `Vary: Cookie`. */
  accessed = false;
  #modified = false;
  #key: string | null;
  #cache: Map<string, JsonValue> | undefined;
  #fetched: LoadedRecord | undefined;
  /** JSON of the data taken when an object or array first escaped to the caller. */
  #snapshot: string | undefined;
  /** Retry bound for create(); the cache engine lowers it as Django does. */
  protected maxCreateAttempts = Number.POSITIVE_INFINITY;

  constructor(
    sessionKey: string | null | undefined,
    protected readonly context: SessionContext,
  ) {
    this.#key = validKey(sessionKey);
  }

  // ---- the engine contract -------------------------------------------------------------

  /** Reads the record for `sessionKey` (never null here). Must not create a record. */
  protected abstract loadRecord(): Promise<LoadedRecord>;
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

  protected set sessionKeyValue(key: string | null | undefined) {
    this.#key = validKey(key);
  }

  /** Fetches the record ahead of first access; it is applied only when the data is touched. */
  async prefetch(): Promise<void> {
    if (this.#cache !== undefined || this.#fetched !== undefined || this.#key === null) return;
    this.#fetched = await this.loadRecord();
  }

  /** Makes the data available to the synchronous API (awaited automatically by the plugin). */
  async load(): Promise<void> {
    await this.prefetch();
  }

  /** Whether the data can be read without I/O. */
  get isLoaded(): boolean {
    return this.#cache !== undefined || this.#fetched !== undefined || this.#key === null;
  }

  /** Django's `_get_session`: the data, marking the session accessed. */
  protected data(noLoad = false): Map<string, JsonValue> {
    this.accessed = true;
    if (this.#cache !== undefined) return this.#cache;
    const fetched = this.#fetched;
    this.#fetched = undefined;
    if (this.#key === null || noLoad) return (this.#cache = new Map());
    if (fetched === undefined) throw new SessionNotLoadedError();
    if (fetched.key !== undefined) this.sessionKeyValue = fetched.key;
    if (fetched.modified) this.#modified = true;
    return (this.#cache = new Map(Object.entries(fetched.data)));
  }

  /** The data, in insertion order, ready to encode (Django's `_get_session(no_load=must_create)`). */
  protected dataForSave(mustCreate: boolean): ReadonlyMap<string, JsonValue> {
    return this.data(mustCreate);
  }

  // ---- flags -----------------------------------------------------------------------------

  /**
   * True after any write. With SESSION_DETECT_MUTATIONS (the default) it is also true when an
   * object or array handed out by get()/values()/items()/setdefault() was changed in place.
   */
  get modified(): boolean {
    if (!this.#modified && this.#snapshot !== undefined && this.#cache !== undefined) {
      this.#modified = this.#snapshot !== JSON.stringify([...this.#cache]);
    }
    return this.#modified;
  }

  /** Setting false makes the current data the baseline for in-place change detection. */
  set modified(value: boolean) {
    this.#modified = value;
    if (!value && this.#cache !== undefined && this.context.settings.SESSION_DETECT_MUTATIONS) {
      this.#snapshot = JSON.stringify([...this.#cache]);
    }
  }

  /** Records the data before a mutable value escapes, so an in-place change can be seen. */
  #handOut<V>(value: V): V {
    if (
      typeof value === "object" &&
      value !== null &&
      this.#snapshot === undefined &&
      !this.#modified &&
      this.#cache !== undefined &&
      this.context.settings.SESSION_DETECT_MUTATIONS
    ) {
      this.#snapshot = JSON.stringify([...this.#cache]);
    }
    return value;
  }

  // ---- the dict API ----------------------------------------------------------------------

  get<K extends Key<T>>(key: K): Value<T, K> | undefined;
  get<K extends Key<T>>(key: K, defaultValue: Value<T, K>): Value<T, K>;
  get<K extends Key<T>>(key: K, defaultValue?: Value<T, K>): Value<T, K> | undefined {
    const data = this.data();
    const value = data.has(key) ? (data.get(key) as Value<T, K>) : defaultValue;
    return this.#handOut(value);
  }

  set<K extends Key<T>>(key: K, value: Value<T, K>): void {
    this.data().set(key, value as JsonValue);
    this.#modified = true;
  }

  /** Django's `del session[key]`: KeyError when missing (and then nothing changes). */
  delete(key: Key<T>): void {
    if (!this.data().delete(key)) throw new KeyError(key);
    this.#modified = true;
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
      this.#modified = true;
      return value;
    }
    if (rest.length === 0) throw new KeyError(key);
    return rest[0] as D;
  }

  setdefault<K extends Key<T>>(key: K, value: Value<T, K>): Value<T, K> {
    const data = this.data();
    if (data.has(key)) return this.#handOut(data.get(key) as Value<T, K>);
    data.set(key, value as JsonValue);
    this.#modified = true;
    return value;
  }

  /** Merges `values` in; marks the session modified even when `values` is empty (as Django). */
  update(values: Partial<{ [K in Key<T>]: Value<T, K> }>): void {
    const data = this.data();
    for (const [key, value] of Object.entries(values)) {
      if (value !== undefined) data.set(key, value as JsonValue);
    }
    this.#modified = true;
  }

  keys(): Key<T>[] {
    return [...this.data().keys()] as Key<T>[];
  }

  values(): JsonValue[] {
    return this.#handOut([...this.data().values()]);
  }

  items(): [Key<T>, JsonValue][] {
    return this.#handOut([...this.data().entries()] as [Key<T>, JsonValue][]);
  }

  /** Empties the data without loading it from the store. */
  clear(): void {
    this.#cache = new Map();
    this.#fetched = undefined;
    this.#snapshot = undefined;
    this.accessed = true;
    this.#modified = true;
  }

  /** True when there is no key and no data (a keyed session with empty data is not empty). */
  isEmpty(): boolean {
    return this.#key === null && (this.#cache === undefined || this.#cache.size === 0);
  }

  // ---- lifecycle -------------------------------------------------------------------------

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
      return;
    }
    throw new Error("Unable to create a new session key. It is likely that the cache is unavailable.");
  }

  /** Empties the data, deletes the record and drops the key (logout). */
  async flush(): Promise<void> {
    this.clear();
    await this.deleteRecord();
    this.sessionKeyValue = null;
  }

  /** New key with the same data; the old record is deleted (session-fixation defence). */
  async cycleKey(): Promise<void> {
    const data = this.data();
    const oldKey = this.#key;
    await this.create();
    this.#cache = data;
    if (oldKey) await this.deleteRecord(oldKey);
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
      if (data.delete(EXPIRY_KEY)) this.#modified = true;
      return;
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new RangeError("setExpiry() needs a finite number of seconds");
    }
    data.set(EXPIRY_KEY, value instanceof Date ? toIsoformat(value.getTime()) : value);
    this.#modified = true;
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
    const value = this.data().get(EXPIRY_KEY);
    return typeof value === "number" || typeof value === "string" || value === null ? value : undefined;
  }

  // ---- test cookie -----------------------------------------------------------------------

  setTestCookie(): void {
    this.data().set(TEST_COOKIE_NAME, TEST_COOKIE_VALUE);
    this.#modified = true;
  }

  testCookieWorked(): boolean {
    return this.data().get(TEST_COOKIE_NAME) === TEST_COOKIE_VALUE;
  }

  deleteTestCookie(): void {
    if (!this.data().delete(TEST_COOKIE_NAME)) throw new KeyError(TEST_COOKIE_NAME);
    this.#modified = true;
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
      return isPlainObject(value) ? value : {};
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
