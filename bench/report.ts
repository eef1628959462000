/** Medians, ratios to bare, the targets, RESULTS.md and the SVG chart. */
import { SCENARIO_INFO, SCENARIOS, SERVERS, type Scenario, type ServerSpec } from "./catalogue.js";
import {
  FULL_ROWS,
  PURGE_P99_TARGET_MS,
  PURGE_SECONDS_TARGET,
  RSS_RATIO_TARGET,
  TABLE_RATIO_TARGET,
  type ScaleResult,
  type Window,
} from "./scale.js";

/** One measured run of one server in one scenario. */
export interface Sample {
  server: string;
  scenario: Scenario;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  rssMb: number | null;
  /** CPU the load generator used during the run, in % of one core. */
  generatorCpu: number;
  /** Server CPU time (user + system) per answered request, in µs. */
  cpuUs: number | null;
  /** Requests the server answered in the window (the denominator of every per-request figure). */
  served: number;
  /** Counted store operations in the window, by counter (sqlite.read, redis.write, ...). */
  ops: Record<string, number>;
  setCookies: number;
}

export interface Check {
  server: string;
  scenario: Scenario;
  round: number;
  /** validity: the run measured what it claims; expectation: what the scenario implies of the store. */
  kind: "validity" | "expectation";
  ok: boolean;
  what: string;
  detail: string;
}

export interface Row {
  spec: ServerSpec;
  scenario: Scenario;
  n: number;
  rps: number;
  rpsMin: number;
  rpsMax: number;
  pctBare: number | null;
  cpuUs: number | null;
  /** CPU per request as a multiple of bare's: the comparison least shaken by a busy machine. */
  cpuXBare: number | null;
  p50: number;
  p99: number;
  p99xBare: number | null;
  rssMb: number | null;
  reads: number;
  writes: number;
  /** The most writes any round saw (C's "0 writes" is judged on this, not the median). */
  maxWrites: number;
  maxReads: number;
  setCookies: number;
  breakdown: string;
  failedChecks: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const sumKind = (ops: Record<string, number>, kind: string) =>
  Object.entries(ops).reduce((sum, [name, n]) => (name.endsWith(`.${kind}`) ? sum + n : sum), 0);

export function aggregate(samples: Sample[], checks: Check[]): Row[] {
  const rows: Row[] = [];
  for (const scenario of SCENARIOS) {
    const bare = samples.filter((s) => s.server === "bare" && s.scenario === scenario);
    const bareRps = bare.length ? median(bare.map((s) => s.rps)) : null;
    const bareP99 = bare.length ? median(bare.map((s) => s.p99)) : null;
    const bareCpuValues = bare.map((s) => s.cpuUs).filter((v): v is number => v !== null);
    const bareCpu = bareCpuValues.length ? median(bareCpuValues) : null;
    for (const spec of SERVERS) {
      const mine = samples.filter((s) => s.server === spec.id && s.scenario === scenario);
      if (mine.length === 0) continue;
      const perReq = (s: Sample, n: number) => (s.served ? n / s.served : 0);
      const rps = median(mine.map((s) => s.rps));
      const p99 = median(mine.map((s) => s.p99));
      const rss = mine.map((s) => s.rssMb).filter((v): v is number => v !== null);
      const cpuValues = mine.map((s) => s.cpuUs).filter((v): v is number => v !== null);
      const cpuUs = cpuValues.length ? median(cpuValues) : null;
      const names = [...new Set(mine.flatMap((s) => Object.keys(s.ops)))].filter((n) => !n.endsWith(".other")).sort();
      const breakdown = names
        .map((name) => `${name} ${median(mine.map((s) => perReq(s, s.ops[name] ?? 0))).toFixed(2)}`)
        .join(", ");
      rows.push({
        spec,
        scenario,
        n: mine.length,
        rps,
        rpsMin: Math.min(...mine.map((s) => s.rps)),
        rpsMax: Math.max(...mine.map((s) => s.rps)),
        pctBare: bareRps ? (100 * rps) / bareRps : null,
        cpuUs,
        cpuXBare: cpuUs !== null && bareCpu ? cpuUs / bareCpu : null,
        p50: median(mine.map((s) => s.p50)),
        p99,
        p99xBare: bareP99 ? p99 / bareP99 : null,
        rssMb: rss.length ? median(rss) : null,
        reads: median(mine.map((s) => perReq(s, sumKind(s.ops, "read")))),
        writes: median(mine.map((s) => perReq(s, sumKind(s.ops, "write")))),
        maxWrites: Math.max(...mine.map((s) => sumKind(s.ops, "write"))),
        maxReads: Math.max(...mine.map((s) => sumKind(s.ops, "read"))),
        setCookies: median(mine.map((s) => perReq(s, s.setCookies))),
        breakdown,
        failedChecks: checks.filter((c) => c.server === spec.id && c.scenario === scenario && !c.ok).length,
      });
    }
  }
  return rows;
}

export interface Target {
  target: string;
  measured: string;
  result: "PASS" | "FAIL" | "n/a";
}

const pct = (v: number | null) => (v === null ? "n/a" : `${v.toFixed(1)} %`);
const num = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString("en-US") : "n/a");

