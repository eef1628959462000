/**
 * The scale part of `npm run bench` (`--scale-only` runs it alone, `--no-scale` skips it), all on
 * this project's `db` engine on SQLite (the db-sqlite bench server):
 *
 *  1. Rows in the table: scenario A with ROWS sessions in the sessions table against A with 1,000
 *     (two servers, each on its own file, measured in alternating rounds).
 *  2. clearsessions: the real command (`node --import tsx src/cli/clearsessions.ts`, as a user runs
 *     it) removes ROWS expired rows from the file a running server uses, while autocannon drives
 *     A against that server; A without a purge just before, for comparison.
 *  3. Memory: a fresh server's RSS after warm-up, and after ROWS new sessions created through
 *     HTTP (scenario B's new-visitor route), in steps.
 *
 * The tables of 1 and 2 are filled directly, before the server that uses them starts: one
 * transaction of prepared INSERTs through better-sqlite3, keys from generateSessionKey(), data as
 * the engine encodes it (`{"visits": 1}`, signed with the bench servers' SECRET_KEY), expiry
 * dates in Django's SQLite format. The rows are laid out as a table that filled over two weeks:
 * expire_date grows with the insertion order (the rowid), expired rows first, keys random.
 */
import { spawn } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";
import { openSqlite } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";
import { createSessionEngine, resolveSessionSettings, toSqliteDatetime } from "fastify-django-sessions";
import { generateSessionKey } from "fastify-django-sessions";
import { fire } from "./load.js";
import { adopt, type ServerProcess } from "./processes.js";
import type { Check } from "./report.js";
import { BENCH_SECRET, PATHS } from "./servers/link.js";

/** The issue's sizes; --quick uses QUICK_ROWS instead of FULL_ROWS. */
export const FULL_ROWS = 1_000_000;
export const QUICK_ROWS = 100_000;
export const BASE_ROWS = 1_000;
/** The targets. */
export const TABLE_RATIO_TARGET = 0.9;
export const PURGE_SECONDS_TARGET = 10;
export const PURGE_P99_TARGET_MS = 50;
export const RSS_RATIO_TARGET = 1.2;

export interface ScaleOptions {
  /** Sessions in the big table, expired rows purged, sessions created. */
  rows: number;
  /** Sessions in the small table (target 1's reference). */
  baseRows: number;
  connections: number;
  /** Alternating rounds of A per table size. */
  rounds: number;
  /** Length of each measured A run (s). */
  seconds: number;
  /** Unmeasured A per server before its first round (s). */
  warmup: number;
  /** Unmeasured load right before each measured run (fraction of a run). */
  preRun: number;
  /** A without a purge, right before the purge (s). */
  baselineSeconds: number;
  /** New-visitor requests before the starting RSS is read. */
  rssWarmup: number;
  /** The command is stopped (and the target failed) after this long (s). */
  purgeCap: number;
  /** Where the SQLite files go (removed as each part ends). */
  dir: string;
  /** The project's root (the command runs there, as a user would run it). */
  root: string;
  /** Starts the db-sqlite bench server on this SQLite file (the caller tracks it for cleanup). */
  startServer: (file: string, nodeArgs?: string[]) => Promise<ServerProcess>;
  stopServer: (server: ServerProcess) => Promise<void>;
  /** The environment the command starts from (the caller's, without the app's own settings). */
  commandEnv: NodeJS.ProcessEnv;
  checks: Check[];
  log: (line: string) => void;
  interrupted: () => boolean;
}

export interface TableRun {
  round: number;
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number | null;
}

export interface TableSize {
  rows: number;
  fileMb: number;
  fillSeconds: number;
  runs: TableRun[];
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number | null;
}

/** A's responses in a window of time. */
export interface Window {
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  /** The longest time in which no response completed at all (ms): the server's longest stall, at least. */
  gap: number;
}

