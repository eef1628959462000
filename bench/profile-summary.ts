/**
 * The top self-time functions of a V8 .cpuprofile (what `node --cpu-prof` writes), as text.
 * Self time is the time sampled inside a function itself, not in what it called. A window in the
 * profile's own clock (µs) restricts it to the measured run.
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top=20] [--from=US --to=US]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTimeRow {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

const ROOT = path.resolve(fileURLToPath(new URL("..", import.meta.url)));

/** A short location: the path inside the project or inside node_modules/<package>, with the line (1-based). */
function location(url: string, line: number): string {
  if (!url) return "";
  let file = url.startsWith("file://") ? fileURLToPath(url) : url;
  if (file.startsWith(ROOT + path.sep)) file = path.relative(ROOT, file);
  const nm = file.lastIndexOf("node_modules/");
  if (nm >= 0) file = file.slice(nm + "node_modules/".length);
  // tsx compiles TypeScript without keeping line positions: a .ts line would mislead.
  return file.endsWith(".ts") ? file : `${file}:${line + 1}`;
}

export function summarise(
  profile: CpuProfile,
  { top = 20, from, to }: { top?: number; from?: number; to?: number } = {},
) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // The delta before a sample is the time that sample stands for.
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if ((from !== undefined && t < from) || (to !== undefined && t > to)) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  }
  // The same function is often several nodes (one per call path): add them up.
  const rows = new Map<string, { name: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || (frame.url ? "(anonymous)" : "(native)");
    const where = location(frame.url, frame.lineNumber);
    const key = `${name}\u0000${where}`;
    const row = rows.get(key) ?? { name, where, us: 0 };
    row.us += us;
    rows.set(key, row);
  }
  const sorted = [...rows.values()].sort((a, b) => b.us - a.us);
  const idleUs = sorted.filter((r) => r.name === "(idle)").reduce((sum, r) => sum + r.us, 0);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    rows: sorted.slice(0, top).map((r): SelfTimeRow => ({
      name: r.name,
      where: r.where,
      selfMs: r.us / 1000,
      percent: totalUs ? (100 * r.us) / totalUs : 0,
    })),
  };
}

export function formatSummary(title: string, summary: ReturnType<typeof summarise>): string {
  const lines = [
    title,
    `sampled ${summary.totalMs.toFixed(0)} ms, of which idle ${summary.idleMs.toFixed(0)} ms (${((100 * summary.idleMs) / (summary.totalMs || 1)).toFixed(1)} %)`,
    "",
    "  #   self ms   self %  function  (file:line)",
  ];
  summary.rows.forEach((row, i) => {
    lines.push(
      `${String(i + 1).padStart(3)}  ${row.selfMs.toFixed(1).padStart(8)}  ${row.percent.toFixed(1).padStart(6)} %  ${row.name}${row.where ? `  (${row.where})` : ""}`,
    );
  });
  return lines.join("\n");
}

export function summariseFile(file: string, options: { top?: number; from?: number; to?: number } = {}): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const window =
    options.from !== undefined
      ? ` (measured window only: ${(((options.to ?? profile.endTime) - options.from) / 1e6).toFixed(1)} s)`
      : "";
  return formatSummary(
    `Top ${options.top ?? 20} self-time functions in ${path.basename(file)}${window}`,
    summarise(profile, options),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv.slice(2).find((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top=20] [--from=US --to=US]");
    process.exit(2);
  }
  const flag = (name: string) => {
    const value = process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
    return value === undefined ? undefined : Number(value);
  };
  console.log(summariseFile(file, { top: flag("top") ?? 20, from: flag("from"), to: flag("to") }));
}
