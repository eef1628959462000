/**
 * The demo started on a database the real Django migrated, with SESSION_DB_TABLE=django_session:
 * its start-up migrations leave Django's tables exactly as they were (schema and rows), add only
 * the demo's own tables beside them, and its sessions are rows of Django's django_session that
 * Django itself reads. On SQLite, and on PostgreSQL (a schema of its own) when DATABASE_URL is set
 * and Django's Python has psycopg2. Skips without a Python that can import Django.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import pg from "pg";
import { buildApp } from "../src/app.js";
import { main as migrate } from "../src/cli/migrate.js";
import { loadConfig } from "../src/config.js";
import { openRuntime, type Runtime } from "../src/runtime.js";
import { TEST_SECRET, visitor } from "./helpers.js";
import { DJANGO_PYTHON, NO_DJANGO } from "./django.js";
import { processScope } from "./processes.js";
import { DATABASE_URL, NO_POSTGRES } from "./services.js";
import { runInProcess } from "./cli/in-process.js";

/**
 * A throwaway Django project: the sessions app and what it needs, on the SQLite file DATABASE, or
 * on PostgreSQL at DJANGO_DATABASE_URL in the schema DJANGO_SCHEMA.
 */
const SETTINGS = `
import os
from urllib.parse import urlparse
SECRET_KEY = os.environ["SECRET_KEY"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
if os.environ.get("DJANGO_DATABASE_URL"):
    url = urlparse(os.environ["DJANGO_DATABASE_URL"])
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": url.path.lstrip("/"),
        "USER": url.username or "", "PASSWORD": url.password or "", "HOST": url.hostname or "",
        "PORT": str(url.port or ""), "OPTIONS": {"options": "-c search_path=" + os.environ["DJANGO_SCHEMA"]},
    }}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["DATABASE"]}}
USE_TZ = True
`;

