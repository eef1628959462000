/**
 * The package as a team installs it: `npm pack`, then the tarball installed in a scratch directory
 * outside the workspace with fastify, better-sqlite3 and kysely from the npm registry (the
 * versions in the root package-lock). There an app is type-checked against the installed
 * declarations (tsc --strict, skipLibCheck off), compiled and served on 127.0.0.1 (set, read,
 * flush) on the db engine over SQLite and on signed_cookies, and the package is required from
 * CommonJS. Skipped, with the reason, when `npm ping` cannot reach the registry.
 *
 * better-sqlite3 is installed with --ignore-scripts and given the workspace's own build of its
 * native addon (same version, same Node): building it from source takes minutes here, and its
 * prebuilt download is not always reachable.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { PROJECT_ROOT } from "../processes.js";

const PACKAGE_DIR = join(PROJECT_ROOT, "packages/fastify-django-sessions");
const TSC = join(PROJECT_ROOT, "node_modules/typescript/bin/tsc");

/** The children's environment: c8's coverage (npm test) is not collected from npm and tsc. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NODE_V8_COVERAGE"));

function run(command: string, args: string[], cwd: string, timeout = 180_000) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout, env: ENV });
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", error: result.error };
}

const ping = run("npm", ["ping", "--fetch-retries=0", "--fetch-timeout=15000"], PROJECT_ROOT, 30_000);
const pingError = `${ping.stderr}${ping.error ?? ""}`.split("\n").find((line) => /error/i.test(line));
const NO_REGISTRY =
  ping.status === 0 ? false : `the npm registry is unreachable (npm ping: ${pingError?.trim() ?? "no answer"})`;

/** A package's version in the root package-lock, so the scratch app gets what the workspace tests. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  assert.ok(entry, `${name} is not in package-lock.json`);
  return entry.version;
}

function newestMtime(dir: string, suffix: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(suffix))
      .map((file) => statSync(join(dir, file)).mtimeMs),
  );
}

/** dist/ as `npm publish` would build it (prepare): rebuilt here only when src/ is newer. */
function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(PACKAGE_DIR, "dist/index.js")).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newestMtime(join(PACKAGE_DIR, "src"), ".ts")) return;
  const build = run("npm", ["run", "build", "--silent"], PACKAGE_DIR);
  assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
}

const SECRET = "a pack-test secret that is long enough to be a real one";

