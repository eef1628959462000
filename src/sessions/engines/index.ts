/** SESSION_ENGINE resolution: short names and Django's dotted module paths. */
import type { SessionEngine } from "../engine.js";
import { ImproperlyConfigured } from "../errors.js";
import { STORED_DATA_SALT, type SessionContext } from "../session-base.js";
import type { SessionSettings } from "../settings.js";
import { TimestampSigner } from "../signing.js";
import { dbEngine, type DbEngineOptions } from "./db.js";

/** What engines may need from the application: its database, later its cache. */
export interface EngineResources {
  db?: DbEngineOptions["db"];
  dateValue?: DbEngineOptions["dateValue"];
}

type EngineFactory = (context: Omit<SessionContext, "log">, resources: EngineResources) => SessionEngine;

const FACTORIES: Record<string, EngineFactory> = {
  db(context, { db, dateValue }) {
    if (!db) throw new ImproperlyConfigured("SESSION_ENGINE 'db' needs a database.");
    return dbEngine(context, { db, dateValue });
  },
};

const DJANGO_PREFIX = "django.contrib.sessions.backends.";

export const ENGINE_NAMES = Object.keys(FACTORIES);

/** The short engine name for a SESSION_ENGINE value, or an error listing the valid ones. */
export function engineName(setting: string): string {
  const name = setting.startsWith(DJANGO_PREFIX) ? setting.slice(DJANGO_PREFIX.length) : setting;
  if (!(name in FACTORIES)) {
    throw new ImproperlyConfigured(
      `SESSION_ENGINE ${JSON.stringify(setting)} is not a session engine. Valid engines: ` +
        ENGINE_NAMES.map((n) => `${n} (or ${DJANGO_PREFIX}${n})`).join(", ") + ".",
    );
  }
  return name;
}

export function createSessionEngine(
  settings: SessionSettings,
  resources: EngineResources,
  { now = Date.now }: { now?: () => number } = {},
): SessionEngine {
  const signer = new TimestampSigner({
    secret: settings.SECRET_KEY,
    fallbacks: settings.SECRET_KEY_FALLBACKS,
    salt: STORED_DATA_SALT,
    now,
  });
  return FACTORIES[engineName(settings.SESSION_ENGINE)]!({ settings, signer, now }, resources);
}