export interface PurgeResult {
  expired: number;
  live: number;
  fileMb: number;
  fillSeconds: number;
  /** The command on an empty table: its start-up and shut-down alone. */
  idleSeconds: number;
  /** Spawn to exit, as `time npm run clearsessions` would show. */
  wallSeconds: number;
  /** Progress lines the command printed (one per batch, or one for the whole purge). */
  progressLines: number;
  /** From its first progress line to its last (null with fewer than two). */
  deletingSeconds: number | null;
  removed: number;
  exit: string;
  timedOut: boolean;
  /** Rows in the table afterwards. */
  left: number | null;
  output: string;
  baseline: Window;
  during: Window;
  deleting: Window | null;
  errors: number;
}

export interface RssStep {
  created: number;
  seconds: number;
  rps: number;
  rssMb: number;
  /** V8's heap in use, and memory outside it that V8 knows of (buffers), from process.memoryUsage(). */
  heapMb: number;
  externalMb: number;
}

export interface RssResult {
  warmup: number;
  beforeWarmupMb: number;
  startMb: number;
  startHeapMb: number;
  endMb: number;
  peakMb: number | null;
  /** After the end's figures were read: a full collection, then V8's heap in use and the RSS. */
  heapAfterGcMb: number;
  rssAfterGcMb: number;
  ratio: number;
  created: number;
  seconds: number;
  steps: RssStep[];
  tableRows: number | null;
  non2xx: number;
}

