/**
 * The session tables' migration (src/migrations.ts) and the SQL files beside it: Django's schema
 * for the sessions table under any name, on a real SQLite and PostgreSQL, and the SQL files
 * making exactly what the migration makes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely";
import pg from "pg";
import {
  djangoIndexName,
  sessionTablesMigration,
  sessionTableStatements,
  SESSION_LOCKS_TABLE,
} from "../src/migrations.js";
import { ImproperlyConfigured } from "../src/errors.js";
import { DATABASE_URL, NO_POSTGRES } from "../../../test/services.js";

const SQL_DIRECTORY = new URL("../sql/", import.meta.url);

/**
 * What Django 3.2's `manage.py sqlmigrate sessions 0001` prints for SQLite: the statements its
 * migration runs (sqlite_master keeps them as written, with IF NOT EXISTS left out).
 */
const DJANGO_SQLITE = [
  'CREATE TABLE "django_session" ("session_key" varchar(40) NOT NULL PRIMARY KEY, "session_data" text NOT NULL, "expire_date" datetime NOT NULL)',
  'CREATE INDEX "django_session_expire_date_a5c62663" ON "django_session" ("expire_date")',
];

function openMemory() {
  const sqlite = new SQLite(":memory:");
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { sqlite, db };
}

/** Every schema object but SQLite's own, as sqlite_master holds it. */
function sqliteSchema(sqlite: SQLite.Database) {
  return sqlite
    .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
    .all();
}

describe("djangoIndexName: Django's _create_index_name", () => {
  test("django_session's indexes have the names Django's migration gives them", () => {
    assert.equal(djangoIndexName("django_session", ["expire_date"]), "django_session_expire_date_a5c62663");
    assert.equal(
      djangoIndexName("django_session", ["session_key"], "_like", 63),
      "django_session_session_key_c0390e0f_like",
    );
  });

  test("too long a name is cut down as Django does (values from Django 3.2)", () => {
    assert.equal(
      djangoIndexName("a".repeat(63), ["expire_date"], "", 63),
      "aaaaaaaaaaaaaaaaaaaaaaaaaa_expire_date_045b053b",
    );
    assert.equal(
      djangoIndexName("_x".repeat(30), ["session_key"], "_like", 63),
      "D_x_x_x_x_x_x_x_x_x_x_x_x_session_key_b6308ac1_lik",
    );
  });
});

