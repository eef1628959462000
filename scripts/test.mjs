// `npm test`: type check, unit and HTTP tests (node:test), then the Playwright browser tests.
// `npm test -- unit` or `npm test -- e2e` runs one part.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const part = process.argv[2] ?? "all";
const root = new URL("..", import.meta.url).pathname;

/**
 * @param {string} label
 * @param {string} command
 * @param {string[]} args
 */
function run(label, command, args, env = process.env) {
  process.stdout.write(`\n=== ${label} ===\n`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) {
    process.stdout.write(`\n${label} failed (exit ${result.status ?? result.signal}).\n`);
    process.exit(result.status || 1);
  }
}

/** @param {string} dir */
function testFiles(dir) {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => join(dir, f));
}

// Files run in parallel, a process each. Most of a file's time is waiting (child processes,
// Redis, PostgreSQL, timers), so a few more than the 2 cores keep them busy; TEST_CONCURRENCY
// overrides.
const concurrency = Number(process.env.TEST_CONCURRENCY) || 4;

if (part === "all" || part === "unit") {
  run("type check", "npx", ["tsc", "--noEmit"]);
  // Under c8 (coverage of src/sessions/, floors in .c8rc.json); the spec reporter as usual, and
  // scripts/slowest-reporter.mjs printing the ten slowest tests and files at the end.
  run("unit and HTTP tests", process.execPath, [
    join(root, "node_modules/c8/bin/c8.js"),
    process.execPath,
    "--import",
    "tsx",
    "--test",
    `--test-concurrency=${concurrency}`,
    "--test-reporter=spec",
    "--test-reporter-destination=stdout",
    "--test-reporter=./scripts/slowest-reporter.mjs",
    "--test-reporter-destination=stdout",
    ...testFiles("test"),
  ]);
}
if (part === "all" || part === "e2e") {
  process.stdout.write("\n=== browser ===\n");
  const browser = spawnSync(process.execPath, ["scripts/ensure-browser.mjs"], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (browser.status !== 0) process.exit(1);
  process.stdout.write(`using ${browser.stdout}\n`);
  run("browser tests (Playwright)", "npx", ["playwright", "test"], { ...process.env, CHROMIUM_PATH: browser.stdout });
}
