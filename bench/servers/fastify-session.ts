/**
 * The peer: @fastify/session (with @fastify/cookie), on BENCH_VARIANT's store:
 *   memory   its own in-memory store (a Map of live Session objects: no serialisation at all)
 *   sqlite   better-sqlite3-session-store (see sqlite-store.ts)
 * Configured as this project behaves, so both do the same work per scenario:
 *   saveUninitialized: false  a session is stored only once something is set (Django's rule;
 *                             the default true would store an empty session for every visitor)
 *   rolling: false            no save and no cookie on an unmodified session (Django's
 *                             SESSION_SAVE_EVERY_REQUEST=false; the default true saves every time)
 *   cookie.secure: false      plain HTTP here (the default true would never send the cookie)
 *   cookie.maxAge             two weeks, Django's SESSION_COOKIE_AGE; httpOnly, SameSite=Lax
 * Loaded with require(): its types declare request.session too, which this project's plugin
 * already declares, and one program cannot hold both.
 */
import { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import cookie, { Signer } from "@fastify/cookie";
import Fastify, { type FastifyPluginCallback, type FastifyRequest } from "fastify";
import {
  count,
  cookieValue,
  env,
  BENCH_SECRET,
  COOKIE_AGE_SECONDS,
  PATHS,
  countSqlite,
  serve,
  type VisitsBody,
} from "./link.js";
import { getSession, openSqliteStore, type CallbackStore } from "./sqlite-store.js";

const require = createRequire(import.meta.url);
const fastifySession = require("@fastify/session") as FastifyPluginCallback<Record<string, unknown>> & {
  MemoryStore: new () => CallbackStore & { store: Map<string, unknown> };
};

interface PeerSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}
const session = (request: FastifyRequest) => (request as unknown as { session: PeerSession }).session;

const variant = env("BENCH_VARIANT");
await countSqlite();

let store: CallbackStore;
let rows: () => number;
let closeStore = () => {};
if (variant === "memory") {
  const memory = new fastifySession.MemoryStore();
  // Counted at the store interface: one call, one store operation.
  store = {
    get: (sid, cb) => (count("memory", "read"), memory.get(sid, cb)),
    set: (sid, value, cb) => (count("memory", "write"), memory.set(sid, value, cb)),
    destroy: (sid, cb) => (count("memory", "write"), memory.destroy(sid, cb)),
  };
  rows = () => memory.store.size;
} else if (variant === "sqlite") {
  const opened = openSqliteStore("fastify-session", EventEmitter);
  ({ store, rows } = opened);
  closeStore = opened.close;
} else {
  throw new Error(`fastify-session.ts: unknown BENCH_VARIANT ${variant}`);
}

const app = Fastify();
await app.register(cookie);
await app.register(fastifySession, {
  secret: BENCH_SECRET,
  cookieName: "sessionid",
  cookie: { secure: false, httpOnly: true, sameSite: "lax", path: "/", maxAge: COOKIE_AGE_SECONDS * 1000 },
  saveUninitialized: false,
  rolling: false,
  store,
});

const increment = (request: FastifyRequest): VisitsBody => {
  const visits = (Number(session(request).get("visits")) || 0) + 1;
  session(request).set("visits", visits);
  return { visits };
};
app.get(PATHS.A, increment);
app.get(PATHS.B, increment);
app.get(PATHS.C, (request): VisitsBody => ({ visits: Number(session(request).get("visits")) || 0 }));
app.get(PATHS.D, (): VisitsBody => ({ visits: 1 }));
// E (the per-session lock) is skipped by the harness: @fastify/session has no lock.

const signer = new Signer(BENCH_SECRET, "sha256");
await serve({
  app,
  async inspect({ cookies, count: wantCount }) {
    const result: { visits?: number; missing?: number; sessions?: number } = {};
    if (cookies) {
      let visits = 0;
      let missing = 0;
      for (const header of cookies) {
        const unsigned = signer.unsign(decodeURIComponent(cookieValue(header, "sessionid") ?? ""));
        const data = unsigned.valid && unsigned.value ? await getSession(store, unsigned.value) : null;
        if (!data) missing++;
        visits += Number(data?.visits) || 0;
      }
      Object.assign(result, { visits, missing });
    }
    if (wantCount) result.sessions = rows();
    return result;
  },
  async close() {
    closeStore();
  },
});
