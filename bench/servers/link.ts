/**
 * What every benchmark server shares: its line to the harness (an IPC channel, never an HTTP
 * route, so nothing unmeasured goes through the server's request path), the counters of store
 * operations, and one onResponse hook that counts 2xx answers, session Set-Cookies and the
 * distinct session cookies seen.
 *
 * Store operations are COUNTED where they happen, in this process:
 * - SQLite: better-sqlite3's Statement.run/get/all/iterate, classified by the statement's SQL
 *   (SELECT = read; INSERT/UPDATE/DELETE/REPLACE = write; pragmas and DDL = other).
 * - PostgreSQL: pg's Client.query, classified the same way.
 * - Redis through ioredis (this project's RedisCache): every command sent (GET/EXISTS/PTTL/SCAN
 *   = read; SET/DEL/EXPIRE and its scripts = write; PING/INFO = other).
 * - Redis through node-redis (connect-redis) and in-process stores: a wrapper around the client or
 *   store the session library calls.
 * The harness reads the counters before and after a run; the difference is the run's.
 */
import type { FastifyInstance } from "fastify";

export type Scenario = "A" | "B" | "C" | "D" | "E";
export type OpKind = "read" | "write" | "other";

/** Counter name -> value; names are `<store>.<kind>` (sqlite.read, redis.write, ...). */
const counters: Record<string, number> = {};
export function count(store: string, kind: OpKind, n = 1): void {
  const name = `${store}.${kind}`;
  counters[name] = (counters[name] ?? 0) + n;
}

const kindCache = new Map<string, OpKind>();
/** read/write/other from a SQL statement's first keyword (cached per statement text). */
export function sqlKind(text: string): OpKind {
  let kind = kindCache.get(text);
  if (kind === undefined) {
    const word = /^\s*(?:with\b[\s\S]*?\)\s*)?([a-z]+)/i.exec(text)?.[1]?.toLowerCase() ?? "";
    kind = word === "select" ? "read" : ["insert", "update", "delete", "replace"].includes(word) ? "write" : "other";
    if (kindCache.size < 1000) kindCache.set(text, kind);
  }
  return kind;
}

/** Counts every statement better-sqlite3 executes in this process. Call before opening databases. */
export async function countSqlite(): Promise<void> {
  const { default: SQLite } = await import("better-sqlite3");
  const probe = new SQLite(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method]!;
    // Named so a CPU profile says what it is: its self time is mostly SQLite executing the
    // statement (native code, which the profiler charges to the JavaScript that called it).
    proto[method] = function sqliteStatementCounted(this: { source: string }, ...args: unknown[]) {
      count("sqlite", sqlKind(this.source));
      return original.apply(this, args);
    };
  }
}

/** Counts every query pg sends from this process. */
export async function countPostgres(): Promise<void> {
  const { default: pg } = await import("pg");
  const proto = pg.Client.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = proto.query!;
  proto.query = function pgQueryCounted(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === "string" ? first : ((first as { text?: string } | undefined)?.text ?? "");
    count("postgres", sqlKind(text));
    return original.apply(this, args);
  };
}

const REDIS_READS = new Set(["get", "mget", "exists", "pttl", "ttl", "scan", "keys", "strlen"]);
// EVAL/EVALSHA: RedisCache's scripts are conditional writes (a compare-and-swap of the session,
// a compare-and-delete of a lock).
const REDIS_WRITES = new Set([
  "set",
  "setex",
  "psetex",
  "del",
  "unlink",
  "expire",
  "pexpire",
  "getdel",
  "getex",
  "eval",
  "evalsha",
]);
export function redisKind(command: string): OpKind {
  const name = command.toLowerCase();
  return REDIS_READS.has(name) ? "read" : REDIS_WRITES.has(name) ? "write" : "other";
}

/** Counts every command ioredis sends from this process (this project's RedisCache). */
export async function countIoredis(): Promise<void> {
  const { Redis } = await import("ioredis");
  const proto = Redis.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const original = proto.sendCommand!;
  proto.sendCommand = function ioredisCommandCounted(this: unknown, ...args: unknown[]) {
    count("redis", redisKind((args[0] as { name: string }).name));
    return original.apply(this, args);
  };
}

/** What the harness asks of a server's store between runs (never during one). */
export interface InspectQuery {
  /** The Cookie headers of the run's sessions: report the sum of their `visits`. */
  cookies?: string[];
  /** Report how many sessions the store holds. */
  count?: boolean;
}

