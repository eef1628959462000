/**
 * `npm run bench`: this project's session plugin against bare Fastify and the Node session
 * libraries, scenario by scenario, with the store operations counted and checked. Writes
 * bench/RESULTS.md and bench/results.svg. See the Benchmarks section of the README.
 *
 *   npm run bench [-- --quick] [--only=db-sqlite,fastify-session-memory] [--scenario=A,C]
 *                  [--rounds=3] [--duration=2] [--connections=50] [--profile=db-sqlite [--scenario=A]]
 *                  [--no-scale | --scale-only] [--scale-rows=N]
 * The scale part (bench/scale.ts: 1,000,000 sessions; 100,000 with --quick) runs after the
 * scenarios on a run of every server and scenario, or alone with --scale-only.
 * Each flag can also be given as an environment variable: BENCH_QUICK=1, BENCH_ONLY=..., ...
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import {
  SCENARIO_INFO,
  SCENARIOS,
  SERVERS,
  pathFor,
  type Scenario,
  type ServerSpec,
  type Service,
} from "./catalogue.js";
import { createSessions, fire, madeUpCookies, type LoadResult } from "./load.js";
import { ServerProcess, killAll, type Stats } from "./processes.js";
import { summariseFile } from "./profile-summary.js";
import { flameGraph } from "./flamegraph.js";
import { aggregate, markdown, median, scaleTargets, svgChart, targets, type Check, type Sample } from "./report.js";
import { BASE_ROWS, FULL_ROWS, QUICK_ROWS, runScale, type ScaleResult } from "./scale.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
process.chdir(ROOT);

// ---- options ----------------------------------------------------------------------------

function option(name: string): string | undefined {
  const prefix = `--${name}`;
  for (const arg of process.argv.slice(2)) {
    if (arg === prefix) return "1";
    if (arg.startsWith(`${prefix}=`)) return arg.slice(prefix.length + 1);
  }
  const fromEnv = process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
  return fromEnv === "" ? undefined : fromEnv;
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

const known = new Set([
  "quick",
  "only",
  "scenario",
  "rounds",
  "duration",
  "connections",
  "warmup",
  "profile",
  "profile-duration",
  "out",
  "no-scale",
  "scale-only",
  "scale-rows",
]);
for (const arg of process.argv.slice(2)) {
  const name = /^--([a-z-]+)/.exec(arg)?.[1];
  if (!name || !known.has(name)) fail(`unknown argument ${arg}; flags: ${[...known].map((k) => `--${k}`).join(" ")}`);
}

const quick = option("quick") !== undefined && option("quick") !== "0";
const number = (name: string, fallback: number) => {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a positive number (got ${raw})`);
  return value;
};
const ROUNDS = Math.round(number("rounds", quick ? 1 : 3));
const SECONDS = number("duration", quick ? 1 : 1.5);
const CONNECTIONS = Math.round(number("connections", 50));
/** Unmeasured load per server and scenario before the first round (JIT, caches, pools). */
const WARMUP = number("warmup", quick ? 0.5 : 1);
/** Unmeasured load right before each measured run (same cookies): reopens what idled. */
const PRE_RUN = quick ? 0.2 : 0.3;
const PROFILE = option("profile");
const PROFILE_SECONDS = number("profile-duration", quick ? 3 : 10);

const ids = SERVERS.map((s) => s.id);
const list = (raw: string | undefined) =>
  raw
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const only = list(option("only"));
for (const id of [...(only ?? []), ...(PROFILE ? [PROFILE] : [])]) {
  if (!ids.includes(id)) fail(`unknown server ${id}; servers: ${ids.join(", ")}`);
}
const scenarioFilter = list(option("scenario"))?.map((s) => s.toUpperCase());
for (const s of scenarioFilter ?? [])
  if (!SCENARIOS.includes(s as Scenario)) fail(`unknown scenario ${s}; scenarios: ${SCENARIOS.join(", ")}`);