export interface ScaleResult {
  rows: number;
  baseRows: number;
  quick: boolean;
  connections: number;
  minutes: number;
  table?: {
    rounds: number;
    seconds: number;
    small: TableSize;
    large: TableSize;
    ratio: number;
    cpuRatio: number | null;
  };
  purge?: PurgeResult;
  rss?: RssResult;
  errors: string[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** How long A goes on after the command exits (the requests it held up are answered meanwhile). */
const AFTER_COMMAND_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mb = (file: string) =>
  ["", "-wal"].reduce((sum, suffix) => sum + (existsSync(file + suffix) ? statSync(file + suffix).size : 0), 0) /
  2 ** 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function removeDatabase(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
}

/** `{"visits": 1}` as the db engine stores it, through the engine's own encode (and read back). */
async function encodedSession(): Promise<{ text: string; cookieName: string }> {
  const settings = resolveSessionSettings({ SECRET_KEY: BENCH_SECRET, SESSION_ENGINE: "db" });
  const database = openSqlite(":memory:");
  await migrateToLatest(database.db);
  const engine = await createSessionEngine(settings, {
    db: database.db,
    dateValue: database.dateValue,
    ...(database.sqlite ? { sqlite: database.sqlite } : {}),
  });
  try {
    const session = engine.open(null);
    const text = session.encode({ visits: 1 });
    if (session.decode(text).visits !== 1) throw new Error("the engine did not read back the data it encoded");
    return { text, cookieName: settings.SESSION_COOKIE_NAME };
  } finally {
    await engine.close();
    await database.db.destroy();
  }
}

interface FillPlan {
  /** Rows already expired (the oldest: inserted first). */
  expired: number;
  /** Live rows (expiring from an hour to two weeks from now). */
  live: number;
  /** Live rows, at random places among them, whose cookies are returned (A's returning visitors). */
  visitors: number;
  data: string;
  cookieName: string;
}

/**
 * Creates the file (migrated as the app does, WAL) and fills it in one transaction of prepared
 * INSERTs. expire_date grows with the insertion order, as in a table that filled over two weeks.
 */
async function fill(file: string, plan: FillPlan): Promise<{ cookies: string[]; seconds: number }> {
  const started = performance.now();
  const opened = openSqlite(file);
  await migrateToLatest(opened.db);
  await opened.db.destroy();
  const sqlite = new SQLite(file);
  const cookies: string[] = [];
  try {
    sqlite.pragma("journal_mode = WAL");
    // A throwaway bench file: no fsync, and a page cache that holds the indexes being built.
    sqlite.pragma("synchronous = OFF");
    sqlite.pragma("cache_size = -262144");
    const insert = sqlite.prepare("INSERT INTO sessions (session_key, session_data, expire_date) VALUES (?, ?, ?)");
    const visitors = new Set<number>();
    while (visitors.size < Math.min(plan.visitors, plan.live)) visitors.add(Math.floor(Math.random() * plan.live));
    const now = Date.now();
    sqlite.transaction(() => {
      for (let i = 0; i < plan.expired; i++) {
        insert.run(
          generateSessionKey(),
          plan.data,
          toSqliteDatetime(now - 14 * DAY + Math.floor((i / plan.expired) * (14 * DAY - MINUTE))),
        );
      }
      for (let i = 0; i < plan.live; i++) {
        const key = generateSessionKey();
        if (visitors.has(i)) cookies.push(`${plan.cookieName}=${key}`);
        insert.run(key, plan.data, toSqliteDatetime(now + HOUR + Math.floor((i / plan.live) * (14 * DAY - HOUR))));
      }
    })();
    sqlite.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    sqlite.close();
  }
  return { cookies, seconds: (performance.now() - started) / 1000 };
}

/**
 * Stats of the requests SENT in [from, to] (a response's completion time less its latency), so a
 * request the purge held up counts even when its answer came after the command had exited. `gap`
 * is the longest time, from `from` to the last of those answers, in which no response at all
 * (of any request) completed.
 */
function windowOf(at: number[], ms: number[], status: number[], from: number, to: number): Window {
  const latencies: number[] = [];
  let non2xx = 0;
  let lastDone = from;
  for (let i = 0; i < at.length; i++) {
    const sent = at[i]! - ms[i]!;
    if (sent < from || sent > to) continue;
    latencies.push(ms[i]!);
    lastDone = Math.max(lastDone, at[i]!);
    if (status[i]! < 200 || status[i]! >= 300) non2xx++;
  }
  // Responses are recorded in completion order.
  let previous = from;
  let gap = 0;
  for (let i = 0; i < at.length && previous < lastDone; i++) {
    if (at[i]! < from) continue;
    gap = Math.max(gap, Math.min(at[i]!, lastDone) - previous);
    previous = at[i]!;
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! : Number.NaN;
  const seconds = (to - from) / 1000;
  return {
    seconds,
    requests: latencies.length,
    rps: latencies.length / seconds,
    p50: q(0.5),
    p99: q(0.99),
    max: latencies.at(-1) ?? Number.NaN,
    non2xx,
    gap,
  };
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const started = performance.now();
  const result: ScaleResult = {
    rows: o.rows,
    baseRows: o.baseRows,
    quick: o.rows !== FULL_ROWS,
    connections: o.connections,
    minutes: 0,
    errors: [],
  };
  const { text: data, cookieName } = await encodedSession();
  const parts: [string, () => Promise<void>][] = [
    ["rows in the table", async () => void (result.table = await tableSize(o, data, cookieName))],
    ["clearsessions", async () => void (result.purge = await purge(o, data, cookieName))],
    ["memory", async () => void (result.rss = await memory(o))],
  ];
  for (const [name, part] of parts) {
    if (o.interrupted()) break;
    try {
      await part();
    } catch (error) {
      if (o.interrupted()) break;
      const message = `scale, ${name}: ${(error as Error).message.split("\n").join(" / ")}`;
      result.errors.push(message);
      o.log(`!!! ${message}`);
    }
  }
  result.minutes = (performance.now() - started) / 60_000;
  return result;
}

// ---- 1. rows in the table ---------------------------------------------------------------

async function measureA(
  o: ScaleOptions,
  server: ServerProcess,
  cookies: string[],
  guess: number,
  label: string,
  round: number,
): Promise<TableRun> {
  const url = server.url + PATHS.A;
  const before = await server.inspect({ cookies });
  const start = await server.settled();
  const pre = await fire({
    url,
    connections: o.connections,
    amount: Math.max(o.connections * 10, Math.round(guess * o.preRun)),
    cookies,
  });
  const s0 = await server.settled(true);
  const cpu0 = server.cpuMs();
  const load = await fire({ url, connections: o.connections, amount: Math.round(pre.rps * o.seconds), cookies });
  const s1 = await server.settled();
  const cpu1 = server.cpuMs();
  const after = await server.inspect({ cookies });
  const served = s1.responses - s0.responses;
  const all2xx = s1.responses2xx - start.responses2xx;
  const grew = (after?.visits ?? 0) - (before?.visits ?? 0);
  const check = (ok: boolean, what: string, detail: string) =>
    o.checks.push({
      server: "db-sqlite",
      scenario: "A",
      round,
      kind: "validity",
      ok,
      what: `scale, ${label}: ${what}`,
      detail,
    });
  check(
    load.non2xx === 0 && load.errors === 0 && load.timeouts === 0 && s1.responses2xx - s0.responses2xx === served,
    "every response is 2xx",
    `${load.non2xx} non-2xx, ${load.errors} errors, ${load.timeouts} timeouts`,
  );
  check(
    s1.distinctCookies === o.connections,
    `${o.connections} distinct sessions (one per connection)`,
    `the server saw ${s1.distinctCookies}`,
  );
  check(
    grew === all2xx && !after?.missing,
    "the counters grew by the number of 2xx",
    `grew by ${grew}, ${all2xx} 2xx, ${after?.missing ?? "?"} sessions missing`,
  );
  const cpuUs = cpu0 === null || cpu1 === null || served === 0 ? null : ((cpu1 - cpu0) * 1000) / served;
  return { round, rps: load.rps, p50: load.p50, p99: load.p99, cpuUs };
}

async function tableSize(
  o: ScaleOptions,
  data: string,
  cookieName: string,
): Promise<NonNullable<ScaleResult["table"]>> {
  const sizes = [o.baseRows, o.rows];
  const files = sizes.map((n) => path.join(o.dir, `scale-${n}.sqlite3`));
  const servers: ServerProcess[] = [];
  try {
    const filled: { cookies: string[]; seconds: number; mb: number }[] = [];
    for (const [i, n] of sizes.entries()) {
      const f = await fill(files[i]!, { expired: 0, live: n, visitors: o.connections, data, cookieName });
      filled.push({ ...f, mb: mb(files[i]!) });
      o.log(
        `scale: filled a table with ${fmt(n)} live sessions in ${f.seconds.toFixed(1)} s (${filled[i]!.mb.toFixed(0)} MB)`,
      );
    }
    for (const file of files) servers.push(await o.startServer(file));
    const guess: number[] = [];
    for (const [i, server] of servers.entries()) {
      const warm = await fire({
        url: server.url + PATHS.A,
        connections: o.connections,
        seconds: o.warmup,
        cookies: filled[i]!.cookies,
      });
      guess.push(warm.rps);
    }
    const runs: TableRun[][] = sizes.map(() => []);
    for (let round = 0; round < o.rounds; round++) {
      // Alternating which goes first, so neither always runs right after the other.
      for (const i of round % 2 ? [1, 0] : [0, 1]) {
        if (o.interrupted()) throw new Error("interrupted");
        const label = `${fmt(sizes[i]!)} sessions in the table`;
        const run = await measureA(o, servers[i]!, filled[i]!.cookies, guess[i]!, label, round);
        guess[i] = run.rps;
        runs[i]!.push(run);
        o.log(
          `scale: round ${round + 1}/${o.rounds} A with ${fmt(sizes[i]!).padStart(9)} sessions ${String(Math.round(run.rps)).padStart(6)} req/s  p50 ${run.p50.toFixed(1).padStart(5)}  p99 ${run.p99.toFixed(1).padStart(6)} ms  CPU ${run.cpuUs?.toFixed(0) ?? "n/a"} µs/req`,
        );
      }
    }
    const summary = (i: number): TableSize => {
      const mine = runs[i]!;
      const cpu = mine.map((r) => r.cpuUs).filter((v): v is number => v !== null);
      return {
        rows: sizes[i]!,
        fileMb: filled[i]!.mb,
        fillSeconds: filled[i]!.seconds,
        runs: mine,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        cpuUs: cpu.length ? median(cpu) : null,
      };
    };
    const small = summary(0);
    const large = summary(1);
    return {
      rounds: o.rounds,
      seconds: o.seconds,
      small,
      large,
      ratio: large.rps / small.rps,
      cpuRatio: small.cpuUs && large.cpuUs !== null ? large.cpuUs / small.cpuUs : null,
    };
  } finally {
    for (const server of servers) await o.stopServer(server);
    files.forEach(removeDatabase);
  }
}

// ---- 2. clearsessions under A ------------------------------------------------------------

interface CommandRun {
  started: number;
  exited: number;
  firstBatch: number | null;
  lastBatch: number | null;
  progressLines: number;
  removed: number;
  exit: string;
  timedOut: boolean;
  output: string;
}

/** `node --import tsx src/cli/clearsessions.ts` on `file`, as a user runs it (SQLite, db engine). */
function clearsessions(o: ScaleOptions, file: string): Promise<CommandRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["--conditions=fastify-django-sessions-source", "--import", "tsx", "src/cli/clearsessions.ts"],
    {
      cwd: o.root,
      env: {
        ...o.commandEnv,
        NODE_ENV: "production",
        SECRET_KEY: BENCH_SECRET,
        SESSION_ENGINE: "db",
        DATABASE_PATH: file,
        DATABASE_URL: "",
        REDIS_URL: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  adopt(child);
  let firstBatch: number | null = null;
  let lastBatch: number | null = null;
  let progressLines = 0;
  let exited = 0;
  let removed = 0;
  let timedOut = false;
  let output = "";
  let partial = "";
  const lines = (chunk: string) => {
    const now = performance.now();
    const all = (partial + chunk).split("\n");
    partial = all.pop()!;
    for (const line of all) {
      const progress = /^\s*(\d+) removed so far/.exec(line);
      if (progress) {
        firstBatch ??= now;
        lastBatch = now;
        progressLines++;
        removed = Number(progress[1]);
        continue;
      }
      const done = /^Removed (\d+) expired session/.exec(line);
      if (done) removed = Number(done[1]);
      output += line + "\n";
    }
  };
  child.stdout.setEncoding("utf8").on("data", lines);
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
  }, o.purgeCap * 1000);
  return new Promise((resolve, reject) => {
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", () => (exited = performance.now()));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (partial) lines("\n");
      resolve({
        started,
        exited: exited || performance.now(),
        firstBatch,
        lastBatch,
        progressLines,
        removed,
        exit: signal ?? String(code),
        timedOut,
        output: output.trim(),
      });
    });
  });
}

