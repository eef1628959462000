/**
 * The peer: express-session, the Connect/Express middleware, mounted on the same Fastify through
 * @fastify/middie (the route handlers read req.raw.session), on BENCH_VARIANT's store:
 *   sqlite   better-sqlite3-session-store (see sqlite-store.ts)
 *   redis    connect-redis 9 with node-redis 5 (REDIS_URL; keys under BENCH_REDIS_PREFIX)
 * Configured as this project behaves:
 *   resave: false             no save of an unmodified session (the old default true saves always)
 *   saveUninitialized: false  a session is stored only once something is set (Django's rule)
 *   cookie.secure: false      plain HTTP here; maxAge two weeks; httpOnly; SameSite=Lax
 * Left as the library does it: on an unmodified session with a store that has touch() (both
 * stores here), express-session calls touch() to extend the expiry: a store write on read-only
 * requests, counted as such.
 * Loaded with require(): its types would pull in Express's, which this server does not use.
 */
import { createRequire } from "node:module";
import middie from "@fastify/middie";
import { RedisStore } from "connect-redis";
import Fastify, { type FastifyRequest } from "fastify";
import { createClient } from "redis";
import {
  count,
  cookieValue,
  countSqlite,
  env,
  BENCH_SECRET,
  COOKIE_AGE_SECONDS,
  PATHS,
  redisKind,
  serve,
  type VisitsBody,
} from "./link.js";
import { getSession, openSqliteStore, type CallbackStore } from "./sqlite-store.js";

const require = createRequire(import.meta.url);
const expressSession = require("express-session") as ((
  options: Record<string, unknown>,
) => (req: unknown, res: unknown, next: (err?: unknown) => void) => void) & {
  Store: new () => object;
};

interface PeerSession {
  visits?: number;
}
const session = (request: FastifyRequest) => (request.raw as unknown as { session: PeerSession }).session;

const variant = env("BENCH_VARIANT");
await countSqlite();

let store: CallbackStore;
let rows: () => Promise<number>;
let closeStore: () => Promise<void>;
if (variant === "sqlite") {
  const opened = openSqliteStore("express-session", expressSession.Store);
  store = opened.store;
  rows = async () => opened.rows();
  closeStore = async () => {
    opened.close();
  };
} else if (variant === "redis") {
  const client = createClient({ url: env("REDIS_URL") });
  client.on("error", () => {});
  await client.connect();
  // Counted at the client: connect-redis calls get/set/expire/del/mGet/scanIterator on it.
  const counted = new Proxy(client, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== "function") return value;
      const kind = typeof name === "string" ? redisKind(name === "mGet" ? "mget" : name) : "other";
      return (...args: unknown[]) => {
        if (kind !== "other") count("redis", kind);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const prefix = `${env("BENCH_REDIS_PREFIX")}sess:`;
  store = new RedisStore({ client: counted, prefix }) as unknown as CallbackStore;
  rows = async () => {
    let n = 0;
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) n += keys.length;
    return n;
  };
  closeStore = async () => void (await client.quit());
} else {
  throw new Error(`express-session.ts: unknown BENCH_VARIANT ${variant}`);
}

const app = Fastify();
await app.register(middie);
app.use(
  expressSession({
    name: "sessionid",
    secret: BENCH_SECRET,
    resave: false,
    saveUninitialized: false,
    cookie: { secure: false, httpOnly: true, sameSite: "lax", path: "/", maxAge: COOKIE_AGE_SECONDS * 1000 },
    store,
  }),
);

const increment = (request: FastifyRequest): VisitsBody => {
  const visits = (session(request).visits ?? 0) + 1;
  session(request).visits = visits;
  return { visits };
};
app.get(PATHS.A, increment);
app.get(PATHS.B, increment);
app.get(PATHS.C, (request): VisitsBody => ({ visits: session(request).visits ?? 0 }));
app.get(PATHS.D, (): VisitsBody => ({ visits: 1 }));
// E (the per-session lock) is skipped by the harness: express-session has no lock.

await serve({
  app,
  async inspect({ cookies, count: wantCount }) {
    const result: { visits?: number; missing?: number; sessions?: number } = {};
    if (cookies) {
      let visits = 0;
      let missing = 0;
      for (const header of cookies) {
        // s:<sid>.<signature>; the signature was checked on every request, so only the id is needed.
        const value = decodeURIComponent(cookieValue(header, "sessionid") ?? "");
        const sid = value.startsWith("s:") ? value.slice(2, value.lastIndexOf(".")) : "";
        const data = sid ? await getSession(store, sid) : null;
        if (!data) missing++;
        visits += Number(data?.visits) || 0;
      }
      Object.assign(result, { visits, missing });
    }
    if (wantCount) result.sessions = await rows();
    return result;
  },
  close: () => closeStore(),
});