/** The app: checked by tsc against the installed declarations, then compiled and served. */
const APP_TS = `import Fastify from "fastify";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { createSessionEngine, sessions, type SessionsDatabase } from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";

declare module "fastify-django-sessions" {
  interface SessionTypes {
    data: { greeting?: string };
  }
}

const [engineName = "db", databaseFile = ":memory:"] = process.argv.slice(2);
const sqlite = new SQLite(databaseFile);
const db = new Kysely<SessionsDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
await sessionTablesMigration().up(db);
const engine = await createSessionEngine(
  { SECRET_KEY: ${JSON.stringify(SECRET)}, SESSION_ENGINE: engineName },
  { db, sqlite },
);

const app = Fastify();
await app.register(sessions, { engine });
app.get("/set", async (request) => {
  request.session.set("greeting", "hello");
  // @ts-expect-error: the declared shape is checked (a number is not a greeting)
  if (request.query === "never") request.session.set("greeting", 1);
  return "set";
});
app.get("/read", async (request) => request.session.get("greeting", "nothing"));
app.get("/flush", async (request) => {
  await request.session.flush();
  return "flushed";
});
app.addHook("onClose", async () => {
  await engine.close();
  await db.destroy();
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(address + "\\n");
process.on("SIGTERM", () => void app.close());
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    skipLibCheck: false,
    target: "ES2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    types: ["node"],
    outDir: "out",
  },
  files: ["app.ts"],
};

/** CommonJS: Node 20.19+ and 22.12+ require() an ES module graph without top-level await. */
const CHECK_CJS = `const { createSessionEngine, sessions, RedisCache, ImproperlyConfigured } = require("fastify-django-sessions");
const Fastify = require("fastify");
(async () => {
  const engine = await createSessionEngine({ SECRET_KEY: ${JSON.stringify(SECRET)}, SESSION_ENGINE: "signed_cookies" }, {});
  const app = Fastify();
  await app.register(sessions, { engine });
  app.get("/set", async (request) => { request.session.set("n", 1); return "ok"; });
  const response = await app.inject("/set");
  console.log("require", response.statusCode, /^sessionid=/.test(response.headers["set-cookie"]));
  try {
    new RedisCache({ url: "redis://127.0.0.1:6379" });
  } catch (error) {
    console.log(error instanceof ImproperlyConfigured, error.message);
  }
  await app.close();
})();
`;

const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split(".").map(Number);
const REQUIRE_ESM = nodeMajor >= 23 || (nodeMajor === 22 && nodeMinor >= 12) || (nodeMajor === 20 && nodeMinor >= 19);

describe("the packed package, installed outside the workspace", { skip: NO_REGISTRY }, () => {
  const work = mkdtempSync(join(tmpdir(), "fastify-django-sessions-pack-"));
  const scratch = join(work, "app");
  let packed: { filename: string; files: { path: string }[] };
  after(() => rmSync(work, { recursive: true, force: true }));

  before(() => {
    ensureBuilt();
    // The build above is what publishing runs (prepare); --ignore-scripts keeps npm from building again.
    const pack = run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], PACKAGE_DIR);
    assert.equal(pack.status, 0, pack.stderr);
    [packed] = JSON.parse(pack.stdout) as [typeof packed];
    mkdirSync(scratch);
    writeFileSync(
      join(scratch, "package.json"),
      JSON.stringify({ name: "scratch-app", private: true, type: "module" }),
    );
    const dependencies = ["fastify", "better-sqlite3", "kysely", "@types/better-sqlite3", "@types/node"].map(
      (name) => `${name}@${lockedVersion(name)}`,
    );
    const install = run(
      "npm",
      [
        "install",
        join(work, packed.filename),
        ...dependencies,
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-package-lock",
      ],
      scratch,
    );
    assert.equal(install.status, 0, `npm install failed:\n${install.stderr}`);
    const addon = "build/Release/better_sqlite3.node";
    mkdirSync(join(scratch, "node_modules/better-sqlite3/build/Release"), { recursive: true });
    copyFileSync(
      join(PROJECT_ROOT, "node_modules/better-sqlite3", addon),
      join(scratch, "node_modules/better-sqlite3", addon),
    );
    writeFileSync(join(scratch, "app.ts"), APP_TS);
    writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(TSCONFIG));
    writeFileSync(join(scratch, "check.cjs"), CHECK_CJS);
  });

  test("the tarball holds dist/ (JavaScript, declarations, maps), src/, sql/, README, CHANGELOG, LICENSE and nothing else", () => {
    const files = packed.files.map((file) => file.path).sort();
    const allowed =
      /^(dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/.+\.ts|sql\/.+\.sql|README\.md|CHANGELOG\.md|LICENSE|package\.json)$/;
    assert.deepEqual(
      files.filter((file) => !allowed.test(file)),
      [],
    );
    for (const file of [
      "README.md",
      "CHANGELOG.md",
      "LICENSE",
      "package.json",
      "sql/sqlite.sql",
      "sql/postgresql.sql",
    ]) {
      assert.ok(files.includes(file), `${file} is missing`);
    }
    const sources = files.filter((file) => file.startsWith("src/"));
    assert.ok(sources.includes("src/index.ts"));
    for (const source of sources) {
      const stem = source.replace(/^src\//, "dist/").replace(/\.ts$/, "");
      for (const built of [".js", ".js.map", ".d.ts", ".d.ts.map"]) {
        assert.ok(files.includes(stem + built), `${stem + built} is missing (built from ${source})`);
      }
    }
    // tsc leaves the output of a deleted or renamed module behind; it would be published.
    const stale = files.filter(
      (file) =>
        file.startsWith("dist/") &&
        !sources.includes(file.replace(/^dist\//, "src/").replace(/\.(js|d\.ts)(\.map)?$/, ".ts")),
    );
    assert.deepEqual(stale, [], "dist/ holds files no source builds: delete dist/ and run npm run build");
    assert.deepEqual(
      files.filter((file) => /test/i.test(file)),
      [],
    );
  });

  test("an app type-checks against the installed declarations (tsc --strict, skipLibCheck off)", () => {
    const tsc = run(process.execPath, [TSC, "-p", "tsconfig.json"], scratch);
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });

  for (const engine of ["db", "signed_cookies"]) {
    test(`the compiled app serves set, read and flush on ${engine} (SQLite file, 127.0.0.1)`, async (t) => {
      assert.ok(statSync(join(scratch, "out/app.js")).isFile(), "the type-check step compiles the app");
      const database = join(work, `${engine}.sqlite3`);
      const child = spawn(process.execPath, ["out/app.js", engine, database], {
        cwd: scratch,
        stdio: "pipe",
        env: ENV,
      });
      t.after(() => child.kill());
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
      const address = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += String(chunk);
          if (out.includes("\n")) resolve(out.trim());
        });
        child.on("exit", (code) => reject(new Error(`the app exited (${code}): ${stderr}`)));
      });
      const rows = () => {
        const db = new SQLite(database, { readonly: true });
        try {
          return (db.prepare("select count(*) from sessions").pluck().get() as number) ?? 0;
        } finally {
          db.close();
        }
      };

      const set = await fetch(`${address}/set`);
      assert.equal(set.status, 200);
      const cookie = set.headers.get("set-cookie")?.split(";")[0];
      assert.match(cookie ?? "", /^sessionid=./);
      assert.equal(rows(), engine === "db" ? 1 : 0);
      const read = await fetch(`${address}/read`, { headers: { cookie: cookie! } });
      assert.equal(await read.text(), "hello");
      const flush = await fetch(`${address}/flush`, { headers: { cookie: cookie! } });
      assert.match(flush.headers.get("set-cookie") ?? "", /^sessionid=""; Max-Age=0/);
      assert.equal(rows(), 0);
      const after = await fetch(`${address}/read`, { headers: { cookie: cookie! } });
      assert.equal(await after.text(), engine === "db" ? "nothing" : "hello", "a signed cookie is its own data");
    });
  }

  test("require() from CommonJS, and RedisCache without ioredis installed names the package", () => {
    const result = run(process.execPath, ["check.cjs"], scratch);
    if (REQUIRE_ESM) {
      assert.equal(result.status, 0, result.stderr);
      assert.equal(
        result.stdout,
        "require 200 true\ntrue RedisCache needs the ioredis package, which is not installed: run `npm install ioredis` in the application.\n",
      );
      assert.doesNotMatch(result.stderr, /ExperimentalWarning/);
    } else {
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /ERR_REQUIRE_ESM|require\(\) of ES Module/);
    }
  });
});