/** python -c `code` with Django set up by `env`'s settings; its stdout. */
function runDjango(env: NodeJS.ProcessEnv, code: string): string {
  const run = spawnSync(DJANGO_PYTHON!, ["-c", `import django; django.setup()\n${code}`], {
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `python failed:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** The session's data as Django's db SessionStore reads it, as JSON. */
const djangoReads = (key: string) =>
  "import json; from django.contrib.sessions.backends.db import SessionStore\n" +
  `print(json.dumps(dict(SessionStore(session_key=${JSON.stringify(key)}).items())))`;

function djangoEnv(dir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  writeFileSync(join(dir, "throwaway_settings.py"), SETTINGS);
  return {
    ...process.env,
    PYTHONPATH: dir,
    DJANGO_SETTINGS_MODULE: "throwaway_settings",
    SECRET_KEY: TEST_SECRET,
    PYTHONDONTWRITEBYTECODE: "1",
    ...env,
  };
}

/** Why the PostgreSQL part cannot run here, or false. */
function noDjangoOnPostgres(): string | false {
  if (NO_DJANGO) return NO_DJANGO;
  if (NO_POSTGRES) return NO_POSTGRES;
  const run = spawnSync(DJANGO_PYTHON!, ["-c", "import psycopg2"], { encoding: "utf8", timeout: 20_000 });
  return run.status === 0 ? false : `${DJANGO_PYTHON} cannot import psycopg2 (apt-get install python3-psycopg2)`;
}

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
  let pythonEnv: NodeJS.ProcessEnv;
  let djangoSchema: SchemaObject[];
  let djangoRows: Record<string, unknown[]>;
  const django = (code: string) => runDjango(pythonEnv, code);

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
    pythonEnv = djangoEnv(dir, { DATABASE: databasePath });
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
    assert.deepEqual(JSON.parse(django(djangoReads(rows[0]!.session_key))), { colour: "teal" });
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

describe(
  "the demo on a PostgreSQL schema Django migrated (SESSION_DB_TABLE=django_session)",
  { skip: noDjangoOnPostgres() },
  () => {
    const { dir } = processScope("django-database-pg");
    const schemas: string[] = [];
    let admin: pg.Client;
    let djangoSchema: string;
    let pythonEnv: NodeJS.ProcessEnv;
    let before_: Awaited<ReturnType<typeof describeSchema>>;

    async function newSchema(): Promise<string> {
      const schema = `t_django_${randomBytes(4).toString("hex")}`;
      await admin.query(`create schema ${schema}`);
      schemas.push(schema);
      return schema;
    }

    /** Tables, columns, indexes, constraints and rows of `schema` (rows of all but django_session). */
    async function describeSchema(schema: string) {
      const query = async (text: string) => (await admin.query(text, [schema])).rows as Record<string, unknown>[];
      const tables = (
        await query("select table_name from information_schema.tables where table_schema = $1 order by 1")
      ).map((r) => r.table_name as string);
      const rows: Record<string, unknown[]> = {};
      for (const table of tables.filter((t) => t !== "django_session"))
        rows[table] = (await admin.query(`select * from ${schema}.${table} order by 1`)).rows;
      return {
        tables,
        columns: await query(
          `select table_name, column_name, data_type, character_maximum_length, is_nullable, column_default
           from information_schema.columns where table_schema = $1 order by table_name, ordinal_position`,
        ),
        indexes: await query(
          `select tablename, indexname, replace(indexdef, $1 || '.', '') as indexdef
           from pg_indexes where schemaname = $1 order by indexname`,
        ),
        constraints: await query(
          `select conname, contype, pg_get_constraintdef(oid) as definition
           from pg_constraint where connamespace = $1::regnamespace order by conname`,
        ),
        rows,
      };
    }

    /** What of a description belongs to Django's tables. */
    function djangoPart(described: Awaited<ReturnType<typeof describeSchema>>, tables: string[]) {
      const mine = (r: Record<string, unknown>) => tables.includes((r.table_name ?? r.tablename) as string);
      const ownConstraint = (r: Record<string, unknown>) => tables.some((t) => String(r.conname).startsWith(t));
      return {
        columns: described.columns.filter(mine),
        indexes: described.indexes.filter(mine),
        constraints: described.constraints.filter(ownConstraint),
        rows: Object.fromEntries(Object.entries(described.rows).filter(([t]) => tables.includes(t))),
      };
    }

    const demoConfig = (schema: string) => {
      const url = new URL(DATABASE_URL!);
      url.searchParams.set("options", `-c search_path=${schema}`);
      return loadConfig({
        SECRET_KEY: TEST_SECRET,
        LOG_LEVEL: "silent",
        PASSWORD_HASHER: "fast",
        DATABASE_URL: url.toString(),
        SESSION_DB_TABLE: "django_session",
      });
    };

    before(async () => {
      admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      djangoSchema = await newSchema();
      pythonEnv = djangoEnv(dir, { DJANGO_DATABASE_URL: DATABASE_URL!, DJANGO_SCHEMA: djangoSchema });
      runDjango(pythonEnv, "from django.core.management import call_command; call_command('migrate', verbosity=0)");
      before_ = await describeSchema(djangoSchema);
    });

    after(async () => {
      for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    });

    test("start-up migrates beside Django's tables, changing none of them; Django reads the session set over HTTP", async () => {
      const config = demoConfig(djangoSchema);
      const runtime = await openRuntime(config);
      assert.equal(runtime.applied.length, 5);
      const app = await buildApp(config, { db: runtime.database.db, engine: runtime.engine, runtime });
      let key: string | undefined;
      try {
        const v = visitor(app);
        assert.equal((await v.get("/session/set/?key=colour&value=teal")).statusCode, 200);
        key = v.sessionKey();
        assert.match((await v.get("/settings/")).body, /id="django-table"/);
      } finally {
        await app.close();
        await runtime.close();
      }
      const now = await describeSchema(djangoSchema);
      const djangoTables = before_.tables;
      assert.deepEqual(djangoPart(now, djangoTables), djangoPart(before_, djangoTables));
      assert.deepEqual(
        now.tables.filter((t) => !djangoTables.includes(t)),
        DEMO_TABLES,
        "only the demo's own tables are new",
      );
      assert.ok(key);
      assert.deepEqual(JSON.parse(runDjango(pythonEnv, djangoReads(key))), { colour: "teal" });
    });

    test("the package's migration makes django_session as Django's migration does (columns, types, index names)", async () => {
      const schema = await newSchema();
      const runtime = await openRuntime(demoConfig(schema));
      await runtime.close();
      const ours = djangoPart(await describeSchema(schema), ["django_session"]);
      const django = djangoPart(before_, ["django_session"]);
      assert.deepEqual({ ...ours, rows: {} }, { ...django, rows: {} });
      assert.deepEqual(
        django.indexes.map((i) => i.indexname),
        ["django_session_expire_date_a5c62663", "django_session_pkey", "django_session_session_key_c0390e0f_like"],
      );
    });
  },
);
