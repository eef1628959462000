/** The effective session settings and what the engine runs on; secrets are masked. */
import type { FastifyPluginAsync } from "fastify";
import type { Runtime } from "../runtime.js";
import {
  DJANGO_SESSION_TABLE,
  SESSION_SETTING_NAMES,
  type SessionEngine,
  type SessionSettings,
} from "fastify-django-sessions";
import { renderPage } from "./render.js";

const SECRETS = new Set<keyof SessionSettings>(["SECRET_KEY", "SECRET_KEY_FALLBACKS"]);

/** What this engine promises when one session sends several requests at once. */
export function concurrencyOf(engine: SessionEngine): string {
  if (engine.locks === null) {
    return (
      "Requests of one session at the same time cannot be merged: each response carries the whole session in its " +
      "cookie and the browser keeps whichever arrives last, so one of two concurrent changes is lost. Route locks do " +
      "nothing on this engine."
    );
  }
  const where = engine.locks.shared
    ? "across every process that shares this store"
    : "within this process (nothing else shares its store)";
  return engine.mergesSaves
    ? "Requests of one session that change different keys at the same time are merged in the store, so none is " +
        `lost; routes with config: { session: { lock: true } } run one request of a session at a time, ${where}.`
    : "This engine does not merge: the last save of a session overwrites the others. Routes with " +
        `config: { session: { lock: true } } run one request of a session at a time, ${where}.`;
}

function mask(secret: string): string {
  return `******** (${secret.length} characters)`;
}

function shown(name: keyof SessionSettings, value: SessionSettings[keyof SessionSettings]): string {
  if (name === "SECRET_KEY") return mask(String(value));
  if (name === "SECRET_KEY_FALLBACKS") {
    const keys = value as string[];
    return keys.length === 0 ? "[] (none)" : `[${keys.map(mask).join(", ")}]`;
  }
  return value === null ? "None" : JSON.stringify(value);
}

export const settingsRoutes: FastifyPluginAsync<{
  engine: SessionEngine;
  runtime?: Pick<Runtime, "database" | "caches">;
}> = async (app, { engine, runtime }) => {
  app.get("/settings/", (request, reply) => {
    const settings = app.config.session;
    const rows = SESSION_SETTING_NAMES.map((name) => ({
      name,
      value: shown(name, settings[name]),
      secret: SECRETS.has(name),
    }));
    const storage: { what: string; where: string }[] = [];
    if (runtime) storage.push({ what: `Database (${runtime.database.dialect})`, where: runtime.database.location });
    // Only the built-in db engines keep rows in SESSION_DB_TABLE.
    const table = engine.name === "db" || engine.name === "cached_db" ? settings.SESSION_DB_TABLE : null;
    if (table !== null) storage.push({ what: "Sessions table (SESSION_DB_TABLE)", where: table });
    for (const [alias, cache] of Object.entries(runtime?.caches ?? {}))
      storage.push({ what: `Cache "${alias}"`, where: cache.description });
    if (engine.name === "file")
      storage.push({ what: "Session files", where: settings.SESSION_FILE_PATH ?? "the OS temp directory" });
    if (engine.name === "signed_cookies")
      storage.push({ what: "Session data", where: "in the cookie itself (signed, not encrypted)" });
    return renderPage(request, reply, "settings.ejs", {
      title: "Settings",
      engine: engine.name,
      rows,
      storage,
      concurrency: concurrencyOf(engine),
      sessionTable: table === null ? null : { name: table, django: table === DJANGO_SESSION_TABLE },
    });
  });
};
