/**
 * The demo started on a database the real Django migrated, with SESSION_DB_TABLE=django_session:
 * its start-up migrations leave Django's tables exactly as they were (schema and rows), add only
 * the demo's own tables beside them, and its sessions are rows of Django's django_session that
 * Django itself reads. Skips without a Python that can import Django.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { buildApp } from "../src/app.js";
import { main as migrate } from "../src/cli/migrate.js";
import { loadConfig } from "../src/config.js";
import { openRuntime, type Runtime } from "../src/runtime.js";
import { TEST_SECRET, visitor } from "./helpers.js";
import { DJANGO_PYTHON, NO_DJANGO } from "./django.js";
import { processScope } from "./processes.js";
import { runInProcess } from "./cli/in-process.js";

/** A throwaway Django project: the sessions app and what it needs, on the SQLite file DATABASE. */
const SETTINGS = `
import os
SECRET_KEY = os.environ["SECRET_KEY"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DATABASE"]}}
USE_TZ = True
`;

/** The demo's own tables and kysely's bookkeeping: all it may add to Django's database. */
const DEMO_TABLES = [
  "ended_sessions",
  "kysely_migration",
  "kysely_migration_lock",
  "session_locks",
  "user_sessions",
  "users",
];

interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

describe("the demo on a database Django migrated (SESSION_DB_TABLE=django_session)", { skip: NO_DJANGO }, () => {
  const { dir } = processScope("django-database");
  const databasePath = join(dir, "django.sqlite3");
  const pythonEnv = {
    ...process.env,
    PYTHONPATH: dir,
    DJANGO_SETTINGS_MODULE: "throwaway_settings",
    SECRET_KEY: TEST_SECRET,
    DATABASE: databasePath,
    PYTHONDONTWRITEBYTECODE: "1",
  };
  let djangoSchema: SchemaObject[];
  let djangoRows: Record<string, unknown[]>;

  /** python -c `code` with Django set up on the file; its stdout. */
  function django(code: string): string {
    const run = spawnSync(DJANGO_PYTHON!, ["-c", `import django; django.setup()\n${code}`], {
      env: pythonEnv,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `python failed:\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  }

  function schema(): SchemaObject[] {
    const db = new SQLite(databasePath, { readonly: true });
    try {
      return db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all() as SchemaObject[];
    } finally {
      db.close();
    }
  }

  /** Every row of every table of Django's but django_session. */
  function rowsOf(tables: string[]): Record<string, unknown[]> {
    const db = new SQLite(databasePath, { readonly: true });
    try {
      return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY rowid`).all()]));
    } finally {
      db.close();
    }
  }

  const djangoTables = () =>
    djangoSchema.filter((o) => o.type === "table" && o.name !== "django_session" && !o.name.startsWith("sqlite_"));

  const config = () =>
    loadConfig({
      SECRET_KEY: TEST_SECRET,
      LOG_LEVEL: "silent",
      PASSWORD_HASHER: "fast",
      DATABASE_PATH: databasePath,
      SESSION_DB_TABLE: "django_session",
    });
  const startDemo = (): Promise<Runtime> => openRuntime(config());

  before(() => {
    writeFileSync(join(dir, "throwaway_settings.py"), SETTINGS);
    django("from django.core.management import call_command; call_command('migrate', verbosity=0)");
    djangoSchema = schema();
    djangoRows = rowsOf(djangoTables().map((o) => o.name));
  });

  test("start-up migrates beside Django's tables, changing none of them", async () => {
    const runtime = await startDemo();
    assert.deepEqual(runtime.applied, [
      "0001_create_sessions",
      "0002_create_users",
      "0003_create_user_sessions",
      "0004_create_session_locks",
      "0005_create_ended_sessions",
    ]);
    await runtime.close();
    const again = await startDemo();
    assert.deepEqual(again.applied, [], "a second start has nothing to apply");
    await again.close();

    const now = schema();
    // Every object Django made is still there, exactly as Django wrote it (django_session included).
    for (const object of djangoSchema)
      assert.deepEqual(
        now.find((o) => o.name === object.name),
        object,
        object.name,
      );
    const added = now.filter((o) => !djangoSchema.some((d) => d.name === o.name));
    assert.deepEqual(
      [...new Set(added.map((o) => o.tbl_name))].sort(),
      DEMO_TABLES,
      "only the demo's own tables (and their indexes) are new",
    );
    assert.deepEqual(rowsOf(djangoTables().map((o) => o.name)), djangoRows, "Django's rows are untouched");
  });

  test("a value set through HTTP is a row of django_session that Django reads; /settings/ says the table is Django's", async () => {
    const runtime = await startDemo();
    const app = await buildApp(config(), { db: runtime.database.db, engine: runtime.engine, runtime });
    try {
      const v = visitor(app);
      assert.equal((await v.get("/session/set/?key=colour&value=teal")).statusCode, 200);
      const key = v.sessionKey();
      assert.ok(key, "the visitor got a session cookie");
      const settings = await v.get("/settings/");
      assert.match(settings.body, /id="django-table"/);
      assert.match(settings.body, /sessions are shared with a Django site/);
      assert.match(settings.body, /data-setting="SESSION_DB_TABLE">.*django_session/);
    } finally {
      await app.close();
      await runtime.close();
    }
    const db = new SQLite(databasePath, { readonly: true });
    const rows = db.prepare("SELECT session_key FROM django_session").all() as { session_key: string }[];
    db.close();
    assert.equal(rows.length, 1);
    const decoded = django(
      "import json; from django.contrib.sessions.backends.db import SessionStore\n" +
        `print(json.dumps(dict(SessionStore(session_key=${JSON.stringify(rows[0]!.session_key)}).items())))`,
    );
    assert.deepEqual(JSON.parse(decoded), { colour: "teal" });
  });

  test("undoing every demo migration (npm run migrate -- down) removes the demo's tables and leaves Django's as they were", async () => {
    const env = {
      DATABASE_PATH: databasePath,
      DATABASE_URL: "",
      SESSION_DB_TABLE: "django_session",
      LOG_LEVEL: "silent",
    };
    for (const name of [
      "0005_create_ended_sessions",
      "0004_create_session_locks",
      "0003_create_user_sessions",
      "0002_create_users",
      "0001_create_sessions",
    ]) {
      const down = await runInProcess(migrate, ["down"], env);
      assert.equal(down.status, 0, down.stderr);
      assert.match(down.stdout, new RegExp(`Undid ${name}`));
    }
    const now = schema();
    for (const object of djangoSchema)
      assert.deepEqual(
        now.find((o) => o.name === object.name),
        object,
        object.name,
      );
    assert.deepEqual(
      now.filter((o) => o.type === "table" && !djangoSchema.some((d) => d.name === o.name)).map((o) => o.name),
      ["kysely_migration", "kysely_migration_lock"],
      "the demo's tables are gone; django_session, which Django's migrations count as theirs, is not",
    );
  });
});
