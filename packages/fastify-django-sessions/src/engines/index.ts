/**
 * SESSION_ENGINE resolution: the built-in engines by short name or Django's dotted path, or a
 * custom engine module (a path like ./my-engine.ts, or a package) exporting a SessionStore class.
 */
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { SessionCache } from "../cache.js";
import { defineEngine, type EngineContext, type SessionEngine } from "../engine.js";
import { ClearExpiredNotSupported, ImproperlyConfigured } from "../errors.js";
import { STORED_DATA_SALT, type SessionBase, type EngineHooks, type SessionContext } from "../session-base.js";
import { resolveSessionSettings, type SessionSettings, type SessionSettingsInput } from "../settings.js";
import { TimestampSigner } from "../signing.js";
import { cacheEngine } from "./cache.js";
import { cachedDbEngine } from "./cached-db.js";
import type { Kysely } from "kysely";
import { dbEngine, sessionsOnly, type DbEngineOptions, type SessionsDatabase } from "./db.js";
import { fileEngine } from "./file.js";
import { signedCookiesEngine } from "./signed-cookies.js";

/** What engines may need from the application. */
export interface EngineResources<DB extends SessionsDatabase = SessionsDatabase> {
  db?: Kysely<DB>;
  /** The better-sqlite3 handle behind `db` on SQLite: db and cached_db then use it directly (faster). */
  sqlite?: DbEngineOptions["sqlite"];
  /** How the database stores instants (text for SQLite, the default; Date for PostgreSQL). */
  dateValue?: DbEngineOptions["dateValue"];
  /** The application's caches by alias (Django's CACHES); SESSION_CACHE_ALIAS picks one. */
  caches?: Readonly<Record<string, SessionCache>>;
}

/** Django's SessionStore contract for a custom engine module. */
export interface SessionStoreClass {
  new (sessionKey: string | null | undefined, context: SessionContext): SessionBase;
  clearExpired?(context: EngineContext): Promise<number | undefined>;
  /**
   * true when save() merges (SessionBase.updatedRecord on the record read in the same atomic
   * step as the write); without it the engine says the last save wins, and the conformance
   * suite skips the merge tests with that reason.
   */
  mergesSaves?: boolean;
}

/** What a custom engine module exports: a SessionStore class, or a createEngine factory. */
export interface SessionEngineModule {
  SessionStore?: SessionStoreClass;
  createEngine?(context: EngineContext, resources: EngineResources): SessionEngine | Promise<SessionEngine>;
}

function need<T>(value: T | undefined, engine: string, what: string): T {
  if (value === undefined) throw new ImproperlyConfigured(`SESSION_ENGINE '${engine}' needs ${what}.`);
  return value;
}

function cacheFor(settings: SessionSettings, resources: EngineResources, engine: string): SessionCache {
  const caches = need(resources.caches, engine, "a cache");
  const cache = caches[settings.SESSION_CACHE_ALIAS];
  if (!cache) {
    throw new ImproperlyConfigured(
      `SESSION_CACHE_ALIAS ${JSON.stringify(settings.SESSION_CACHE_ALIAS)} is not a configured cache. ` +
        `Configured caches: ${Object.keys(caches).join(", ") || "none"}.`,
    );
  }
  return cache;
}

const BUILT_IN: Record<string, (context: EngineContext, resources: EngineResources) => SessionEngine> = {
  db: (context, { db, dateValue, sqlite }) =>
    dbEngine(context, { db: need(db, "db", "a database"), dateValue, sqlite }),
  cache: (context, resources) => cacheEngine(context, cacheFor(context.settings, resources, "cache")),
  cached_db: (context, resources) =>
    cachedDbEngine(
      context,
      { db: need(resources.db, "cached_db", "a database"), dateValue: resources.dateValue, sqlite: resources.sqlite },
      cacheFor(context.settings, resources, "cached_db"),
    ),
  file: (context) => fileEngine(context, { directory: context.settings.SESSION_FILE_PATH ?? tmpdir() }),
  signed_cookies: (context) => signedCookiesEngine(context),
};