async function purge(o: ScaleOptions, data: string, cookieName: string): Promise<PurgeResult> {
  // The command's own start-up and shut-down: once on a migrated, empty table.
  const empty = path.join(o.dir, "scale-empty.sqlite3");
  const idleSeconds = await (async () => {
    try {
      await fill(empty, { expired: 0, live: 0, visitors: 0, data, cookieName });
      const idle = await clearsessions(o, empty);
      if (idle.exit !== "0") throw new Error(`clearsessions on an empty table exited ${idle.exit}: ${idle.output}`);
      return (idle.exited - idle.started) / 1000;
    } finally {
      removeDatabase(empty);
    }
  })();
  o.log(`scale: clearsessions on an empty table (start-up and shut-down alone): ${idleSeconds.toFixed(2)} s`);

  const file = path.join(o.dir, "scale-purge.sqlite3");
  let server: ServerProcess | undefined;
  try {
    const filled = await fill(file, { expired: o.rows, live: o.baseRows, visitors: o.connections, data, cookieName });
    const fileMb = mb(file);
    o.log(
      `scale: filled a table with ${fmt(o.rows)} expired and ${fmt(o.baseRows)} live sessions in ${filled.seconds.toFixed(1)} s (${fileMb.toFixed(0)} MB)`,
    );
    server = await o.startServer(file);
    const url = server.url + PATHS.A;
    const cookies = filled.cookies;
    await fire({ url, connections: o.connections, seconds: o.warmup, cookies });

    const at: number[] = [];
    const ms: number[] = [];
    const status: number[] = [];
    const record = (s: number, t: number) => {
      at.push(performance.now());
      ms.push(t);
      status.push(s);
    };
    const b0 = performance.now();
    await fire({ url, connections: o.connections, seconds: o.baselineSeconds, cookies, onResponse: record });
    const baseline = windowOf(at, ms, status, b0, performance.now());
    o.log(
      `scale: A without a purge: ${Math.round(baseline.rps)} req/s  p50 ${baseline.p50.toFixed(1)}  p99 ${baseline.p99.toFixed(1)}  max ${baseline.max.toFixed(1)} ms`,
    );
    at.length = ms.length = status.length = 0;

    let stopLoad!: () => void;
    const stop = new Promise<void>((resolve) => (stopLoad = resolve));
    const load = fire({ url, connections: o.connections, seconds: o.purgeCap + 60, cookies, stop, onResponse: record });
    // A at full speed before the command starts.
    await sleep(500);
    let run: CommandRun;
    try {
      run = await clearsessions(o, file);
      // The load goes on a while, so the requests sent while the command ran get their answers.
      await sleep(AFTER_COMMAND_MS);
    } finally {
      stopLoad();
    }
    const loaded = await load;
    const during = windowOf(at, ms, status, run.started, run.exited);
    const deleting = run.progressLines < 2 ? null : windowOf(at, ms, status, run.firstBatch!, run.lastBatch!);
    const wallSeconds = (run.exited - run.started) / 1000;
    o.log(
      `scale: clearsessions removed ${fmt(run.removed)} of ${fmt(o.rows)} expired rows in ${wallSeconds.toFixed(1)} s (exit ${run.exit}${run.timedOut ? `, stopped after ${o.purgeCap} s` : ""}); ` +
        `A meanwhile: ${Math.round(during.rps)} req/s  p50 ${during.p50.toFixed(1)}  p99 ${during.p99.toFixed(1)}  max ${during.max.toFixed(1)} ms, ` +
        `longest time without a response ${during.gap.toFixed(0)} ms, ${during.non2xx} non-2xx`,
    );
    await server.settled();
    const left = (await server.inspect({ count: true }))?.sessions ?? null;
    o.checks.push({
      server: "db-sqlite",
      scenario: "A",
      round: 0,
      kind: "expectation",
      ok: run.exit === "0" && run.removed === o.rows && left === o.baseRows,
      what: "scale, clearsessions: every expired row removed, every live one kept",
      detail: `exit ${run.exit}, ${run.removed} removed of ${o.rows}, ${left ?? "?"} rows left of ${o.baseRows} live`,
    });
    o.checks.push({
      server: "db-sqlite",
      scenario: "A",
      round: 0,
      kind: "expectation",
      ok: during.non2xx === 0 && loaded.errors === 0 && loaded.timeouts === 0,
      what: "scale, clearsessions: A answered 2xx throughout the purge",
      detail: `${during.non2xx} non-2xx while it ran; ${loaded.errors} errors and ${loaded.timeouts} timeouts over the whole load`,
    });
    return {
      expired: o.rows,
      live: o.baseRows,
      fileMb,
      fillSeconds: filled.seconds,
      idleSeconds,
      wallSeconds,
      progressLines: run.progressLines,
      deletingSeconds: run.progressLines < 2 ? null : (run.lastBatch! - run.firstBatch!) / 1000,
      removed: run.removed,
      exit: run.exit,
      timedOut: run.timedOut,
      left,
      output: run.output,
      baseline,
      during,
      deleting,
      errors: loaded.errors + loaded.timeouts,
    };
  } finally {
    if (server) await o.stopServer(server);
    removeDatabase(file);
  }
}