const scenarios = SCENARIOS.filter((s) => !scenarioFilter || scenarioFilter.includes(s));

const flag = (name: string) => option(name) !== undefined && option(name) !== "0";
const scaleOnly = flag("scale-only");
const noScale = flag("no-scale");
if (scaleOnly && (noScale || only || scenarioFilter || PROFILE))
  fail("--scale-only runs the scale part alone: it takes no --no-scale, --only, --scenario or --profile");
const SCALE_ROWS =
  option("scale-rows") === undefined ? (quick ? QUICK_ROWS : FULL_ROWS) : Math.round(number("scale-rows", FULL_ROWS));
if (SCALE_ROWS < 2 * BASE_ROWS) fail(`--scale-rows must be at least ${2 * BASE_ROWS}`);
/** Why the scale part does not run (null: it runs). */
const scaleSkipped = scaleOnly
  ? null
  : noScale
    ? "--no-scale"
    : only || scenarioFilter
      ? "--only/--scenario; --scale-only runs it alone"
      : null;

const partialReasons = [
  quick && "--quick",
  only && `--only=${only.join(",")}`,
  scenarioFilter && `--scenario=${scenarioFilter.join(",")}`,
  noScale && "--no-scale",
  scaleOnly && "--scale-only",
  option("scale-rows") !== undefined && `--scale-rows=${SCALE_ROWS}`,
].filter((x): x is string => typeof x === "string");
const partial = partialReasons.length ? partialReasons.join(" ") : null;
const OUT = option("out") ?? (partial ? "bench/RESULTS.partial.md" : "bench/RESULTS.md");
/** Hand-written: what each change to the framework bought, copied into RESULTS.md as it is. */
const CHANGES = "bench/CHANGES.md";
const SVG = OUT.replace(/RESULTS(\.partial)?\.md$/, (_m, p: string | undefined) => `results${p ?? ""}.svg`).replace(
  /\.md$/,
  ".svg",
);

// ---- what this run creates, and its cleanup -------------------------------------------

const runId = randomBytes(4).toString("hex");
const dir = mkdtempSync(path.join(os.tmpdir(), "bench-sessions-"));
const redisPrefix = `bench-${runId}`;
const pgSchema = `bench_${runId}`;
const REDIS_URL = process.env.REDIS_URL || undefined;
const DATABASE_URL = process.env.DATABASE_URL || undefined;
let createdSchema = false;
let usedRedis = false;
const running: ServerProcess[] = [];

