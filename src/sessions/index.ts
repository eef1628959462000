/** The session framework: everything an application imports. */
export { default as sessions, DEFAULT_LOCK, sessionExchange } from "./plugin.js";
export type { AppSessionData, Session, SessionExchange, SessionPluginOptions, SessionRouteOptions, SessionTypes } from "./plugin.js";
export {
  SessionBase,
  MISSING_RECORD,
  EXPIRY_KEY,
  STORED_DATA_SALT,
  TEST_COOKIE_NAME,
  TEST_COOKIE_VALUE,
} from "./session-base.js";
export type {
  EngineHooks,
  LoadedRecord,
  RecordWrite,
  SessionContext,
  SessionData,
  SessionLogger,
  SessionShape,
  StoredExpiry,
} from "./session-base.js";
export type { SessionEngine, StoredSession, ListOptions, CountOptions, ListOrder, ClearOptions, EngineContext } from "./engine.js";
export { defineEngine } from "./engine.js";
export { SessionLocks, type LockStore, type LockOptions, type ReleaseLock } from "./locks.js";
export { decodeStored } from "./engine.js";
export { CursorCodec, InvalidCursor, listInKeyOrder, countInKeyOrder, type KeyOrderStore } from "./listing.js";
export {
  builtInEngineName,
  createSessionEngine,
  engineFromClass,
  engineNeeds,
  ENGINE_NAMES,
  type EngineResources,
  type SessionEngineModule,
  type SessionStoreClass,
} from "./engines/index.js";
export { cacheEngine, CacheSession } from "./engines/cache.js";
export { cachedDbEngine, CachedDbSession } from "./engines/cached-db.js";
export { fileEngine, FileSession, assertUsableDirectory } from "./engines/file.js";
export { signedCookiesEngine, SignedCookieSession } from "./engines/signed-cookies.js";
export { CacheUnavailable, type SessionCache, type SwapResult } from "./cache.js";
export { MemoryCache, type MemoryCacheOptions } from "./caches/memory-cache.js";
export { RedisCache, type RedisCacheOptions } from "./caches/redis-cache.js";
export { dbEngine, DbSession, type DbStore, type SessionsDatabase, type SessionsTable } from "./engines/db.js";
export {
  resolveSessionSettings,
  sessionSettingsFromEnv,
  sessionSettingsSchema,
  SESSION_SETTING_NAMES,
  type SessionSettings,
  type SessionSettingsInput,
} from "./settings.js";
export {
  ClearExpiredNotSupported,
  CreateError,
  ImproperlyConfigured,
  KeyError,
  SessionInterrupted,
  SessionCookieTooLarge,
  SessionLockTimeout,
  SessionTooLarge,
  MAX_COOKIE_BYTES,
  SessionNotLoadedError,
  UpdateError,
} from "./errors.js";
export { TimestampSigner, BadSignature, SignatureExpired, saltedHmac, b62Encode, b62Decode } from "./signing.js";
export { dumps, loads, NotSerializableError, type JsonValue, type JsonObject } from "./json.js";
export { generateSessionKey, SESSION_KEY_LENGTH, MIN_SESSION_KEY_LENGTH, SHOWN_KEY_PREFIX_LENGTH } from "./keys.js";
export { toSqliteDatetime, toIsoformat, parseIsoformat, datetimeColumnMs } from "./dates.js";