// ---- 3. memory ---------------------------------------------------------------------------

async function memory(o: ScaleOptions): Promise<RssResult> {
  const file = path.join(o.dir, "scale-rss.sqlite3");
  let server: ServerProcess | undefined;
  try {
    // --expose-gc: once the figures are read, a full collection shows what the heap really holds.
    server = await o.startServer(file, ["--expose-gc"]);
    const url = server.url + PATHS.B;
    const kb = () => server!.rssKb() ?? Number.NaN;
    await server.settled();
    const beforeWarmupMb = kb() / 1024;
    const warm = await fire({ url, connections: o.connections, amount: o.rssWarmup });
    let non2xx = warm.non2xx;
    const s0 = await server.settled();
    const startMb = kb() / 1024;
    const startHeapMb = (await server.memory()).heapUsed / 2 ** 20;
    o.log(
      `scale: RSS ${beforeWarmupMb.toFixed(0)} MB at start, ${startMb.toFixed(0)} MB after ${fmt(o.rssWarmup)} new-visitor requests of warm-up`,
    );
    const steps: RssStep[] = [];
    const STEPS = 10;
    const t0 = performance.now();
    let sent = 0;
    for (let i = 0; i < STEPS && sent < o.rows; i++) {
      if (o.interrupted()) throw new Error("interrupted");
      const amount = i === STEPS - 1 ? o.rows - sent : Math.min(Math.ceil(o.rows / STEPS), o.rows - sent);
      const t = performance.now();
      const load = await fire({ url, connections: o.connections, amount });
      sent += load.requests;
      non2xx += load.non2xx + load.errors + load.timeouts;
      const s = await server.settled();
      const rssMb = kb() / 1024;
      const used = await server.memory();
      const step: RssStep = {
        created: s.responses2xx - s0.responses2xx,
        seconds: (performance.now() - t) / 1000,
        rps: load.rps,
        rssMb,
        heapMb: used.heapUsed / 2 ** 20,
        externalMb: used.external / 2 ** 20,
      };
      steps.push(step);
      o.log(
        `scale: ${fmt(step.created).padStart(9)} sessions created: RSS ${step.rssMb.toFixed(0)} MB (${(step.rssMb / startMb).toFixed(2)}×), ` +
          `V8 heap ${step.heapMb.toFixed(0)} MB, ${Math.round(step.rps)} req/s`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const s1 = await server.settled();
    const endMb = kb() / 1024;
    const peak = server.statusKb("VmHWM");
    const collected = await server.memory(true);
    o.log(
      `scale: after a full garbage collection: V8 heap ${(collected.heapUsed / 2 ** 20).toFixed(0)} MB in use, RSS ${(collected.rss / 2 ** 20).toFixed(0)} MB`,
    );
    const tableRows = (await server.inspect({ count: true }))?.sessions ?? null;
    const created = s1.responses2xx - s0.responses2xx;
    o.checks.push({
      server: "db-sqlite",
      scenario: "B",
      round: 0,
      kind: "validity",
      ok: non2xx === 0 && created === o.rows && tableRows === s1.responses2xx,
      what: "scale, memory: one stored session per new-visitor request",
      detail: `${created} 2xx of ${o.rows} sent (${non2xx} non-2xx or errors); ${tableRows ?? "?"} rows, ${s1.responses2xx} 2xx since the start`,
    });
    return {
      warmup: o.rssWarmup,
      beforeWarmupMb,
      startMb,
      startHeapMb,
      endMb,
      peakMb: peak === null ? null : peak / 1024,
      heapAfterGcMb: collected.heapUsed / 2 ** 20,
      rssAfterGcMb: collected.rss / 2 ** 20,
      ratio: endMb / startMb,
      created,
      seconds,
      steps,
      tableRows,
      non2xx,
    };
  } finally {
    if (server) await o.stopServer(server);
    removeDatabase(file);
  }
}