async function cleanup(): Promise<void> {
  await Promise.allSettled(running.map((s) => s.stop(5000)));
  killAll();
  if (createdSchema && DATABASE_URL) {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    try {
      await client.connect();
      await client.query(`drop schema if exists ${pgSchema} cascade`);
    } catch (error) {
      console.error(`bench: could not drop schema ${pgSchema}: ${(error as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
  }
  if (usedRedis && REDIS_URL) {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = "0";
      let removed = 0;
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${redisPrefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length) removed += await redis.del(...keys);
      } while (cursor !== "0");
      if (removed) console.log(`removed ${removed} Redis keys under ${redisPrefix}:`);
    } catch (error) {
      console.error(`bench: could not remove Redis keys ${redisPrefix}:*: ${(error as Error).message}`);
    } finally {
      redis.disconnect();
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

process.on("exit", () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\nbench: ${signal}: stopping the servers and cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ---- services ----------------------------------------------------------------------------

const serviceVersion: Partial<Record<Service, string>> = {};

/** null when usable, otherwise why not. */
async function probe(service: Service): Promise<string | null> {
  if (service === "redis") {
    if (!REDIS_URL) return "REDIS_URL is not set";
    const redis = new Redis(REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 3000,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    try {
      await redis.connect();
      const info = await redis.info("server");
      serviceVersion.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
      usedRedis = true;
      return null;
    } catch (error) {
      return `Redis at REDIS_URL did not answer: ${(error as Error).message}`;
    } finally {
      redis.disconnect();
    }
  }
  if (!DATABASE_URL) return "DATABASE_URL is not set";
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ v: string }>("show server_version");
    serviceVersion.postgres = rows[0]?.v ?? "?";
    await client.query(`create schema ${pgSchema}`);
    createdSchema = true;
    return null;
  } catch (error) {
    return `PostgreSQL at DATABASE_URL did not answer: ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

// ---- servers ---------------------------------------------------------------------------

const BENCH_SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

/** The caller's environment without the app's variables: the caller's own settings must not change what is measured. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(SESSION_|SECRET_KEY|CACHE_|DATABASE_|REDIS_|BENCH_|MIGRATE_ON_START$|TRUST_PROXY$|LOG_LEVEL$|HOST$|PORT$|NODE_ENV$)/.test(
          name,
        ),
    ),
  );
}

function serverEnv(spec: ServerSpec): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...baseEnv(), NODE_ENV: "production", BENCH_DIR: dir };
  if (spec.variant) env.BENCH_VARIANT = spec.variant;
  if (spec.needs.includes("postgres")) Object.assign(env, { DATABASE_URL, BENCH_PG_SCHEMA: pgSchema });
  if (spec.needs.includes("redis")) Object.assign(env, { REDIS_URL, BENCH_REDIS_PREFIX: `${redisPrefix}:${spec.id}:` });
  if (spec.group === "demo") {
    Object.assign(env, {
      DATABASE_PATH: path.join(dir, "demo.sqlite3"),
      SECRET_KEY: BENCH_SECRET_KEY,
      LOG_LEVEL: "warn",
      SESSION_ENGINE: "db",
      CACHE_BACKEND: "locmem",
    });
  }
  return env;
}

interface Active {
  spec: ServerSpec;
  server: ServerProcess;
}

/** The server's counters once in-flight requests have finished (its answered count stops moving). */
const settled = (server: ServerProcess, resetDistinct = false): Promise<Stats> => server.settled(resetDistinct);

async function cookiesFor({ spec, server }: Active, scenario: Scenario): Promise<string[] | undefined> {
  if (!SCENARIO_INFO[scenario].cookies) return undefined;
  if (spec.bare) return madeUpCookies(CONNECTIONS);
  return createSessions(server.url + pathFor(spec, "B"), CONNECTIONS, server.url + pathFor(spec, "A"));
}

const diff = (after: Record<string, number>, before: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.keys(after)
      .map((k): [string, number] => [k, after[k]! - (before[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

const samples: Sample[] = [];
/** The last rate seen per server and scenario (the warm-up's at first). */
const rateGuess = new Map<string, number>();
const checks: Check[] = [];

async function measure(active: Active, scenario: Scenario, round: number): Promise<Sample> {
  const { spec, server } = active;
  const url = server.url + pathFor(spec, scenario);
  const cookies = await cookiesFor(active, scenario);
  const stateful = !spec.bare && !spec.clientSide;
  const query = !stateful ? null : scenario === "B" ? { count: true } : { cookies };
  const storeBefore = query ? await server.inspect(query) : null;
  const start = await settled(server);
  // Both loads send a fixed number of requests and wait for every answer: a run cut off by time
  // would leave requests in flight that change the store but are never answered or counted.
  // The pre-run's rate sizes the run to last about SECONDS.
  const pre = await fire({
    url,
    connections: CONNECTIONS,
    amount: Math.max(CONNECTIONS * 10, Math.round(rateGuess.get(spec.id + scenario) ?? 0) * PRE_RUN),
    cookies,
  });
  const s0 = await settled(server, true);
  const cpu0 = server.cpuMs();
  const load: LoadResult = await fire({
    url,
    connections: CONNECTIONS,
    amount: Math.round(pre.rps * SECONDS),
    cookies,
  });
  rateGuess.set(spec.id + scenario, load.rps);
  const s1 = await settled(server);
  const cpu1 = server.cpuMs();
  const rssKb = server.rssKb();
  const storeAfter = query ? await server.inspect(query) : null;

  const ops = diff(s1.counters, s0.counters);
  const served = s1.responses - s0.responses;
  const served2xx = s1.responses2xx - s0.responses2xx;
  const setCookies = s1.setCookies - s0.setCookies;
  const reads = Object.entries(ops).reduce((n, [k, v]) => (k.endsWith(".read") ? n + v : n), 0);
  const writes = Object.entries(ops).reduce((n, [k, v]) => (k.endsWith(".write") ? n + v : n), 0);
  /** 2xx answers from before the pre-run to the end: what the store must show. */
  const all2xx = s1.responses2xx - start.responses2xx;
  const check = (kind: Check["kind"], ok: boolean, what: string, detail: string) =>
    checks.push({ server: spec.id, scenario, round, kind, ok, what, detail });

  check(
    "validity",
    load.non2xx === 0 && load.errors === 0 && load.timeouts === 0 && served2xx === served,
    "every response is 2xx",
    `${load.non2xx} non-2xx, ${load.errors} errors, ${load.timeouts} timeouts; server: ${served2xx} of ${served} 2xx`,
  );
  if (cookies) {
    check(
      "validity",
      s1.distinctCookies === CONNECTIONS,
      `${CONNECTIONS} distinct sessions (one per connection)`,
      `the server saw ${s1.distinctCookies}`,
    );
  } else {
    check(
      "validity",
      s1.distinctCookies === 0,
      "no cookie sent",
      `the server saw ${s1.distinctCookies} distinct Cookie headers`,
    );
  }
  if (!spec.bare) {
    if (scenario === "A" || scenario === "E") {
      if (stateful) {
        const grew = (storeAfter?.visits ?? 0) - (storeBefore?.visits ?? 0);
        check("validity", grew === all2xx, "the counters grew by the number of 2xx", `grew by ${grew}, ${all2xx} 2xx`);
        check(
          "validity",
          !storeBefore?.missing && !storeAfter?.missing,
          "every pre-created session is in the store",
          `${storeBefore?.missing ?? "?"} missing before, ${storeAfter?.missing ?? "?"} after`,
        );
      } else {
        check(
          "validity",
          setCookies === served2xx,
          "every 2xx re-issues the session cookie (no server state)",
          `${setCookies} Set-Cookie, ${served2xx} 2xx`,
        );
      }
    }
    if (scenario === "B") {
      if (stateful) {
        const added = (storeAfter?.sessions ?? 0) - (storeBefore?.sessions ?? 0);
        check("validity", added === all2xx, "one stored session per 2xx", `${added} new sessions, ${all2xx} 2xx`);
      } else {
        check(
          "validity",
          setCookies === served2xx,
          "one session cookie per 2xx (no server state)",
          `${setCookies} Set-Cookie, ${served2xx} 2xx`,
        );
      }
    }
    if (scenario === "C") {
      check(
        "expectation",
        writes === 0,
        "read-only: nothing written",
        `${writes} store writes (${(writes / (served || 1)).toFixed(2)}/request)`,
      );
      check("expectation", setCookies === 0, "read-only: no Set-Cookie", `${setCookies} Set-Cookie`);
      if (stateful) {
        const grew = (storeAfter?.visits ?? 0) - (storeBefore?.visits ?? 0);
        check("validity", grew === 0, "read-only: the counters did not change", `changed by ${grew}`);
      }
    }
    if (scenario === "D") {
      check(
        "expectation",
        reads === 0 && writes === 0,
        "untouched session: zero store reads and writes",
        `${reads} reads, ${writes} writes (${(reads / (served || 1)).toFixed(2)} and ${(writes / (served || 1)).toFixed(2)} per request)`,
      );
      check("expectation", setCookies === 0, "untouched session: no Set-Cookie", `${setCookies} Set-Cookie`);
    }
  }
  const cpuUs = cpu0 === null || cpu1 === null || served === 0 ? null : ((cpu1 - cpu0) * 1000) / served;
  return {
    server: spec.id,
    scenario,
    round,
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    rssMb: rssKb === null ? null : rssKb / 1024,
    cpuUs,
    generatorCpu: load.generatorCpu,
    served,
    ops,
    setCookies,
  };
}

// ---- machine -------------------------------------------------------------------------

function version(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(path.join("node_modules", pkg, "package.json"), "utf8")) as { version: string })
      .version;
  } catch {
    return "?";
  }
}

function machine(): [string, string][] {
  const cpus = os.cpus();
  const memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  return [
    ["CPU", `${cpus[0]?.model ?? "?"}`],
    ["Cores", String(cpus.length)],
    ["Memory", memory],
    ["OS", `${os.type()} ${os.release()} (${os.arch()})`],
    ["Node", process.version],
    ["Fastify", version("fastify")],
    ["autocannon", version("autocannon")],
    ["better-sqlite3", version("better-sqlite3")],
    ["kysely / pg / ioredis", `${version("kysely")} / ${version("pg")} / ${version("ioredis")}`],
    ["@fastify/session", version("@fastify/session")],
    ["express-session (+ @fastify/middie)", `${version("express-session")} (+ ${version("@fastify/middie")})`],
    ["better-sqlite3-session-store", version("better-sqlite3-session-store")],
    ["connect-redis / redis (node-redis)", `${version("connect-redis")} / ${version("redis")}`],
    ["@fastify/secure-session (sodium-native)", `${version("@fastify/secure-session")} (${version("sodium-native")})`],
    ["Redis server", serviceVersion.redis ?? "not used"],
    ["PostgreSQL server", serviceVersion.postgres ?? "not used"],
  ];
}

const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" / ");

// ---- main ----------------------------------------------------------------------------

async function startAll(
  specs: ServerSpec[],
  skipped: string[],
  failures: string[],
  nodeArgs: (spec: ServerSpec) => string[] = () => [],
): Promise<Active[]> {
  const reasons = new Map<Service, string | null>();
  const active: Active[] = [];
  for (const spec of specs) {
    let reason: string | null = null;
    for (const service of spec.needs) {
      if (!reasons.has(service)) reasons.set(service, await probe(service));
      reason ??= reasons.get(service)!;
    }
    if (reason) {
      skipped.push(`${spec.label}: skipped, ${reason}`);
      console.log(`  skip  ${spec.id}: ${reason}`);
      continue;
    }
    const t = performance.now();
    try {
      const server = await ServerProcess.start(spec.file, serverEnv(spec), nodeArgs(spec));
      running.push(server);
      active.push({ spec, server });
      console.log(
        `  start ${spec.id.padEnd(24)} pid ${server.pid}, port ${server.port} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
      );
    } catch (error) {
      failures.push(`${spec.label} did not start: ${(error as Error).message.split("\n").join(" / ")}`);
      console.error(`\n!!! ${spec.id} did not start:\n${(error as Error).message}\n`);
    }
  }
  return active;
}

async function profile(id: string): Promise<void> {
  const spec = SERVERS.find((s) => s.id === id)!;
  // The first scenario of --scenario (A unless given).
  const scenario = (scenarioFilter?.[0] ?? "A") as Scenario;
  const profiles = path.join(ROOT, "bench", "profiles");
  mkdirSync(profiles, { recursive: true });
  const name = `${id}-${scenario}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const skipped: string[] = [];
  const failures: string[] = [];
  console.log(
    `profiling ${spec.label}, scenario ${scenario}, ${CONNECTIONS} connections, ${PROFILE_SECONDS} s (after ${quick ? 1 : 3} s of warm-up)`,
  );
  // Node writes one profile per thread (tsx's loader hooks run in a thread of their own) under
  // names of its choosing: a directory for this run, then the main thread's (tid 0) is kept.
  const raw = path.join(profiles, `${name}.threads`);
  mkdirSync(raw, { recursive: true });
  const [active] = await startAll([spec], skipped, failures, () => ["--cpu-prof", `--cpu-prof-dir=${raw}`]);
  if (!active) throw new Error(skipped[0] ?? failures[0] ?? "the server did not start");
  const url = active.server.url + pathFor(spec, scenario);
  const cookies = await cookiesFor(active, scenario);
  await fire({ url, connections: CONNECTIONS, seconds: quick ? 1 : 3, cookies });
  const from = await active.server.clock();
  const result = await fire({ url, connections: CONNECTIONS, seconds: PROFILE_SECONDS, cookies });
  const to = await active.server.clock();
  await active.server.stop();
  running.length = 0;
  const main = readdirSync(raw).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!main) throw new Error(`no main-thread profile in ${raw}: ${readdirSync(raw).join(", ")}`);
  const file = path.join(profiles, `${name}.cpuprofile`);
  renameSync(path.join(raw, main), file);
  rmSync(raw, { recursive: true, force: true });
  const text =
    `${spec.label}, scenario ${scenario} under the profiler: ${Math.round(result.rps)} req/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms ` +
    `(the profiler slows it down)\n\n` +
    summariseFile(file, { top: 20, from, to });
  writeFileSync(path.join(profiles, `${name}.txt`), text + "\n");
  const profileJson = JSON.parse(readFileSync(file, "utf8")) as Parameters<typeof flameGraph>[0];
  writeFileSync(
    path.join(profiles, `${name}.svg`),
    flameGraph(profileJson, `${spec.label}, scenario ${scenario}: where the measured window's time went`, { from, to }),
  );
  console.log(
    `\n${text}\n\nprofile: ${path.relative(ROOT, file)}\nsummary: ${path.relative(ROOT, path.join(profiles, `${name}.txt`))}\nflame graph: ${path.relative(ROOT, path.join(profiles, `${name}.svg`))}`,
  );
}

async function main(): Promise<number> {
  if (PROFILE) {
    await profile(PROFILE);
    return 0;
  }
  const started = performance.now();
  const loadBefore = load();
  const specs = scaleOnly ? [] : SERVERS.filter((s) => s.bare || !only || only.includes(s.id));
  const skipped: string[] = [];
  const failures: string[] = [];
  const scaleLine =
    scaleSkipped === null
      ? `scale part: ${SCALE_ROWS.toLocaleString("en-US")} sessions` +
        (SCALE_ROWS !== FULL_ROWS
          ? ` (not the targets' ${FULL_ROWS.toLocaleString("en-US")}: ${quick && option("scale-rows") === undefined ? "--quick" : "--scale-rows"})`
          : "")
      : `scale part skipped (${scaleSkipped})`;
  console.log(
    scaleOnly
      ? `bench: the scale part alone, ${SCALE_ROWS.toLocaleString("en-US")} sessions${SCALE_ROWS !== FULL_ROWS ? ` (not the targets' ${FULL_ROWS.toLocaleString("en-US")})` : ""}, ${CONNECTIONS} connections; load average ${loadBefore}`
      : `bench: ${specs.length} servers, scenarios ${scenarios.join("")}, ${CONNECTIONS} connections, ${ROUNDS} round(s) of ${SECONDS} s, ` +
          `warm-up ${WARMUP} s per server and scenario; ${scaleLine}; load average ${loadBefore}`,
  );
  const active = await startAll(specs, skipped, failures);
  const runs = (a: Active) =>
    scenarios.filter((s) => {
      const reason = a.spec.skip?.[s];
      if (reason && !skipped.includes(`${a.spec.label}, ${s}: ${reason}`))
        skipped.push(`${a.spec.label}, ${s}: ${reason}`);
      return !reason;
    });

  if (active.length) console.log("warm-up");
  for (const a of active) {
    for (const scenario of runs(a)) {
      const cookies = await cookiesFor(a, scenario);
      const warm = await fire({
        url: a.server.url + pathFor(a.spec, scenario),
        connections: CONNECTIONS,
        seconds: WARMUP,
        cookies,
      });
      rateGuess.set(a.spec.id + scenario, warm.rps);
    }
  }

  for (let round = 0; round < ROUNDS; round++) {
    // A different order each round, so no server always runs first (or right after a heavy one).
    const order = active.map((_, i) => active[(i + round * 5) % active.length]!);
    for (const scenario of scenarios) {
      for (const a of order) {
        if (!runs(a).includes(scenario)) continue;
        try {
          const sample = await measure(a, scenario, round);
          samples.push(sample);
          const ops = Object.entries(sample.ops)
            .filter(([k]) => !k.endsWith(".other"))
            .map(([k, v]) => `${k} ${(v / (sample.served || 1)).toFixed(2)}`)
            .join(", ");
          const bad = checks.filter(
            (c) => c.server === a.spec.id && c.scenario === scenario && c.round === round && !c.ok,
          ).length;
          console.log(
            `round ${round + 1}/${ROUNDS} ${scenario} ${a.spec.id.padEnd(24)} ${String(Math.round(sample.rps)).padStart(6)} req/s  p50 ${sample.p50.toFixed(1).padStart(6)}  p99 ${sample.p99.toFixed(1).padStart(7)} ms  ${ops}${bad ? `  ✗ ${bad} check(s) failed` : ""}`,
          );
        } catch (error) {
          if (interrupted) return 130;
          failures.push(`${a.spec.label}, ${scenario}, round ${round + 1}: ${(error as Error).message}`);
          console.error(`!!! ${a.spec.id} ${scenario} round ${round + 1}: ${(error as Error).message}`);
        }
      }
    }
  }

  // The scenarios' servers are done: stop them before the scale part, which starts its own.
  await Promise.allSettled(active.map((a) => a.server.stop(5000)));
  running.length = 0;
  let scale: ScaleResult | null = null;
  if (scaleSkipped === null && !interrupted) {
    const spec = SERVERS.find((s) => s.id === "db-sqlite")!;
    scale = await runScale({
      rows: SCALE_ROWS,
      baseRows: BASE_ROWS,
      connections: CONNECTIONS,
      rounds: quick ? 5 : 7,
      seconds: SECONDS,
      // Each scale server is a fresh process: longer than the scenarios' warm-up.
      warmup: Math.max(WARMUP, quick ? 2 : 3),
      preRun: PRE_RUN,
      baselineSeconds: quick ? 2 : 4,
      rssWarmup: 20_000,
      purgeCap: 180,
      dir,
      root: ROOT,
      startServer: async (file, nodeArgs = []) => {
        const t = performance.now();
        const server = await ServerProcess.start(spec.file, { ...serverEnv(spec), BENCH_SQLITE_PATH: file }, nodeArgs);
        running.push(server);
        console.log(
          `  start ${spec.id} on ${path.basename(file)}: pid ${server.pid}, port ${server.port} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
        );
        return server;
      },
      stopServer: async (server) => {
        await server.stop(5000);
        running.splice(running.indexOf(server), 1);
      },
      commandEnv: baseEnv(),
      checks,
      log: (line) => console.log(line),
      interrupted: () => interrupted,
    });
    failures.push(...scale.errors);
  }
  if (interrupted) return 130;

  const loadAfter = load();
  const rows = aggregate(samples, checks);
  const generator = (id: string) => {
    const mine = samples.filter((s) => s.server === id).map((s) => s.generatorCpu);
    return mine.length ? `${Math.round(median(mine))} %` : "n/a";
  };
  const minutes = ((performance.now() - started) / 60000).toFixed(1);
  const info = {
    date: new Date()
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, " UTC"),
    machine: machine(),
    method: !rows.length
      ? [`The scale part alone (--scale-only): see Scale. The whole run took ${minutes} min.`]
      : [
          `Servers: child processes (\`node --import tsx bench/servers/<file>.ts\`, NODE_ENV=production, no request logging), each on 127.0.0.1 at a free port; all Fastify ${version("fastify")}.`,
          `Load: autocannon ${version("autocannon")} in the harness's own process, ${CONNECTIONS} connections, no pipelining; a scenario with a session gives each connection its own cookie, from sessions created through the server's own new-visitor route just before the run.`,
          `Warm-up: ${WARMUP} s per server and scenario before the first round, and about ${PRE_RUN} s with the run's own cookies right before each run.`,
          `Runs send a fixed number of requests (sized from the pre-run's rate to last about ${SECONDS} s) and every connection waits for its last answer, so no request is cut off in flight: what the server did and what the client saw add up exactly.`,
          `Rounds: ${ROUNDS}, each running every scenario on every server for about ${SECONDS} s, servers in a different order each round; the tables show medians. The whole run took ${minutes} min.`,
          `The load generator is one Node process on the same ${os.cpus().length} cores: it used a median of ${generator("bare")} of a core during bare Fastify's runs and ${generator("db-sqlite")} during db (SQLite)'s. Near 100 %, the bare figure is autocannon's limit rather than Fastify's, and every *% of bare* is flattered accordingly; *CPU / bare* is not.`,
          "Latency: every response's own time (autocannon's histogram would round to 1 ms); p50 and p99 in ms.",
          "RSS: VmRSS from /proc/<pid>/status right after each run.",
          "CPU: the server process's user + system time over the run (/proc/<pid>/stat, all its threads) divided by the requests it answered. On a busy machine req/s swings with the neighbours' load; CPU per request hardly does, so *CPU / bare* is the steadier comparison.",
          "Store operations: counted inside each server process — SQLite statements (better-sqlite3), PostgreSQL queries (pg), Redis commands (ioredis, or node-redis calls for connect-redis), calls to in-process stores — over the run's window, divided by the requests the server answered in it.",
          "Checks, per run: every response 2xx; the server saw exactly one distinct cookie per connection; A and E: the stored counters grew by the number of 2xx; B: one new stored session per 2xx; C: nothing written and no counter changed; D: no store read or write. Cookie-only sessions are checked by their Set-Cookie headers instead.",
        ],
    skipped,
    failures,
    loadBefore,
    loadAfter,
    partial,
    scale,
    scaleSkipped: scaleSkipped ?? "",
    changes: existsSync(CHANGES) ? readFileSync(CHANGES, "utf8") : null,
  };
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, markdown(info, rows, checks, path.basename(SVG)));
  if (rows.length) {
    writeFileSync(
      SVG,
      svgChart(
        rows,
        `${info.date}; ${CONNECTIONS} connections; medians of ${ROUNDS} round(s); busy shared machine (load ${loadBefore} → ${loadAfter})`,
      ),
    );
  }

  console.log(`\n${"target".padEnd(72)} measured`);
  for (const t of [...targets(rows), ...scaleTargets(scale, scaleSkipped ?? "")])
    console.log(`${t.result.padEnd(5)} ${t.target.padEnd(66)} ${t.measured}`);
  const failed = checks.filter((c) => !c.ok);
  const invalid = failed.filter((c) => c.kind === "validity");
  if (failed.length) {
    const bar = "!".repeat(78);
    console.error(
      `\n${bar}\n${failed.length} of ${checks.length} checks FAILED (${invalid.length} validity, ${failed.length - invalid.length} store expectations):`,
    );
    const seen = new Set<string>();
    for (const c of failed) {
      const key = `${c.server} ${c.scenario} ${c.what}`;
      if (seen.has(key)) continue;
      seen.add(key);
      console.error(
        `  ${c.kind === "validity" ? "VALIDITY" : "STORE   "} ${c.scenario} ${c.server}: ${c.what} — ${c.detail}`,
      );
    }
    console.error(bar);
  }
  for (const f of failures) console.error(`FAILED: ${f}`);
  console.log(`\nwrote ${OUT}${rows.length ? ` and ${SVG}` : ""} (${minutes} min)`);
  return invalid.length || failures.length ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? String(error)) : String(error)}`);
} finally {
  await cleanup();
}
process.exit(code);
