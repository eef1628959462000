/** The servers and scenarios the harness measures (bench/servers/ holds one small file per family). */
import { PATHS, type Scenario } from "./servers/link.js";

export type { Scenario };
export const SCENARIOS: Scenario[] = ["A", "B", "C", "D", "E"];

export const SCENARIO_INFO: Record<Scenario, { title: string; cookies: boolean }> = {
  A: { title: "returning visitor: read a counter, +1, write (one session per connection)", cookies: true },
  B: { title: "new visitor: no cookie; a session is created and saved on every request", cookies: false },
  C: { title: "read-only: returning visitor, the route only reads the session", cookies: true },
  D: { title: "anonymous route: plugin registered, the route never touches the session (cookie sent)", cookies: true },
  E: { title: "A on a route with the per-session lock (`config: { session: { lock: true } }`)", cookies: true },
};

export type Service = "redis" | "postgres";

export interface ServerSpec {
  id: string;
  label: string;
  group: "bare" | "ours" | "peer" | "demo";
  file: string;
  variant?: string;
  needs: Service[];
  /** What it is and how it is configured, for RESULTS.md. */
  description: string;
  /** Route per scenario where it is not PATHS'. */
  paths?: Partial<Record<Scenario, string>>;
  /** Scenarios this server does not run, with the reason. */
  skip?: Partial<Record<Scenario, string>>;
  /** The cookie is the session: no server state to inspect. */
  clientSide?: boolean;
  /** No sessions at all: the cookie scenarios send made-up session cookies of the same size. */
  bare?: boolean;
  color: string;
}

const NO_LOCK = (name: string) => `${name} has no per-session lock`;
const DEMO_ONLY_COUNTER = "the demo has no page for this scenario (only /counter/, which is A and B)";

export const SERVERS: ServerSpec[] = [
  {
    id: "bare",
    label: "bare Fastify",
    group: "bare",
    file: "bench/servers/bare.ts",
    needs: [],
    description: "The limit: the same routes answering a constant, no session plugin.",
    bare: true,
    color: "#888888",
  },
  {
    id: "db-sqlite",
    label: "ours: db (SQLite)",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "db-sqlite",
    needs: [],
    description: "This project's `sessions` plugin, `db` engine on SQLite (better-sqlite3, WAL, synchronous=NORMAL).",
    color: "#1f5fbf",
  },
  {
    id: "db-postgres",
    label: "ours: db (PostgreSQL)",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "db-postgres",
    needs: ["postgres"],
    description: "`db` engine on PostgreSQL (DATABASE_URL, a throwaway schema, pg pool of 10).",
    color: "#3b86e0",
  },
  {
    id: "cache-redis",
    label: "ours: cache (Redis)",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "cache-redis",
    needs: ["redis"],
    description: "`cache` engine on Redis (REDIS_URL, ioredis, a unique key prefix).",
    color: "#0f8a6a",
  },
  {
    id: "cache-memory",
    label: "ours: cache (in-process)",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "cache-memory",
    needs: [],
    description:
      "`cache` engine on the in-process MemoryCache (lru-cache; sized so no session is evicted during the run).",
    color: "#35b98f",
  },
  {
    id: "cached_db",
    label: "ours: cached_db (SQLite+Redis)",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "cached_db",
    needs: ["redis"],
    description: "`cached_db` engine: SQLite as above, Redis in front (write-through).",
    color: "#6a4fc9",
  },
  {
    id: "signed_cookies",
    label: "ours: signed_cookies",
    group: "ours",
    file: "bench/servers/ours.ts",
    variant: "signed_cookies",
    needs: [],
    description: "`signed_cookies` engine: the signed (and, when smaller, compressed) session is the cookie.",
    clientSide: true,
    color: "#9d6bd6",
  },
  {
    id: "fastify-session-memory",
    label: "@fastify/session (memory)",
    group: "peer",
    file: "bench/servers/fastify-session.ts",
    variant: "memory",
    needs: [],
    description: "@fastify/session with its own in-memory store; saveUninitialized:false, rolling:false, secure:false.",
    skip: { E: NO_LOCK("@fastify/session") },
    color: "#e07b1f",
  },
  {
    id: "fastify-session-sqlite",
    label: "@fastify/session (SQLite)",
    group: "peer",
    file: "bench/servers/fastify-session.ts",
    variant: "sqlite",
    needs: [],
    description: "@fastify/session with better-sqlite3-session-store (WAL, synchronous=NORMAL); options as above.",
    skip: { E: NO_LOCK("@fastify/session") },
    color: "#f2a65a",
  },
  {
    id: "express-session-sqlite",
    label: "express-session (SQLite)",
    group: "peer",
    file: "bench/servers/express-session.ts",
    variant: "sqlite",
    needs: [],
    description:
      "express-session through @fastify/middie, better-sqlite3-session-store; resave:false, saveUninitialized:false.",
    skip: { E: NO_LOCK("express-session") },
    color: "#c8372d",
  },
  {
    id: "express-session-redis",
    label: "express-session (connect-redis)",
    group: "peer",
    file: "bench/servers/express-session.ts",
    variant: "redis",
    needs: ["redis"],
    description: "express-session through @fastify/middie, connect-redis 9 on node-redis 5; options as above.",
    skip: { E: NO_LOCK("express-session") },
    color: "#e8706a",
  },
  {
    id: "secure-session",
    label: "@fastify/secure-session",
    group: "peer",
    file: "bench/servers/secure-session.ts",
    needs: [],
    description:
      "@fastify/secure-session: the session encrypted into the cookie (libsodium); the peer of signed_cookies.",
    clientSide: true,
    skip: { E: NO_LOCK("@fastify/secure-session") + " (and keeps no server state)" },
    color: "#b8860b",
  },
  {
    id: "demo",
    label: "demo app /counter/",
    group: "demo",
    file: "bench/servers/demo.ts",
    needs: [],
    description:
      "The demo app's whole /counter/ page (buildApp + openRuntime as src/server.ts does; db engine on SQLite): helmet, CSRF token, user lookup, EJS.",
    paths: { A: "/counter/", B: "/counter/" },
    skip: { C: DEMO_ONLY_COUNTER, D: DEMO_ONLY_COUNTER, E: DEMO_ONLY_COUNTER },
    color: "#5a5a9a",
  },
];

export function pathFor(spec: ServerSpec, scenario: Scenario): string {
  return spec.paths?.[scenario] ?? PATHS[scenario];
}
