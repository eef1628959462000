/**
 * Which database a Kysely instance speaks. kysely is an optional peer, so the package must not
 * import it as a value (that would load it for every app); the adapter is recognised by its
 * class's name or an ancestor's (kysely's SqliteAdapter and PostgresAdapter, or a third-party
 * dialect's subclass of one) instead of with instanceof. A bundle that renames classes (minified
 * without keepNames) makes every database "other": correct, but without SQLite's fast paths.
 */
import type { Kysely } from "kysely";

export type SqlDialect = "sqlite" | "postgres" | "other";

const ADAPTERS: Readonly<Record<string, SqlDialect>> = { SqliteAdapter: "sqlite", PostgresAdapter: "postgres" };

const known = new WeakMap<object, SqlDialect>();

export function dialectOf<DB>(db: Kysely<DB>): SqlDialect {
  const adapter = db.getExecutor().adapter;
  let dialect = known.get(adapter);
  if (dialect === undefined) {
    dialect = "other";
    for (let proto: unknown = Object.getPrototypeOf(adapter); proto; proto = Object.getPrototypeOf(proto)) {
      const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
      if (typeof name === "string" && Object.hasOwn(ADAPTERS, name)) {
        dialect = ADAPTERS[name]!;
        break;
      }
    }
    known.set(adapter, dialect);
  }
  return dialect;
}
