/**
 * `npm run clearsessions` against a real SQLite file, the file engine's directory, and PostgreSQL
 * (when DATABASE_URL is set). The real command as a child process where another process (the
 * app, writing meanwhile) or the exit status is the subject; its main() in-process otherwise.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import SQLite from "better-sqlite3";
import { sql } from "kysely";
import { openSqlite } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrations.js";
import { createSessionEngine, toSqliteDatetime } from "fastify-django-sessions";
import { NO_POSTGRES, postgresSchema, duringSchemaChurn } from "../services.js";
import { testSettings, TEST_SECRET } from "../helpers.js";
import { main } from "../../src/cli/clearsessions.js";
import { entryArgs, importableModule } from "../processes.js";
import { runInProcess } from "./in-process.js";

const dir = mkdtempSync(join(tmpdir(), "clearsessions-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const ARGS = entryArgs("src/cli/clearsessions.ts");
const baseEnv = (env: Record<string, string>) => ({
  ...process.env,
  DATABASE_URL: "",
  REDIS_URL: "",
  SECRET_KEY: TEST_SECRET,
  ...env,
});

/** `node --import tsx src/cli/clearsessions.ts ARGS` (or its compiled file: entryArgs), as `npm run clearsessions` starts it. */
function clearsessionsProcess(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [...ARGS, ...args], { encoding: "utf8", env: baseEnv(env) });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same command's main() in this process. */
const clearsessions = (env: Record<string, string>, ...args: string[]) => runInProcess(main, args, baseEnv(env));

const HOUR = 3600_000;

/** A migrated SQLite file holding `expired` expired rows and `live` live ones. */
async function sqliteWith(name: string, expired: number, live: number): Promise<string> {
  const path = join(dir, name);
  const { db } = openSqlite(path);
  await migrateToLatest(db);
  await db.destroy();
  const sqlite = new SQLite(path);
  const insert = sqlite.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  const past = toSqliteDatetime(Date.now() - HOUR);
  const future = toSqliteDatetime(Date.now() + HOUR);
  sqlite.transaction(() => {
    for (let i = 0; i < expired + live; i++)
      insert.run(`k${String(i).padStart(31, "0")}`, "e30:x:y", i < expired ? past : future);
  })();
  sqlite.close();
  return path;
}

function rowCount(path: string): number {
  const sqlite = new SQLite(path, { readonly: true });
  try {
    return (sqlite.prepare("select count(*) n from sessions").get() as { n: number }).n;
  } finally {
    sqlite.close();
  }
}

test("db on SQLite: 100,000 expired rows among 30,000 live go in batches with progress while the app's writes keep landing", async () => {
  const path = await sqliteWith("big.sqlite3", 100_000, 30_000);
  const child = spawn(process.execPath, [...ARGS, "--batch-size", "5000"], { env: baseEnv({ DATABASE_PATH: path }) });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));

  // The running app meanwhile: a second connection writing sessions, as the server would, with
  // the app's own busy timeout. Every write must land (none refused with SQLITE_BUSY).
  const app = new SQLite(path);
  app.pragma("busy_timeout = 5000");
  const write = app.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  let written = 0;
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    write.run(`live${String(written).padStart(28, "0")}`, "e30:x:y", toSqliteDatetime(Date.now() + HOUR));
    written++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  app.close();

  assert.equal(await exited, 0, stderr);
  const progress = stdout.split("\n").filter((line) => /^ {2}\d+ removed so far$/.test(line));
  assert.ok(progress.length >= 20, `one progress line per batch of 5000:\n${stdout}`);
  assert.equal(progress.at(-1), "  100000 removed so far");
  assert.match(stdout, /^Removed 100000 expired sessions \(db engine\)\.$/m);
  assert.ok(written > 0);
  assert.equal(rowCount(path), 30_000 + written, "live rows, and every row the app wrote meanwhile, are kept");
  assert.match((await clearsessions({ DATABASE_PATH: path })).stdout, /^Removed 0 expired sessions \(db engine\)\.$/m);
});

