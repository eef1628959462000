/**
 * The store drivers (ioredis, kysely, better-sqlite3, pg) are optional peer dependencies: each is
 * loaded at first use by the cache or engine that needs it, from the application's own install
 * (so there is one copy), and importing the package loads none of them. An app on
 * signed_cookies installs no driver; one that uses RedisCache without ioredis is told what to
 * install instead of seeing a resolution error.
 */
import { createRequire } from "node:module";
import { ImproperlyConfigured } from "./errors.js";

export type OptionalPeer = "ioredis" | "kysely" | "better-sqlite3" | "pg";

const require = createRequire(import.meta.url);

/** The driver itself is not installed (not one of its own dependencies). */
function isMissing(error: unknown, name: OptionalPeer): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && error.message.includes(`'${name}'`);
}

function notInstalled(name: OptionalPeer, user: string, cause: unknown): ImproperlyConfigured {
  return new ImproperlyConfigured(
    `${user} needs the ${name} package, which is not installed: run \`npm install ${name}\` in the application.`,
    { cause },
  );
}

/** A CommonJS driver (ioredis, better-sqlite3, pg), required synchronously. */
export function requirePeer<T>(name: OptionalPeer, user: string): T {
  try {
    return require(name) as T;
  } catch (error) {
    throw isMissing(error, name) ? notInstalled(name, user, error) : error;
  }
}

const imported = new Map<OptionalPeer, Promise<unknown>>();

/** A driver through import() (kysely, whose ESM build the application's own imports share). */
export function importPeer<T>(name: OptionalPeer, user: string): Promise<T> {
  let loading = imported.get(name);
  if (loading === undefined) {
    loading = import(name).catch((error: unknown) => {
      imported.delete(name);
      throw isMissing(error, name) ? notInstalled(name, user, error) : error;
    });
    imported.set(name, loading);
  }
  return loading as Promise<T>;
}