describe("sessionTablesMigration on SQLite", () => {
  test("makes django_session exactly as Django's own migration does, and session_locks beside it", async () => {
    const { sqlite, db } = openMemory();
    await sessionTablesMigration({ table: "django_session" }).up(db);
    const objects = sqliteSchema(sqlite) as { name: string; sql: string }[];
    assert.deepEqual(
      objects.filter((o) => o.name.startsWith("django_session")).map((o) => o.sql),
      DJANGO_SQLITE,
    );
    assert.deepEqual(
      objects.map((o) => o.name),
      ["django_session", "django_session_expire_date_a5c62663", SESSION_LOCKS_TABLE],
    );
    await db.destroy();
  });

  test("sql/sqlite.sql makes the same schema as the migration with the default name", async () => {
    const migrated = openMemory();
    await sessionTablesMigration().up(migrated.db);
    const fromFile = new SQLite(":memory:");
    fromFile.exec(readFileSync(new URL("sqlite.sql", SQL_DIRECTORY), "utf8"));
    assert.deepEqual(sqliteSchema(fromFile), sqliteSchema(migrated.sqlite));
    // SQLite reports the type names it knows (TEXT) in upper case, others as written.
    assert.deepEqual(
      fromFile.prepare("SELECT name, type, \"notnull\", pk FROM pragma_table_info('sessions') ORDER BY cid").all(),
      [
        { name: "session_key", type: "varchar(40)", notnull: 1, pk: 1 },
        { name: "session_data", type: "TEXT", notnull: 1, pk: 0 },
        { name: "expire_date", type: "datetime", notnull: 1, pk: 0 },
      ],
    );
    assert.deepEqual(fromFile.prepare("SELECT name FROM pragma_index_list('sessions') WHERE origin = 'c'").all(), [
      { name: "sessions_expire_date_16e4c444" },
    ]);
    fromFile.close();
    await migrated.db.destroy();
  });

  test("a table of that name is left as it is (no second index); running up again changes nothing", async () => {
    const { sqlite, db } = openMemory();
    // An older schema: the demo's first migration, with its own index name.
    sqlite.exec(
      'CREATE TABLE "sessions" ("session_key" varchar(40) not null primary key, "session_data" text not null, "expire_date" datetime not null);' +
        'CREATE INDEX "sessions_expire_date_idx" ON "sessions" ("expire_date");' +
        "INSERT INTO sessions VALUES ('k', 'data', '2030-01-01 00:00:00.000000')",
    );
    const before = sqliteSchema(sqlite);
    const migration = sessionTablesMigration();
    await migration.up(db);
    await migration.up(db);
    const after = sqliteSchema(sqlite) as { name: string }[];
    assert.deepEqual(
      after.filter((o) => o.name !== SESSION_LOCKS_TABLE && !o.name.startsWith("sqlite_")),
      before,
    );
    assert.ok(after.some((o) => o.name === SESSION_LOCKS_TABLE));
    assert.deepEqual(sqlite.prepare("SELECT session_key FROM sessions").all(), [{ session_key: "k" }]);
    await db.destroy();
  });

  test("down drops both tables", async () => {
    const { sqlite, db } = openMemory();
    const migration = sessionTablesMigration({ table: "app_sessions" });
    await migration.up(db);
    await migration.down!(db);
    assert.deepEqual(sqliteSchema(sqlite), []);
    await db.destroy();
  });

  test("down leaves django_session when Django's migrations have it as theirs (Django would break without it)", async () => {
    const { sqlite, db } = openMemory();
    const migration = sessionTablesMigration({ table: "django_session" });
    await migration.up(db);
    await migration.down!(db);
    assert.deepEqual(sqliteSchema(sqlite), [], "not Django's: dropped");
    await migration.up(db);
    sqlite.exec(
      'CREATE TABLE "django_migrations" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "app" varchar(255) NOT NULL, "name" varchar(255) NOT NULL, "applied" datetime NOT NULL);' +
        "INSERT INTO django_migrations (app, name, applied) VALUES ('sessions', '0001_initial', '2026-01-01 00:00:00')",
    );
    await migration.down!(db);
    assert.deepEqual(
      (sqliteSchema(sqlite) as { name: string }[]).map((o) => o.name),
      ["django_migrations", "django_session", "django_session_expire_date_a5c62663"],
    );
    await db.destroy();
  });

  test("a table name that is not a plain lower-case identifier is refused before any SQL", () => {
    for (const table of ["Sessions", "a b", 'x"; drop table y; --', "", "public.sessions"]) {
      assert.throws(() => sessionTablesMigration({ table }), ImproperlyConfigured);
      assert.throws(() => sessionTableStatements("sqlite", table), /lower-case/);
    }
  });
});