test("db on SQLite: 300,000 expired rows and 25 live go in one step (the live rows move to a new table) while the app keeps writing", async () => {
  const path = await sqliteWith("mostly-expired.sqlite3", 300_000, 25);
  const child = spawn(process.execPath, ARGS, { env: baseEnv({ DATABASE_PATH: path }) });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const app = new SQLite(path);
  app.pragma("busy_timeout = 5000");
  const write = app.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  let written = 0;
  let running = true;
  void exited.then(() => (running = false));
  while (running) {
    write.run(`live${String(written).padStart(28, "0")}`, "e30:x:y", toSqliteDatetime(Date.now() + HOUR));
    written++;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  app.close();
  assert.equal(await exited, 0, stderr);
  assert.match(stdout, /^Removed 300000 expired sessions \(db engine\)\.$/m);
  assert.equal(rowCount(path), 25 + written, "live rows, and every row the app wrote meanwhile, are kept");
});

test(
  "db on PostgreSQL: 100,000 expired rows removed in batches, live rows kept, while another session drops schemas",
  { skip: NO_POSTGRES || false },
  async () => {
    const pg = await postgresSchema("clear");
    try {
      await sql`insert into sessions (session_key, session_data, expire_date)
      select 'k' || lpad(i::text, 31, '0'), 'e30:x:y', now() - interval '1 hour' from generate_series(1, 100000) i`.execute(
        pg.db,
      );
      await sql`insert into sessions (session_key, session_data, expire_date)
      select 'l' || lpad(i::text, 31, '0'), 'e30:x:y', now() + interval '1 hour' from generate_series(1, 7) i`.execute(
        pg.db,
      );
      await sql`insert into ended_sessions (key_hash, reason, logged_in, expire_date)
      values (${"a".repeat(64)}, 'elsewhere', 1, now() - interval '1 hour')`.execute(pg.db);
      const url = new URL(process.env.DATABASE_URL!);
      url.searchParams.set("options", `-c search_path=${pg.schema}`);
      // The command looks for ended_sessions by name: kysely's listing of every schema failed here.
      const result = await duringSchemaChurn(() =>
        clearsessions({ DATABASE_URL: url.toString() }, "--batch-size=20000"),
      );
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(
        result.stdout.split("\n").filter((l) => l.includes("so far")),
        [20000, 40000, 60000, 80000, 100000].map((n) => `  ${n} removed so far`),
      );
      assert.match(result.stdout, /Removed 100000 expired sessions \(db engine\)\./);
      assert.match(result.stdout, /^Removed 1 expired record of sessions ended by someone else\.$/m);
      const left = await sql<{ n: string }>`select count(*) n from sessions`.execute(pg.db);
      assert.equal(Number(left.rows[0]!.n), 7);
    } finally {
      await pg.drop();
    }
  },
);

test("file engine: expired files are removed, live ones and foreign files kept", async () => {
  const files = join(dir, "files");
  mkdirSync(files);
  const settings = testSettings({ SESSION_ENGINE: "file", SESSION_FILE_PATH: files });
  const old = await createSessionEngine(settings, {}, { now: () => Date.now() - 30 * 24 * HOUR });
  const fresh = await createSessionEngine(settings, {});
  for (const [engine, count] of [
    [old, 3],
    [fresh, 2],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const session = engine.open(null);
      session.set("n", i);
      await session.save();
    }
  }
  const result = await clearsessions({
    SESSION_ENGINE: "file",
    SESSION_FILE_PATH: files,
    DATABASE_PATH: join(dir, "file-engine.sqlite3"),
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^Removed 3 expired sessions \(file engine\)\.$/m);
  assert.equal(readdirSync(files).length, 2);
});

test("engines that store nothing to clear say so and succeed", async () => {
  const cache = await clearsessions({
    SESSION_ENGINE: "cache",
    CACHE_BACKEND: "locmem",
    DATABASE_PATH: join(dir, "c.sqlite3"),
  });
  assert.equal(cache.status, 0, cache.stderr);
  assert.equal(cache.stdout, "Nothing to clear: the cache engine's entries expire by themselves.\n");
  const signed = await clearsessions({ SESSION_ENGINE: "signed_cookies", DATABASE_PATH: join(dir, "s.sqlite3") });
  assert.equal(signed.status, 0, signed.stderr);
  assert.match(signed.stdout, /^Nothing to clear: the signed_cookies engine keeps sessions in the browser's cookie/);
});

test("an engine that cannot clear gets Django's message and exit 1", async () => {
  const engine = importableModule("./test/fixtures/engine-without-clear.ts");
  const result = await clearsessions({ SESSION_ENGINE: engine, DATABASE_PATH: await sqliteWith("x.sqlite3", 0, 0) });
  assert.equal(result.status, 1);
  assert.equal(result.stderr, `error: Session engine '${engine}' doesn't support clearing expired sessions.\n`);
});

test("errors are one line: no sessions table; --help explains", async () => {
  const empty = await clearsessions({ DATABASE_PATH: join(dir, "empty.sqlite3") });
  assert.equal(empty.status, 1);
  assert.equal(empty.stderr.trim().split("\n").length, 1);
  assert.match(empty.stderr, /sessions table \(SESSION_DB_TABLE=sessions\) does not exist .*npm run migrate/);
  const help = await clearsessions({}, "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: npm run clearsessions/);
});

test("the reasons kept for sessions ended by someone else go once past their date, on any engine", async () => {
  for (const engine of ["db", "cache", "signed_cookies"]) {
    const path = await sqliteWith(`ended-${engine}.sqlite3`, 0, 0);
    const sqlite = new SQLite(path);
    const insert = sqlite.prepare(
      "insert into ended_sessions (key_hash, reason, logged_in, expire_date) values (?, ?, 1, ?)",
    );
    insert.run("a".repeat(64), "elsewhere", toSqliteDatetime(Date.now() - HOUR));
    insert.run("b".repeat(64), "admin", toSqliteDatetime(Date.now() - 2 * HOUR));
    insert.run("c".repeat(64), "password", toSqliteDatetime(Date.now() + HOUR));
    sqlite.close();
    const result = await clearsessions({ SESSION_ENGINE: engine, CACHE_BACKEND: "locmem", DATABASE_PATH: path });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^Removed 2 expired records of sessions ended by someone else\.$/m, engine);
    const left = new SQLite(path, { readonly: true });
    try {
      assert.deepEqual(
        left.prepare("select key_hash from ended_sessions").all(),
        [{ key_hash: "c".repeat(64) }],
        engine,
      );
    } finally {
      left.close();
    }
  }
});

test("the real command: a bad argument is one line and exit 2", () => {
  const bad = clearsessionsProcess({}, "--batch-size", "0");
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: --batch-size needs a whole number from 1 to 100000, not "0"\n$/);
});