export const ENGINE_NAMES = Object.keys(BUILT_IN);
const DJANGO_PREFIX = "django.contrib.sessions.backends.";

/** The built-in engine a SESSION_ENGINE value names, or null for a custom engine module. */
export function builtInEngineName(setting: string): string | null {
  const name = setting.startsWith(DJANGO_PREFIX) ? setting.slice(DJANGO_PREFIX.length) : setting;
  return name in BUILT_IN ? name : null;
}

function unknownEngine(setting: string, reason: string): ImproperlyConfigured {
  return new ImproperlyConfigured(
    `SESSION_ENGINE ${JSON.stringify(setting)} is not a session engine (${reason}). Valid engines: ` +
      `${ENGINE_NAMES.join(", ")} (or Django's ${DJANGO_PREFIX}<name>), or the path of a module ` +
      "exporting a SessionStore class.",
  );
}

/** Wraps Django-style SessionStore class into an engine. */
export function engineFromClass(name: string, SessionStore: SessionStoreClass, context: EngineContext): SessionEngine {
  return defineEngine(name, context, (key, ctx) => new SessionStore(key, ctx), {
    mergesSaves: SessionStore.mergesSaves === true,
    async clearExpired() {
      if (!SessionStore.clearExpired) throw new ClearExpiredNotSupported();
      return SessionStore.clearExpired(context);
    },
  });
}

async function loadCustomEngine(
  setting: string,
  context: EngineContext,
  resources: EngineResources,
): Promise<SessionEngine> {
  const specifier = /^\.{0,2}\//.test(setting) ? pathToFileURL(path.resolve(setting)).href : setting;
  let module: SessionEngineModule;
  try {
    module = (await import(specifier)) as SessionEngineModule;
  } catch (error) {
    throw unknownEngine(setting, `cannot import it: ${(error as Error).message.split("\n")[0]}`);
  }
  if (module.createEngine) return module.createEngine(context, resources);
  if (module.SessionStore) return engineFromClass(setting, module.SessionStore, context);
  throw unknownEngine(setting, "the module exports neither SessionStore nor createEngine");
}

/** Which resources an engine setting needs, so the app opens only those. */
export function engineNeeds(setting: string): { database: boolean; cache: boolean } {
  const name = builtInEngineName(setting);
  if (name === null) return { database: true, cache: true };
  return { database: name === "db" || name === "cached_db", cache: name === "cache" || name === "cached_db" };
}

/**
 * Builds the engine SESSION_ENGINE names, with Django's defaults applied to `input` and every
 * setting validated (ImproperlyConfigured names each bad one). The engine carries the settings
 * and the clock; the plugin reads both from it.
 */
export async function createSessionEngine<DB extends SessionsDatabase>(
  input: SessionSettingsInput,
  { db, ...rest }: EngineResources<DB>,
  { now = Date.now, hooks }: { now?: () => number; hooks?: EngineHooks } = {},
): Promise<SessionEngine> {
  const settings = resolveSessionSettings(input);
  const signer = new TimestampSigner({
    secret: settings.SECRET_KEY,
    fallbacks: settings.SECRET_KEY_FALLBACKS,
    salt: STORED_DATA_SALT,
    now,
  });
  const context: EngineContext = { settings, signer, now, ...(hooks ? { hooks } : {}) };
  const resources: EngineResources = { ...rest, ...(db ? { db: sessionsOnly(db) } : {}) };
  const name = builtInEngineName(settings.SESSION_ENGINE);
  if (name !== null) return BUILT_IN[name]!(context, resources);
  if (!/^(\.{0,2}\/|@?[a-z0-9])/i.test(settings.SESSION_ENGINE) || /^[a-z_]+$/.test(settings.SESSION_ENGINE)) {
    throw unknownEngine(settings.SESSION_ENGINE, "no such built-in engine");
  }
  return loadCustomEngine(settings.SESSION_ENGINE, context, resources);
}