export function targets(rows: Row[]): Target[] {
  const row = (id: string, scenario: Scenario) => rows.find((r) => r.spec.id === id && r.scenario === scenario);
  const missing = (what: string): Target => ({ target: what, measured: "not measured in this run", result: "n/a" });
  const verdict = (ok: boolean): Target["result"] => (ok ? "PASS" : "FAIL");
  const out: Target[] = [];

  const a = row("db-sqlite", "A");
  const aPeer = row("fastify-session-memory", "A");
  out.push(
    a?.pctBare != null
      ? { target: "A on SQLite ≥ 50 % of bare", measured: pct(a.pctBare), result: verdict(a.pctBare >= 50) }
      : missing("A on SQLite ≥ 50 % of bare"),
  );
  out.push(
    a && aPeer
      ? {
          target: "A on SQLite above @fastify/session's in-memory store",
          measured: `${num(a.rps)} vs ${num(aPeer.rps)} req/s (${((100 * a.rps) / aPeer.rps).toFixed(0)} %)`,
          result: verdict(a.rps > aPeer.rps),
        }
      : missing("A on SQLite above @fastify/session's in-memory store"),
  );
  const b = row("db-sqlite", "B");
  out.push(
    b?.pctBare != null
      ? { target: "B on SQLite ≥ 50 % of bare", measured: pct(b.pctBare), result: verdict(b.pctBare >= 50) }
      : missing("B on SQLite ≥ 50 % of bare"),
  );
  const c = row("db-sqlite", "C");
  out.push(
    c?.pctBare != null
      ? {
          target: "C on SQLite ≥ 75 % of bare with 0 writes",
          measured: `${pct(c.pctBare)}, ${c.maxWrites} writes in the worst round`,
          result: verdict(c.pctBare >= 75 && c.maxWrites === 0),
        }
      : missing("C on SQLite ≥ 75 % of bare with 0 writes"),
  );
  const d = row("db-sqlite", "D");
  out.push(
    d?.pctBare != null
      ? {
          target: "D (db on SQLite) ≥ 95 % of bare with 0 store reads or writes",
          measured: `${pct(d.pctBare)}, ${d.reads.toFixed(2)} reads and ${d.writes.toFixed(2)} writes per request`,
          result: verdict(d.pctBare >= 95 && d.maxReads === 0 && d.maxWrites === 0),
        }
      : missing("D (db on SQLite) ≥ 95 % of bare with 0 store reads or writes"),
  );
  const dOurs = rows.filter((r) => r.scenario === "D" && r.spec.group === "ours" && r.pctBare !== null);
  if (dOurs.length) {
    const failing = dOurs.filter((r) => !(r.pctBare! >= 95 && r.maxReads === 0 && r.maxWrites === 0));
    const worst = [...dOurs].sort((x, y) => x.pctBare! - y.pctBare!)[0]!;
    out.push({
      target: "D on every engine of ours ≥ 95 % of bare with 0 store reads or writes",
      measured:
        `lowest ${pct(worst.pctBare)} (${worst.spec.label}); ` +
        (failing.length
          ? `short: ${failing.map((r) => `${r.spec.label} ${pct(r.pctBare)}, ${r.reads.toFixed(2)} r/req`).join("; ")}`
          : "all met"),
      result: verdict(failing.length === 0),
    });
  } else out.push(missing("D on every engine of ours ≥ 95 % of bare with 0 store reads or writes"));
  const sc = row("signed_cookies", "A");
  const ss = row("secure-session", "A");
  out.push(
    sc && ss
      ? {
          target: "signed_cookies A at least level with @fastify/secure-session",
          measured: `${num(sc.rps)} vs ${num(ss.rps)} req/s (${((100 * sc.rps) / ss.rps).toFixed(0)} %)`,
          result: verdict(sc.rps >= ss.rps),
        }
      : missing("signed_cookies A at least level with @fastify/secure-session"),
  );
  const redis = row("cache-redis", "A");
  const connect = row("express-session-redis", "A");
  out.push(
    redis && connect
      ? {
          target: "A on Redis ≥ 3× express-session + connect-redis",
          measured: `${num(redis.rps)} vs ${num(connect.rps)} req/s (${(redis.rps / connect.rps).toFixed(2)}×)`,
          result: verdict(redis.rps >= 3 * connect.rps),
        }
      : missing("A on Redis ≥ 3× express-session + connect-redis"),
  );
  out.push(
    a?.p99xBare != null
      ? {
          target: "p99 of A on SQLite ≤ 2× bare's p99",
          measured: `${a.p99.toFixed(1)} ms vs ${(a.p99 / a.p99xBare).toFixed(1)} ms (${a.p99xBare.toFixed(2)}×)`,
          result: verdict(a.p99xBare <= 2),
        }
      : missing("p99 of A on SQLite ≤ 2× bare's p99"),
  );
  return out;
}