export interface InspectResult {
  /** Sum of `visits` over the given sessions; sessions the store does not have count 0. */
  visits?: number;
  /** Sessions the given cookies name that the store does not have. */
  missing?: number;
  sessions?: number;
}

export interface BenchServer {
  app: FastifyInstance;
  /** The session cookie's name (what Set-Cookie and Cookie are checked for). */
  cookieName?: string;
  /** Reads the store (null for servers that keep no server-side state). */
  inspect?: (query: InspectQuery) => Promise<InspectResult>;
  /** Releases what app.close() does not (databases, clients). */
  close?: () => Promise<void>;
}

/** The value of cookie `name` in a Cookie header (the last one wins, as the session plugin reads it). */
export function cookieValue(header: string, name: string): string | undefined {
  let found: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) found = part.slice(eq + 1).trim();
  }
  return found;
}

type Message =
  | { id: number; type: "stats"; resetDistinct?: boolean }
  | { id: number; type: "inspect"; query: InspectQuery }
  | { id: number; type: "clock" }
  | { id: number; type: "memory"; gc?: boolean }
  | { id: number; type: "shutdown" };

/**
 * Adds the counting hook, listens on 127.0.0.1 at a free port and tells the harness which; then
 * answers the harness's messages until it says shutdown.
 */
export async function serve(server: BenchServer): Promise<void> {
  const { app } = server;
  const cookieName = server.cookieName ?? "sessionid";
  const setCookieMark = `${cookieName}=`;
  const distinct = new Set<string>();
  let responses2xx = 0;
  let setCookies = 0;
  let responses = 0;
  // One hook on every server, the bare one included, so its cost is part of the baseline.
  app.addHook("onResponse", (request, reply, done) => {
    responses++;
    if (reply.statusCode >= 200 && reply.statusCode < 300) responses2xx++;
    const cookie = request.headers.cookie;
    if (cookie !== undefined) distinct.add(cookie);
    // Fastify passes its headers to writeHead (reply.getHeader sees them); middleware such as
    // express-session sets them on the raw response.
    const set = reply.getHeader("set-cookie") ?? reply.raw.getHeader("set-cookie");
    if (set !== undefined) {
      const values = Array.isArray(set) ? set : [String(set)];
      if (values.some((v) => v.startsWith(setCookieMark))) setCookies++;
    }
    done();
  });

  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const port = Number(new URL(address).port);
  const send = (message: unknown) => process.send?.(message);

  const shutdown = async () => {
    try {
      await app.close();
      await server.close?.();
    } finally {
      // process.exit lets `node --cpu-prof` write its profile.
      process.exit(0);
    }
  };

  process.on("message", (raw) => {
    const message = raw as Message;
    const reply = (value: unknown) => send({ id: message.id, type: "result", value });
    const fail = (error: unknown) =>
      send({ id: message.id, type: "error", error: String((error as Error)?.stack ?? error) });
    switch (message.type) {
      case "stats": {
        reply({ counters: { ...counters }, responses, responses2xx, setCookies, distinctCookies: distinct.size });
        if (message.resetDistinct) distinct.clear();
        break;
      }
      case "inspect":
        if (!server.inspect) reply(null);
        else server.inspect(message.query).then(reply, fail);
        break;
      case "clock":
        reply(Number(process.hrtime.bigint() / 1000n));
        break;
      case "memory":
        // A full collection first when asked and the process runs with --expose-gc.
        if (message.gc) (globalThis as { gc?: () => void }).gc?.();
        reply(process.memoryUsage());
        break;
      case "shutdown":
        reply(true);
        void shutdown();
        break;
    }
  });
  // The harness went away without saying so: do not linger.
  process.on("disconnect", () => void shutdown());
  send({ type: "ready", port, pid: process.pid });
}

/** A JSON body of the same shape on every server: `{"visits":N}`. */
export interface VisitsBody {
  visits: number;
}

/** The routes every server answers, by scenario (the demo app has its own page). */
export const PATHS: Record<Scenario, string> = { A: "/a", B: "/b", C: "/c", D: "/d", E: "/e" };

/** Fixed secrets: a benchmark's cookies need not be secret, only the same length as real ones. */
export const BENCH_SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

/** Two weeks, Django's SESSION_COOKIE_AGE, used as every peer's cookie lifetime. */
export const COOKIE_AGE_SECONDS = 1_209_600;

/** Required env var or a clear failure. */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench server: ${name} is not set (the harness sets it)`);
  return value;
}
