/**
 * The peers' SQLite store: better-sqlite3-session-store (the better-sqlite3 store for
 * express-session's store API, which @fastify/session also speaks), on a file of its own with
 * the same pragmas as this project's db engine: WAL, synchronous=NORMAL.
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { env } from "./link.js";

const require = createRequire(import.meta.url);

/** The callback store API both peers call (express-session's Store contract). */
export interface CallbackStore {
  get(sid: string, cb: (err: unknown, session?: Record<string, unknown> | null) => void): void;
  set(sid: string, session: unknown, cb: (err?: unknown) => void): void;
  destroy(sid: string, cb: (err?: unknown) => void): void;
  [more: string]: unknown;
}

export function openSqliteStore(name: string, Store: new (...args: never[]) => object) {
  const client = new SQLite(join(env("BENCH_DIR"), `${name}.sqlite3`));
  client.pragma("journal_mode = WAL");
  client.pragma("synchronous = NORMAL");
  client.pragma("busy_timeout = 5000");
  const factory = require("better-sqlite3-session-store") as (session: {
    Store: unknown;
  }) => new (options: object) => CallbackStore;
  const SqliteStore = factory({ Store });
  // expired.clear runs its purge every 15 minutes: never inside a run.
  const store = new SqliteStore({ client, expired: { clear: true, intervalMs: 900_000 } });
  return {
    store,
    rows: () => (client.prepare("select count(*) as n from sessions").get() as { n: number }).n,
    close: () => client.close(),
  };
}

/** get() as a promise, for inspecting the store between runs. */
export function getSession(store: CallbackStore, sid: string): Promise<Record<string, unknown> | null> {
  return new Promise((resolve, reject) =>
    store.get(sid, (err, session) =>
      err
        ? reject(err instanceof Error ? err : new Error("the session store's get failed", { cause: err }))
        : resolve(session ?? null),
    ),
  );
}