/**
 * The scale targets (bench/scale.ts). `scale` null: not run, for the reason `why`. A run with
 * fewer rows than the issue's 1,000,000 (--quick) says so in each target.
 */
export function scaleTargets(scale: ScaleResult | null, why: string): Target[] {
  const size = (n: number) => n.toLocaleString("en-US");
  const rows = scale?.rows ?? FULL_ROWS;
  const smaller = rows !== FULL_ROWS ? ` (${size(rows)} in this run, not ${size(FULL_ROWS)})` : "";
  const names = [
    `A on SQLite with ${size(rows)} sessions in the table ≥ ${Math.round(TABLE_RATIO_TARGET * 100)} % of its req/s with ${size(scale?.baseRows ?? 1000)}${smaller}`,
    `clearsessions removes ${size(rows)} expired rows in < ${PURGE_SECONDS_TARGET} s while A's p99 stays < ${PURGE_P99_TARGET_MS} ms${smaller}`,
    `Server RSS after creating ${size(rows)} sessions (B) ≤ ${RSS_RATIO_TARGET}× its RSS after warm-up${smaller}`,
  ] as const;
  const missing = (target: string): Target => ({
    target,
    measured: scale ? "not measured: see Scale" : `not measured in this run (${why})`,
    result: "n/a",
  });
  const verdict = (ok: boolean): Target["result"] => (ok ? "PASS" : "FAIL");
  const out: Target[] = [];
  const t = scale?.table;
  out.push(
    t
      ? {
          target: names[0],
          measured:
            `${num(t.large.rps)} vs ${num(t.small.rps)} req/s (${(100 * t.ratio).toFixed(1)} %); ` +
            `CPU ${t.small.cpuUs?.toFixed(0) ?? "n/a"} → ${t.large.cpuUs?.toFixed(0) ?? "n/a"} µs/req`,
          result: verdict(t.ratio >= TABLE_RATIO_TARGET),
        }
      : missing(names[0]),
  );
  const p = scale?.purge;
  out.push(
    p
      ? {
          target: names[1],
          measured:
            `${p.wallSeconds.toFixed(1)} s for ${num(p.removed)} rows${p.timedOut ? " (stopped: did not finish)" : ""}; ` +
            `A p99 ${p.during.p99.toFixed(1)} ms during it (p50 ${p.during.p50.toFixed(1)}, max ${p.during.max.toFixed(0)} ms; ` +
            `p99 ${p.baseline.p99.toFixed(1)} ms without a purge)`,
          result: verdict(
            !p.timedOut &&
              p.removed === p.expired &&
              p.wallSeconds < PURGE_SECONDS_TARGET &&
              p.during.p99 < PURGE_P99_TARGET_MS,
          ),
        }
      : missing(names[1]),
  );
  const r = scale?.rss;
  out.push(
    r
      ? {
          target: names[2],
          measured: `${r.startMb.toFixed(0)} → ${r.endMb.toFixed(0)} MB (${r.ratio.toFixed(2)}×) after ${num(r.created)} sessions in ${r.seconds.toFixed(0)} s`,
          result: verdict(r.created === rows && r.ratio <= RSS_RATIO_TARGET),
        }
      : missing(names[2]),
  );
  return out;
}

