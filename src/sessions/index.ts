/**
 * The session framework's entry point: what an application imports to use sessions, configure
 * them and write an engine of its own. Everything else (signing primitives, the JSON encoder,
 * key generation, internal constants) stays in its module; the tests import it from there.
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
export { SessionBase, MISSING_RECORD } from "./session-base.js";
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
export { cacheEngine, CacheSession } from "./engines/cache.js";
export { cachedDbEngine, CachedDbSession } from "./engines/cached-db.js";
export { fileEngine, FileSession } from "./engines/file.js";
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
export { TimestampSigner, BadSignature, SignatureExpired } from "./signing.js";
export { NotSerializableError, type JsonValue, type JsonObject } from "./json.js";
export { SHOWN_KEY_PREFIX_LENGTH } from "./keys.js";
export { toSqliteDatetime, datetimeColumnMs } from "./dates.js";
