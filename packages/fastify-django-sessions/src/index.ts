/**
 * The session framework's entry point: what an application imports to use sessions, configure
 * them and write an engine of its own, and the facts of Django's storage format (salts, cache key
 * prefixes, key lengths, the signing primitives) an app needs to read records beside Django.
 * The rest (the JSON encoder, internal constants) stays in its module.
 */
export { default as sessions, DEFAULT_LOCK, sessionExchange } from "./plugin.js";
export type {
  AppSessionData,
  Session,
  SessionExchange,
  SessionPluginOptions,
  SessionRouteOptions,
  SessionTypes,
} from "./plugin.js";
export { SessionBase, MISSING_RECORD, STORED_DATA_SALT } from "./session-base.js";
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
export type {
  SessionEngine,
  StoredSession,
  ListOptions,
  CountOptions,
  ListOrder,
  ClearOptions,
  EngineContext,
  RawRecord,
  RawCacheEntry,
} from "./engine.js";
export { defineEngine } from "./engine.js";
export type { SessionLocks, LockStore, LockOptions, ReleaseLock } from "./locks.js";
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
export { cacheEngine, CacheSession, CACHE_KEY_PREFIX } from "./engines/cache.js";
export { cachedDbEngine, CachedDbSession, CACHED_DB_KEY_PREFIX } from "./engines/cached-db.js";
export { fileEngine, FileSession } from "./engines/file.js";
export { signedCookiesEngine, SignedCookieSession, SIGNED_COOKIE_SALT } from "./engines/signed-cookies.js";
export { CacheUnavailable, type SessionCache, type SwapResult } from "./cache.js";
export { MemoryCache, type MemoryCacheOptions } from "./caches/memory-cache.js";
export { RedisCache, type RedisCacheOptions } from "./caches/redis-cache.js";
export { dbEngine, DbSession, type DbStore, type SessionsDatabase, type SessionsTable } from "./engines/db.js";
export { withSessionTable, DEFAULT_SESSION_TABLE, DJANGO_SESSION_TABLE } from "./session-table.js";
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
export {
  djangoUserId,
  sessionAuthHash,
  sessionAuthHashSecret,
  sameSessionAuthHash,
  storedUserIdText,
  MODEL_BACKEND,
  SESSION_USER_BACKEND,
  SESSION_USER_HASH,
  SESSION_USER_ID,
  type AuthSecrets,
  type DjangoUserOptions,
} from "./django-auth.js";
export { NotSerializableError, type JsonValue, type JsonObject } from "./json.js";
export {
  generateSessionKey,
  isStorableKey,
  MAX_SESSION_KEY_LENGTH,
  MIN_SESSION_KEY_LENGTH,
  SESSION_KEY_LENGTH,
  SHOWN_KEY_PREFIX_LENGTH,
} from "./keys.js";
export { readCookie } from "./cookies.js";
export { maskUrl } from "./urls.js";
export { toSqliteDatetime, datetimeColumnMs } from "./dates.js";