export interface RunInfo {
  date: string;
  machine: [string, string][];
  method: string[];
  skipped: string[];
  failures: string[];
  loadBefore: string;
  loadAfter: string;
  partial: string | null;
  /** The scale part's figures; null when it did not run, for the reason scaleSkipped. */
  scale: ScaleResult | null;
  scaleSkipped: string;
  /** bench/CHANGES.md as written by hand (null: there is no such file). */
  changes: string | null;
}

function table(header: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...body.map(line)].join("\n");
}

export function markdown(info: RunInfo, rows: Row[], checks: Check[], svgName: string): string {
  const out: string[] = [];
  out.push("# Benchmark results", "");
  out.push(
    `Written by \`npm run bench\` on ${info.date}. **Measured on a shared machine that was busy with other work** ` +
      `(load average ${info.loadBefore} at the start, ${info.loadAfter} at the end, on ${info.machine.find(([k]) => k === "Cores")?.[1] ?? "?"} cores): ` +
      "the figures are noisy; read differences under about 10 % as noise.",
    "",
  );
  if (info.partial) out.push(`**Partial run** (${info.partial}): not every server or scenario was measured.`, "");
  out.push("## Machine", "", table(["", ""], info.machine), "");
  out.push("## How it was measured", "", ...info.method.map((m) => `- ${m}`), "");

  const all = [...targets(rows), ...scaleTargets(info.scale, info.scaleSkipped)];
  out.push(
    "## Targets",
    "",
    table(
      ["Target", "Measured", "Result"],
      all.map((t) => [t.target, t.measured, `**${t.result}**`]),
    ),
    "",
  );

  out.push("## What each change bought", "");
  out.push(info.changes === null ? "*(bench/CHANGES.md does not exist.)*" : info.changes.trim(), "");

  const failed = checks.filter((c) => !c.ok);
  out.push("## Checks", "");
  if (failed.length === 0) out.push(`All ${checks.length} checks passed.`, "");
  else {
    const validity = failed.filter((c) => c.kind === "validity");
    out.push(
      `**${failed.length} of ${checks.length} checks failed** ` +
        `(${validity.length} on the run's validity, ${failed.length - validity.length} on what the scenario implies of the store):`,
      "",
    );
    // One line per server, scenario and check, with the rounds it failed in.
    const grouped = new Map<string, Check[]>();
    for (const c of failed) {
      const key = `${c.server}\u0000${c.scenario}\u0000${c.what}`;
      grouped.set(key, [...(grouped.get(key) ?? []), c]);
    }
    for (const group of grouped.values()) {
      const c = group[0]!;
      const label = SERVERS.find((s) => s.id === c.server)?.label ?? c.server;
      out.push(
        `- ✗ ${c.kind === "validity" ? "VALIDITY" : "STORE"} — ${c.scenario}, ${label}: ${c.what} — ${group.map((g) => `round ${g.round + 1}: ${g.detail}`).join("; ")}`,
      );
    }
    out.push("");
  }

  if (rows.length) out.push("## Results", "", `![req/s as % of bare Fastify, per scenario and server](${svgName})`, "");
  if (rows.length)
    out.push(
      "Medians over the rounds; *(min–max)* is the spread of req/s over the rounds, a measure of how noisy the machine was. " +
        "*% of bare*, *CPU / bare* and *p99 / bare* compare with bare Fastify in the same scenario of the same run. " +
        "*CPU µs/req* is the server's own CPU time per request, which the neighbours' load hardly changes. " +
        "Store operations are counted in the server process and divided by the requests it served in the window; " +
        "*counted per request* names each store (sqlite, postgres, redis, memory: an in-process store). " +
        "*Set-Cookie* is the share of responses that set the session cookie. *✗* counts failed checks (see Checks).",
      "",
    );
  for (const scenario of SCENARIOS) {
    const mine = rows.filter((r) => r.scenario === scenario);
    if (mine.length === 0) continue;
    out.push(`### ${scenario} — ${SCENARIO_INFO[scenario].title}`, "");
    out.push(
      table(
        [
          "Server",
          "req/s",
          "(min–max)",
          "% of bare",
          "CPU µs/req",
          "CPU / bare",
          "p50 ms",
          "p99 ms",
          "p99 / bare",
          "RSS MB",
          "reads/req",
          "writes/req",
          "Set-Cookie",
          "counted per request",
          "✗",
        ],
        mine.map((r) => [
          r.spec.label,
          num(r.rps),
          r.n > 1 ? `${num(r.rpsMin)}–${num(r.rpsMax)}` : "",
          r.spec.bare ? "100 %" : pct(r.pctBare),
          r.cpuUs === null ? "n/a" : r.cpuUs.toFixed(0),
          r.cpuXBare === null ? "n/a" : `${r.cpuXBare.toFixed(2)}×`,
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          r.p99xBare === null ? "n/a" : `${r.p99xBare.toFixed(2)}×`,
          r.rssMb === null ? "n/a" : r.rssMb.toFixed(0),
          r.spec.bare ? "—" : r.reads.toFixed(2),
          r.spec.bare ? "—" : r.writes.toFixed(2),
          r.setCookies.toFixed(2),
          r.breakdown || (r.spec.clientSide ? "none (the cookie is the session)" : r.spec.bare ? "—" : "none"),
          r.failedChecks ? String(r.failedChecks) : "",
        ]),
      ),
      "",
    );
  }

  out.push(...scaleMarkdown(info.scale, info.scaleSkipped));

  if (info.skipped.length || info.failures.length) {
    out.push("## Not measured", "");
    for (const f of info.failures) out.push(`- **FAILED**: ${f}`);
    for (const s of info.skipped) out.push(`- ${s}`);
    out.push("");
  }
  out.push(
    "## Servers",
    "",
    "Each is a small file in `bench/servers/` on the same Fastify with the same routes (`/a` … `/e`).",
    "",
  );
  for (const spec of SERVERS) out.push(`- **${spec.label}** (\`${spec.id}\`): ${spec.description}`);
  out.push("");
  return out.join("\n");
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "n/a");

