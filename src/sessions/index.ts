/** The session framework: everything an application imports. */
export { default as sessions } from "./plugin.js";
export type { AppSessionData, Session, SessionPluginOptions, SessionTypes } from "./plugin.js";
export {
  SessionBase,
  MISSING_RECORD,
  EXPIRY_KEY,
  STORED_DATA_SALT,
  TEST_COOKIE_NAME,
  TEST_COOKIE_VALUE,
} from "./session-base.js";
export type {
  LoadedRecord,
  SessionContext,
  SessionData,
  SessionLogger,
  SessionShape,
  StoredExpiry,
} from "./session-base.js";
export type { SessionEngine } from "./engine.js";
export { createSessionEngine, engineName, ENGINE_NAMES, type EngineResources } from "./engines/index.js";
export { dbEngine, DbSession, type SessionsDatabase, type SessionsTable } from "./engines/db.js";
export {
  resolveSessionSettings,
  sessionSettingsFromEnv,
  sessionSettingsSchema,
  SESSION_SETTING_NAMES,
  type SessionSettings,
  type SessionSettingsInput,
} from "./settings.js";
export {
  CreateError,
  ImproperlyConfigured,
  KeyError,
  SessionInterrupted,
  SessionNotLoadedError,
  UpdateError,
} from "./errors.js";
export { TimestampSigner, BadSignature, SignatureExpired, saltedHmac, b62Encode, b62Decode } from "./signing.js";
export { dumps, loads, NotSerializableError, type JsonValue, type JsonObject } from "./json.js";
export { generateSessionKey, SESSION_KEY_LENGTH, MIN_SESSION_KEY_LENGTH } from "./keys.js";
export { toSqliteDatetime, toIsoformat, parseIsoformat } from "./dates.js";
