/**
 * `npm run migrate` against a real SQLite file (and PostgreSQL): its main() in-process, and the
 * real entry point as a child process where the exit status is the subject.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { randomBytes } from "node:crypto";
import SQLite from "better-sqlite3";
import pg from "pg";
import { main } from "../../src/cli/migrate.js";
import { NO_POSTGRES, duringSchemaChurn } from "../services.js";
import { entryArgs } from "../processes.js";
import { runInProcess, type CommandResult } from "./in-process.js";

const dir = mkdtempSync(join(tmpdir(), "migrate-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const sqliteEnv = (databasePath: string) => ({
  ...process.env,
  DATABASE_URL: "",
  REDIS_URL: "",
  DATABASE_PATH: databasePath,
});

/** `node --import tsx src/cli/migrate.ts ARGS` (or its compiled file: entryArgs), as `npm run migrate` starts it. */
function migrateProcess(databasePath: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [...entryArgs("src/cli/migrate.ts"), ...args], {
    encoding: "utf8",
    env: sqliteEnv(databasePath),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same command's main() in this process. */
const migrate = (databasePath: string, ...args: string[]) => runInProcess(main, args, sqliteEnv(databasePath));

function tables(databasePath: string): string[] {
  const db = new SQLite(databasePath, { readonly: true });
  try {
    return db
      .prepare(
        "select name from sqlite_master where type in ('table', 'index') and (name like 'session%' or name like 'user%' or name like 'ended%') order by name",
      )
      .all()
      .map((row) => (row as { name: string }).name);
  } finally {
    db.close();
  }
}

test("up applies pending migrations, status lists them, down undoes the last", async () => {
  const path = join(dir, "a.sqlite3");
  const status0 = await migrate(path, "status");
  assert.equal(status0.status, 0);
  assert.match(status0.stdout, /\[ \] 0001_create_sessions\s+\(pending\)\n\s+\[ \] 0002_create_users\s+\(pending\)/);

  const up = await migrate(path);
  assert.equal(up.status, 0, up.stderr);
  assert.match(
    up.stdout,
    /Applied 0001_create_sessions\nApplied 0002_create_users\nApplied 0003_create_user_sessions\nApplied 0004_create_session_locks\nApplied 0005_create_ended_sessions/,
  );
  assert.deepEqual(tables(path), [
    "ended_sessions",
    "ended_sessions_expire_date_idx",
    "session_locks",
    "sessions",
    "sessions_expire_date_16e4c444",
    "user_sessions",
    "user_sessions_user_id_idx",
    "users",
  ]);

  const again = await migrate(path, "up");
  assert.match(again.stdout, /No pending migrations/);

  assert.match((await migrate(path, "status")).stdout, /\[x\] 0001_create_sessions\s+\(applied /);

  const down = await migrate(path, "down");
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stdout, /Undid 0005_create_ended_sessions/);
  assert.deepEqual(
    tables(path),
    [
      "session_locks",
      "sessions",
      "sessions_expire_date_16e4c444",
      "user_sessions",
      "user_sessions_user_id_idx",
      "users",
    ],
    "only the last migration is undone",
  );
  assert.match((await migrate(path, "down")).stdout, /Undid 0004_create_session_locks/);
  assert.deepEqual(tables(path), [
    "sessions",
    "sessions_expire_date_16e4c444",
    "user_sessions",
    "user_sessions_user_id_idx",
    "users",
  ]);
  assert.match((await migrate(path, "down")).stdout, /Undid 0003_create_user_sessions/);
  assert.match((await migrate(path, "down")).stdout, /Undid 0002_create_users/);
  assert.match((await migrate(path, "down")).stdout, /Undid 0001_create_sessions/);
  assert.deepEqual(tables(path), []);
  assert.match((await migrate(path, "down")).stdout, /Nothing to undo/);
});

test("SESSION_DB_TABLE names a new database's sessions table, with Django's columns and index name", async () => {
  const path = join(dir, "named.sqlite3");
  const up = await runInProcess(main, [], { ...sqliteEnv(path), SESSION_DB_TABLE: "django_session" });
  assert.equal(up.status, 0, up.stderr);
  const db = new SQLite(path, { readonly: true });
  try {
    const objects = db
      .prepare("select name, sql from sqlite_master where tbl_name in ('django_session', 'sessions') order by name")
      .all();
    assert.deepEqual(objects, [
      {
        name: "django_session",
        sql: 'CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)',
      },
      {
        name: "django_session_expire_date_a5c62663",
        sql: 'CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")',
      },
      { name: "sqlite_autoindex_django_session_1", sql: null },
    ]);
  } finally {
    db.close();
  }
  const bad = await runInProcess(main, [], {
    ...sqliteEnv(join(dir, "bad.sqlite3")),
    SESSION_DB_TABLE: "Sessions; drop",
  });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /SESSION_DB_TABLE must be a table name/);
});

test("--help explains the commands", async () => {
  const help = await migrate(join(dir, "b.sqlite3"), "--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /status\s+list applied and pending migrations/);
});

test("the real command: an unknown command exits 2 with one line", () => {
  const bad = migrateProcess(join(dir, "b.sqlite3"), "sideways");
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.match(bad.stderr, /unknown command "sideways"/);
});

/**
 * `work` with `npm run migrate`'s main() pointed at a schema of its own (search_path in
 * DATABASE_URL), and a client to look at it; the schema is dropped afterwards.
 */
async function inOwnSchema(
  work: (run: (...args: string[]) => Promise<CommandResult>, admin: pg.Client, schema: string) => Promise<void>,
): Promise<void> {
  const schema = `t_migrate_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  try {
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set("options", `-c search_path=${schema}`);
    await work(
      (...args) => runInProcess(main, args, { ...process.env, DATABASE_URL: url.toString(), REDIS_URL: "" }),
      admin,
      schema,
    );
  } finally {
    await admin.query(`drop schema ${schema} cascade`);
    await admin.end();
  }
}

test(
  "on PostgreSQL (DATABASE_URL): status, up and down in the database's own schema",
  { skip: NO_POSTGRES || false },
  () =>
    inOwnSchema(async (run, admin, schema) => {
      const tablesInSchema = async () =>
        (
          await admin.query<{ table_name: string }>(
            "select table_name from information_schema.tables where table_schema = $1 and table_name not like 'kysely%' order by 1",
            [schema],
          )
        ).rows.map((r) => r.table_name);
      assert.match((await run("status")).stdout, /\[ \] 0001_create_sessions\s+\(pending\)/);
      const up = await run();
      assert.equal(up.status, 0, up.stderr);
      assert.match(
        up.stdout,
        /Applied 0001_create_sessions\nApplied 0002_create_users\nApplied 0003_create_user_sessions\nApplied 0004_create_session_locks\nApplied 0005_create_ended_sessions/,
      );
      assert.deepEqual(await tablesInSchema(), [
        "ended_sessions",
        "session_locks",
        "sessions",
        "user_sessions",
        "users",
      ]);
      const status = await run("status");
      assert.match(status.stdout, /\[x\] 0005_create_ended_sessions\s+\(applied /, status.stderr);
      const down = await run("down");
      assert.equal(down.status, 0, down.stderr);
      assert.match(down.stdout, /Undid 0005_create_ended_sessions/);
      assert.deepEqual(await tablesInSchema(), ["session_locks", "sessions", "user_sessions", "users"]);
    }),
);

test(
  "on PostgreSQL: migrating and listing work while another session creates and drops schemas",
  { skip: NO_POSTGRES || false },
  () =>
    inOwnSchema(async (run) => {
      // kysely's own lookup lists every table of every schema, and failed with "schema ... does
      // not exist" whenever one was dropped meanwhile (here: the other test files' schemas).
      await duringSchemaChurn(async () => {
        const up = await run();
        assert.equal(up.status, 0, up.stderr);
        for (let i = 0; i < 20; i++) {
          const status = await run("status");
          assert.equal(status.status, 0, status.stderr);
          assert.match(status.stdout, /\[x\] 0005_create_ended_sessions/);
        }
      });
    }),
);