function windowRow(label: string, w: Window): string[] {
  return [
    label,
    w.seconds.toFixed(1),
    num(w.requests),
    num(w.rps),
    ms(w.p50),
    ms(w.p99),
    ms(w.max),
    ms(w.gap),
    String(w.non2xx),
  ];
}

/** The Scale section: what bench/scale.ts measured, part by part. */
export function scaleMarkdown(scale: ScaleResult | null, why: string): string[] {
  const out: string[] = ["## Scale", ""];
  if (!scale) return [...out, `Not run (${why}).`, ""];
  const size = (n: number) => n.toLocaleString("en-US");
  out.push(
    `This project's \`db\` engine on SQLite (the db-sqlite server) with ${size(scale.rows)} sessions` +
      (scale.rows !== FULL_ROWS
        ? ` (**${size(scale.rows)} instead of the targets' ${size(FULL_ROWS)}**: a --quick or --scale-rows run)`
        : "") +
      `; ${scale.connections} connections; the scale part took ${scale.minutes.toFixed(1)} min.`,
    "",
    "The tables of parts 1 and 2 were filled directly before their server started: one transaction of prepared INSERTs (better-sqlite3) into a file migrated as the app migrates it, " +
      "keys from `generateSessionKey()`, data `{\"visits\": 1}` as the engine encodes it (signed with the bench servers' SECRET_KEY), `expire_date` in Django's SQLite format. " +
      "The rows are laid out as in a table that filled over two weeks: `expire_date` grows with the insertion order (expired rows first, live ones expiring from an hour to two weeks ahead), keys random; " +
      `A's ${scale.connections} sessions are live rows at random places among the others.`,
    "",
  );
  const t = scale.table;
  if (t) {
    out.push(`### 1. Rows in the table: A with ${size(t.small.rows)} and with ${size(t.large.rows)} sessions`, "");
    out.push(
      `Two servers, each on its own file, measured in ${t.rounds} alternating rounds of about ${t.seconds} s (fixed request counts, checked as in the main runs). ` +
        `req/s with ${size(t.large.rows)} sessions is **${(100 * t.ratio).toFixed(1)} %** of req/s with ${size(t.small.rows)}` +
        (t.cpuRatio !== null
          ? `; the server's CPU per request is ${t.cpuRatio.toFixed(2)}× (the steadier figure on a busy machine).`
          : "."),
      "",
      table(
        [
          "Sessions in the table",
          "File MB",
          "Filled in s",
          "req/s (median)",
          "req/s per round",
          "p50 ms",
          "p99 ms",
          "CPU µs/req",
        ],
        [t.small, t.large].map((s) => [
          size(s.rows),
          s.fileMb.toFixed(0),
          s.fillSeconds.toFixed(1),
          num(s.rps),
          s.runs.map((r) => num(r.rps)).join(", "),
          ms(s.p50),
          ms(s.p99),
          s.cpuUs === null ? "n/a" : s.cpuUs.toFixed(0),
        ]),
      ),
      "",
    );
  }
  const p = scale.purge;
  if (p) {
    out.push(`### 2. clearsessions: ${size(p.expired)} expired rows removed while A runs`, "");
    out.push(
      `The real command, as a user runs it: \`node --import tsx src/cli/clearsessions.ts\` (no options) with \`DATABASE_PATH\` set to the running server's SQLite file and \`DATABASE_URL\` empty, ` +
        `started 0.5 s into an A load (${scale.connections} connections, as fast as the server answers) on a table of ${size(p.expired)} expired and ${size(p.live)} live sessions (${p.fileMb.toFixed(0)} MB, filled in ${p.fillSeconds.toFixed(1)} s). ` +
        "The load goes on for 2 s after the command exits. Each window counts the requests *sent* in it (whenever their answer came).",
      "",
      `- Wall time of the command (spawn to exit): **${p.wallSeconds.toFixed(1)} s**${p.timedOut ? " — **stopped**: it had not finished" : ""}; ` +
        `the same command on an empty table takes ${p.idleSeconds.toFixed(1)} s (Node, tsx and the app's start-up and shut-down).`,
      `- Progress lines: ${p.progressLines}` +
        (p.deletingSeconds === null
          ? p.progressLines === 1
            ? " (the purge was one step, reported once at its end)."
            : "."
          : `, ${p.deletingSeconds.toFixed(1)} s from the first to the last (one per batch).`),
      `- Rows removed: ${num(p.removed)} of ${num(p.expired)} (exit ${p.exit}); rows left: ${p.left === null ? "?" : num(p.left)} (${num(p.live)} live).`,
      "",

      table(
        [
          "A, " + scale.connections + " connections",
          "Window s",
          "Responses",
          "req/s",
          "p50 ms",
          "p99 ms",
          "max ms",
          "longest without a response, ms",
          "non-2xx",
        ],
        [
          windowRow("without a purge (just before)", p.baseline),
          windowRow("sent while the command ran (spawn to exit)", p.during),
          ...(p.deleting ? [windowRow("sent between its first and last progress lines", p.deleting)] : []),
        ],
      ),
      "",
      `*Longest without a response*: the longest time, from the window's start to the last answer to its requests, in which not one of the ${scale.connections} connections got an answer. A stall of the server shows as such a gap: ` +
        "for instance its event loop waiting in SQLite's busy handler (up to busy_timeout) while the command holds the database's write lock.",
      "",
    );
    if (p.output) out.push("The command's output (progress lines left out):", "", "```", p.output, "```", "");
  }
  const r = scale.rss;
  if (r) {
    out.push(`### 3. Memory: RSS while creating ${size(r.created)} sessions`, "");
    out.push(
      `A fresh server on an empty file: RSS ${r.beforeWarmupMb.toFixed(0)} MB once listening, **${r.startMb.toFixed(0)} MB** after ${size(r.warmup)} new-visitor requests of warm-up (the start). ` +
        `Then scenario B (${scale.connections} connections, no cookie: each request creates and saves a session) for ${size(r.created)} more requests in steps, ` +
        `RSS read from /proc after each: **${r.endMb.toFixed(0)} MB** at the end (${r.ratio.toFixed(2)}× the start), peak ${r.peakMb === null ? "n/a" : `${r.peakMb.toFixed(0)} MB`} (VmHWM). ` +
        `It took ${r.seconds.toFixed(0)} s (${num(r.created / r.seconds)} sessions/s); the table then held ${r.tableRows === null ? "?" : size(r.tableRows)} rows. ` +
        `Once those figures were read, a full garbage collection (the server runs with --expose-gc for this) left ${r.heapAfterGcMb.toFixed(0)} MB of V8 heap in use and an RSS of ${r.rssAfterGcMb.toFixed(0)} MB: ` +
        "heap that grows in the table but not past a full collection is garbage V8 had not collected yet, not sessions kept.",
      "",
      table(
        ["Sessions created", "RSS MB", "× start", "V8 heap used MB", "external MB", "req/s of the step"],
        [
          ["0 (the start)", r.startMb.toFixed(0), "1.00×", r.startHeapMb.toFixed(0), "", ""],
          ...r.steps.map((s) => [
            size(s.created),
            s.rssMb.toFixed(0),
            `${(s.rssMb / r.startMb).toFixed(2)}×`,
            s.heapMb.toFixed(0),
            s.externalMb.toFixed(0),
            num(s.rps),
          ]),
        ],
      ),
      "",
    );
  }
  if (scale.errors.length) out.push(...scale.errors.map((e) => `- **FAILED**: ${e}`), "");
  return out;
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Grouped bars: per scenario, each server's req/s as % of bare; dashed lines at 50, 75, 95 and 100 %. */
export function svgChart(rows: Row[], subtitle: string): string {
  const scenarios = SCENARIOS.filter((s) => rows.some((r) => r.scenario === s && !r.spec.bare && r.pctBare !== null));
  const servers = SERVERS.filter((spec) => !spec.bare && rows.some((r) => r.spec.id === spec.id && r.pctBare !== null));
  const barW = 14;
  const gap = 2;
  const groupGap = 36;
  const left = 60;
  const top = 60;
  const plotH = 320;
  const groupW = (s: Scenario) =>
    servers.filter((spec) => rows.some((r) => r.spec.id === spec.id && r.scenario === s)).length * (barW + gap);
  const plotW = scenarios.reduce((w, s) => w + groupW(s) + groupGap, groupGap);
  const legendCols = 3;
  const legendRows = Math.ceil(servers.length / legendCols);
  const width = Math.max(left + plotW + 50, 900);
  const height = top + plotH + 50 + legendRows * 20 + 20;
  const maxPct = Math.max(100, ...rows.filter((r) => !r.spec.bare).map((r) => r.pctBare ?? 0));
  const yMax = Math.ceil(maxPct / 25) * 25;
  const y = (p: number) => top + plotH - (Math.min(p, yMax) / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  parts.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">req/s as % of bare Fastify (same scenario, same run)</text>`,
  );
  parts.push(`<text x="${left}" y="40" fill="#555">${escape(subtitle)}</text>`);
  for (let p = 0; p <= yMax; p += 25) {
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(p)}" y2="${y(p)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${left - 6}" y="${y(p) + 4}" text-anchor="end" fill="#555">${p} %</text>`);
  }
  for (const [p, label] of [
    [50, "50 %"],
    [75, "75 %"],
    [95, "95 %"],
    [100, "bare"],
  ] as const) {
    parts.push(
      `<line x1="${left}" x2="${left + plotW}" y1="${y(p)}" y2="${y(p)}" stroke="${p === 100 ? "#333" : "#999"}" stroke-dasharray="5,4"/>`,
    );
    parts.push(`<text x="${left + plotW + 4}" y="${y(p) + 4}" fill="#555">${label}</text>`);
  }
  let x = left + groupGap;
  for (const s of scenarios) {
    const start = x;
    for (const spec of servers) {
      const r = rows.find((row) => row.spec.id === spec.id && row.scenario === s);
      if (!r) continue;
      const v = r.pctBare ?? 0;
      parts.push(
        `<rect x="${x}" y="${y(v)}" width="${barW}" height="${top + plotH - y(v)}" fill="${spec.color}"><title>${escape(`${s}: ${spec.label}: ${v.toFixed(1)} % of bare (${Math.round(r.rps)} req/s)`)}</title></rect>`,
      );
      parts.push(
        `<text x="${x + barW / 2}" y="${y(v) - 3}" font-size="8" text-anchor="middle" fill="#333">${v.toFixed(0)}</text>`,
      );
      x += barW + gap;
    }
    parts.push(
      `<text x="${(start + x) / 2}" y="${top + plotH + 18}" text-anchor="middle" font-size="13" font-weight="bold">${s}</text>`,
    );
    x += groupGap;
  }
  parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  servers.forEach((spec, i) => {
    const lx = left + (i % legendCols) * 270;
    const ly = top + plotH + 44 + Math.floor(i / legendCols) * 20;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${spec.color}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly}">${escape(spec.label)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
