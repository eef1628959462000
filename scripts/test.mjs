// `npm test`: the type check and the unit and HTTP tests (node:test) side by side, then the
// Playwright browser tests. `npm test -- unit` or `npm test -- e2e` runs one part.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

const part = process.argv[2] ?? "all";
// The framework's package: its own tests run compiled like the rest; the demo imports it by name,
// which outside the workspace's source condition means its built dist/ (see buildPackage).
const PACKAGE = "packages/fastify-django-sessions";
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

/**
 * @param {string} dir
 * @param {string} suffix
 */
function filesUnder(dir, suffix) {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * The package as an app installs it: dist/ built by tsc (what `npm install` runs through its
 * prepare script), rebuilt here so the tests never run a stale one.
 */
function buildPackage() {
  run("build fastify-django-sessions (tsc)", "npm", ["run", "build", "--silent", "-w", "fastify-django-sessions"]);
}

/**
 * The unit and HTTP tests run compiled: esbuild turns src/, test/, migrations/ and the package's tests into plain
 * JavaScript under .build/ (under a second, with source maps for stack traces and coverage), so
 * the ~40 test processes start without a TypeScript loader each (tsx costs about a second of CPU
 * per process). tsc still checks the types, beside the tests. Child processes the tests start
 * (`npm start`, the commands) still run the TypeScript through tsx, as a user runs them.
 */
async function compileTests() {
  const out = join(root, ".build");
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: ["src", "test", "migrations", `${PACKAGE}/test`].flatMap((dir) => filesUnder(dir, ".ts")),
    outdir: out,
    outbase: root,
    absWorkingDir: root,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    logLevel: "warning",
  });
  // What the compiled code finds next to itself: templates and assets (src/app.ts looks one
  // folder up), and the test fixtures that are not code.
  for (const dir of ["views", "public"]) symlinkSync(join("..", dir), join(out, dir));
  // The package's tests import its src/; compiled, that is its dist/ (tsc keeps the layout). A
  // link, so the tests and the demo (which imports the package by name, so dist/) load one copy
  // of each module: two copies would make every instanceof between them false. And its SQL
  // files, which its tests read next to them.
  symlinkSync(join(root, PACKAGE, "dist"), join(out, PACKAGE, "src"));
  symlinkSync(join(root, PACKAGE, "sql"), join(out, PACKAGE, "sql"));
  mkdirSync(join(out, "test", "fixtures"), { recursive: true });
  for (const file of filesUnder("test/fixtures", ".json")) cpSync(join(root, file), join(out, file));
}

// The longest files go first, so none of them starts last and runs on alone at the end; the rest
// follow in name order. These are the files whose subject is real processes or many requests at
// once (the slowest ten printed at the end of a run show when this list needs changing). On this
// machine, paired runs: 101 and 115 s against 112 and 125 s in name order without coverage; the
// whole unit part (c8, the type check beside) 151 and 151 s against 154 and 159 s.
const LONGEST_FIRST = [
  "package/pack",
  "concurrent-requests",
  "hostile-input",
  "multi-process",
  "server",
  "logging",
  `${PACKAGE}/test/readme`,
  `${PACKAGE}/test/plugin`,
  "routes/admin",
  "cli/clearsessions",
  "runtime",
  "routes/auth",
  `${PACKAGE}/test/deflate`,
].map((name) => join(".build", name.startsWith(PACKAGE) ? name : `test/${name}`) + ".test.js");

/** The compiled test files in the order they start. */
function testFiles() {
  const all = [...filesUnder(".build/test", ".test.js"), ...filesUnder(`.build/${PACKAGE}/test`, ".test.js")];
  const missing = LONGEST_FIRST.filter((file) => !all.includes(file));
  if (missing.length > 0) throw new Error(`scripts/test.mjs: LONGEST_FIRST names missing files: ${missing.join(", ")}`);
  return [...LONGEST_FIRST, ...all.filter((file) => !LONGEST_FIRST.includes(file))];
}

// Files run in parallel, a process each. Compiled, they are bound by the 2 cores more than by
// waiting: on this machine 3 at a time was quickest (2: 131 s, 3: 128 s, 4: 136 s, 6: 163 s for
// the whole unit part); TEST_CONCURRENCY overrides.
const concurrency = Number(process.env.TEST_CONCURRENCY) || 3;

/**
 * The type check in the background, at a lower CPU priority than the tests (it uses what the
 * waiting test files leave idle); its output is kept and printed once it is done.
 * @returns {Promise<{ status: number | null, output: string }>}
 */
function typeCheck() {
  const child = spawn(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "--noEmit"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    if (child.pid !== undefined) setPriority(child.pid, 10);
  } catch {
    // not allowed here: it runs at the tests' priority, which is only slower
  }
  let output = "";
  child.stdout.on("data", (chunk) => (output += String(chunk)));
  child.stderr.on("data", (chunk) => (output += String(chunk)));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, output })));
}

// The coverage floor counts the Redis and PostgreSQL code paths: without those services their
// tests are skipped, so the report is still printed but the floor is not enforced.
const missing = ["REDIS_URL", "DATABASE_URL"].filter((name) => !process.env[name]);
const coverageCheck = missing.length === 0 ? [] : ["--check-coverage=false"];

if (part === "all" || part === "unit") {
  if (missing.length > 0) {
    process.stdout.write(`coverage floor not enforced: ${missing.join(" and ")} unset, so those tests are skipped\n`);
  }
  buildPackage();
  const checked = typeCheck();
  await compileTests();
  // Under c8 (coverage of the package's src/, floors in .c8rc.json); the spec reporter as usual, and
  // scripts/slowest-reporter.mjs printing the ten slowest tests and files at the end.
  const tests = spawn(
    process.execPath,
    [
      join(root, "node_modules/c8/bin/c8.js"),
      ...coverageCheck,
      process.execPath,
      "--enable-source-maps",
      "--test",
      `--test-concurrency=${concurrency}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=./scripts/slowest-reporter.mjs",
      "--test-reporter-destination=stdout",
      ...testFiles(),
    ],
    { cwd: root, stdio: "inherit" },
  );
  /** @type {[number | null, NodeJS.Signals | null]} */
  const [testStatus, testSignal] = await new Promise((resolve) =>
    tests.on("close", (code, signal) => resolve([code, signal])),
  );
  const { status, output } = await checked;
  process.stdout.write(`\n=== type check (tsc --noEmit, run beside the tests) ===\n${output}`);
  if (status !== 0) process.stdout.write(`\ntype check failed (exit ${status}).\n`);
  if (testStatus !== 0) process.stdout.write(`\nunit and HTTP tests failed (exit ${testStatus ?? testSignal}).\n`);
  if (status !== 0 || testStatus !== 0) process.exit(testStatus || status || 1);
  process.stdout.write("type check passed.\n");
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
  // The app servers run compiled too (see compileTests): the same code, started without tsx.
  if (part === "e2e") {
    buildPackage();
    await compileTests();
  }
  run("browser tests (Playwright)", "npx", ["playwright", "test"], {
    ...process.env,
    CHROMIUM_PATH: browser.stdout,
    E2E_SERVER_ENTRY: ".build/src/server.js",
  });
}