describe("sessionTablesMigration on PostgreSQL", { skip: NO_POSTGRES }, () => {
  const schemas: string[] = [];
  const admin = () => new pg.Client({ connectionString: DATABASE_URL });

  /** A kysely instance and a client whose search_path is a new schema of their own. */
  async function inNewSchema() {
    const schema = `t_migrations_${randomBytes(4).toString("hex")}`;
    const client = admin();
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.query(`set search_path = ${schema}`);
    schemas.push(schema);
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, options: `-c search_path=${schema}` });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    return { schema, client, db };
  }

  after(async () => {
    const client = admin();
    await client.connect();
    for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
    await client.end();
  });

  /** Columns, indexes and constraints of `schema`'s tables, without the schema's name. */
  async function describeSchema(client: pg.Client, schema: string) {
    const columns = await client.query(
      `select table_name, column_name, data_type, character_maximum_length, is_nullable
         from information_schema.columns where table_schema = $1 order by table_name, ordinal_position`,
      [schema],
    );
    const indexes = await client.query(
      `select tablename, indexname, replace(indexdef, $1 || '.', '') as indexdef
         from pg_indexes where schemaname = $1 order by indexname`,
      [schema],
    );
    const constraints = await client.query(
      `select conrelid::regclass::text as on_table, contype, pg_get_constraintdef(oid) as definition
         from pg_constraint where connamespace = $1::regnamespace order by on_table, contype`,
      [schema],
    );
    return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
  }

  test("makes Django's django_session (types, primary key, both of Django's indexes) and session_locks", async () => {
    const { schema, client, db } = await inNewSchema();
    await sessionTablesMigration({ table: "django_session" }).up(db);
    const described = await describeSchema(client, schema);
    assert.deepEqual(
      described.columns.filter((c: { table_name: string }) => c.table_name === "django_session"),
      [
        {
          table_name: "django_session",
          column_name: "session_key",
          data_type: "character varying",
          character_maximum_length: 40,
          is_nullable: "NO",
        },
        {
          table_name: "django_session",
          column_name: "session_data",
          data_type: "text",
          character_maximum_length: null,
          is_nullable: "NO",
        },
        {
          table_name: "django_session",
          column_name: "expire_date",
          data_type: "timestamp with time zone",
          character_maximum_length: null,
          is_nullable: "NO",
        },
      ],
    );
    assert.deepEqual(
      described.indexes.map((i: { indexname: string; indexdef: string }) => [i.indexname, i.indexdef]),
      [
        [
          "django_session_expire_date_a5c62663",
          "CREATE INDEX django_session_expire_date_a5c62663 ON django_session USING btree (expire_date)",
        ],
        ["django_session_pkey", "CREATE UNIQUE INDEX django_session_pkey ON django_session USING btree (session_key)"],
        [
          "django_session_session_key_c0390e0f_like",
          "CREATE INDEX django_session_session_key_c0390e0f_like ON django_session USING btree (session_key varchar_pattern_ops)",
        ],
        ["session_locks_pkey", "CREATE UNIQUE INDEX session_locks_pkey ON session_locks USING btree (session_key)"],
      ],
    );
    await db.destroy();
    await client.end();
  });

  test("sql/postgresql.sql makes the same schema as the migration with the default name", async () => {
    const migrated = await inNewSchema();
    await sessionTablesMigration().up(migrated.db);
    const fromFile = await inNewSchema();
    await fromFile.client.query(readFileSync(new URL("postgresql.sql", SQL_DIRECTORY), "utf8"));
    const expected = await describeSchema(migrated.client, migrated.schema);
    assert.deepEqual(await describeSchema(fromFile.client, fromFile.schema), expected);
    assert.equal(expected.columns.length, 6, "three columns in each table");
    assert.equal(expected.indexes.length, 4, "sessions: primary key, expire_date, LIKE; session_locks: primary key");
    for (const opened of [migrated, fromFile]) {
      await opened.db.destroy();
      await opened.client.end();
    }
  });

  test("a table of that name in the schema is left as it is; down drops both", async () => {
    const { schema, client, db } = await inNewSchema();
    await client.query(
      "create table sessions (session_key varchar(40) primary key, session_data text not null, expire_date timestamptz not null)",
    );
    const migration = sessionTablesMigration();
    await migration.up(db);
    const described = await describeSchema(client, schema);
    assert.deepEqual(
      described.indexes.map((i: { indexname: string }) => i.indexname),
      ["session_locks_pkey", "sessions_pkey"],
    );
    await migration.down!(db);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_tables where schemaname = ${schema}`.execute(db);
    assert.equal(rows[0]!.n, 0);
    await db.destroy();
    await client.end();
  });
});
