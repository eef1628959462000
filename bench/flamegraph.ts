/**
 * A flame graph (SVG) from a V8 .cpuprofile, as `--profile=<server>` writes them:
 *   npm run bench:flamegraph -- bench/profiles/<file>.cpuprofile [out.svg]
 * Each box is a function in a call path, its width the share of samples spent in it and below;
 * this project's code is green, its dependencies blue, Node's own grey, idle and GC left out.
 * Hover a box for its name, file and share.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Frame {
  name: string;
  file: string;
  total: number;
  children: Map<string, Frame>;
}

const SKIPPED = new Set(["(idle)", "(garbage collector)", "(program)"]);

function label(node: ProfileNode): { name: string; file: string } {
  const { functionName, url } = node.callFrame;
  const file = url.replace(/^file:\/\//, "").replace(/^.*?\/(src|bench|node_modules)\//, "$1/");
  return { name: functionName || "(anonymous)", file };
}

/** Time sampled in each node itself, within the window (the profile's clock, µs). */
function selfTimes(profile: Profile, from?: number, to?: number): Map<number, number> {
  const self = new Map<number, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if ((from !== undefined && t < from) || (to !== undefined && t > to)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  return self;
}

/** Merges the profile's call tree by name and file, so recursion and repeated paths add up. */
function fold(profile: Profile, from?: number, to?: number): Frame {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = selfTimes(profile, from, to);
  const root: Frame = { name: "all", file: "", total: 0, children: new Map() };
  const walk = (node: ProfileNode, into: Frame): number => {
    const { name, file } = label(node);
    if (SKIPPED.has(name)) return 0;
    const key = `${name}\u0000${file}`;
    let frame = into.children.get(key);
    if (!frame) into.children.set(key, (frame = { name, file, total: 0, children: new Map() }));
    let total = self.get(node.id) ?? 0;
    for (const child of node.children ?? []) total += walk(byId.get(child)!, frame);
    frame.total += total;
    return total;
  };
  const top = profile.nodes[0]!;
  for (const child of top.children ?? []) root.total += walk(byId.get(child)!, root);
  return root;
}

function colour(file: string): string {
  if (file.startsWith("src/")) return "#7fc8a0";
  if (file.startsWith("node_modules/")) return "#8fb3de";
  if (file.startsWith("bench/")) return "#e0c070";
  return "#c8c8c8";
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function flameGraph(profile: Profile, title: string, { from, to }: { from?: number; to?: number } = {}): string {
  const root = fold(profile, from, to);
  const width = 1200;
  const row = 17;
  const boxes: string[] = [];
  let depth = 0;
  const draw = (frame: Frame, x: number, level: number) => {
    const w = (frame.total / root.total) * width;
    if (w < 0.5) return;
    depth = Math.max(depth, level);
    const share = ((frame.total / root.total) * 100).toFixed(1);
    const text =
      w > 40
        ? `<text x="${(x + 3).toFixed(1)}" y="${-level * row - 5}">${escape(frame.name.slice(0, Math.floor(w / 6.5)))}</text>`
        : "";
    boxes.push(
      `<g><title>${escape(`${frame.name} ${frame.file} — ${share} %`)}</title>` +
        `<rect x="${x.toFixed(1)}" y="${-(level + 1) * row}" width="${(w - 0.5).toFixed(1)}" height="${row - 1}" fill="${colour(frame.file)}"/>${text}</g>`,
    );
    let offset = x;
    for (const child of [...frame.children.values()].sort((a, b) => b.total - a.total)) {
      draw(child, offset, level + 1);
      offset += (child.total / root.total) * width;
    }
  };
  let offset = 0;
  for (const frame of [...root.children.values()].sort((a, b) => b.total - a.total)) {
    draw(frame, offset, 0);
    offset += (frame.total / root.total) * width;
  }
  const height = (depth + 1) * row + 40;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 ${-height + 30} ${width} ${height}" ` +
    `font-family="monospace" font-size="11">` +
    `<text x="0" y="${-height + 45}" font-size="13" font-family="sans-serif">${escape(title)}</text>` +
    `${boxes.join("")}</svg>\n`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  if (!input) {
    console.error("usage: npm run bench:flamegraph -- <file.cpuprofile> [out.svg]");
    process.exit(2);
  }
  const out = output ?? input.replace(/\.cpuprofile$/, ".svg");
  writeFileSync(out, flameGraph(JSON.parse(readFileSync(input, "utf8")) as Profile, path.basename(input)));
  console.log(`wrote ${out}`);
}
