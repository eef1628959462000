// A node:test reporter that prints nothing while the tests run, then the ten slowest tests and
// the ten slowest files (scripts/test.mjs runs it beside the usual `spec` reporter).
import { relative } from "node:path";

const TOP = 10;
/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`.padStart(9);

/** @typedef {{ name: string, duration: number }} Timed */

/** @param {AsyncIterable<import("node:test/reporters").TestEvent>} source */
export default async function* slowest(source) {
  /** @type {Timed[]} */
  const tests = [];
  /**
   * A file's tests run one after another, so its top-level tests add up to its running time.
   * @type {Map<string, number>}
   */
  const files = new Map();
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    const duration = data.details?.duration_ms ?? 0;
    // `npm test` runs the tests compiled into .build/: name the file they were compiled from.
    const file = data.file ? relative(process.cwd(), data.file).replace(/^\.build\/(.*)\.js$/, "$1.ts") : "?";
    if (data.nesting === 0) files.set(file, (files.get(file) ?? 0) + duration);
    if (data.details?.type !== "suite") tests.push({ name: `${data.name}  (${file})`, duration });
  }
  /** @type {(title: string, items: Timed[]) => string} */
  const list = (title, items) =>
    `\n${title}\n` +
    items
      .sort((a, b) => b.duration - a.duration)
      .slice(0, TOP)
      .map((item) => `${seconds(item.duration)}  ${item.name}\n`)
      .join("");
  yield list(`The ${TOP} slowest tests:`, tests);
  yield list(
    `The ${TOP} slowest files (their tests' time, start-up left out):`,
    [...files].map(([name, duration]) => ({ name, duration })),
  );
}
