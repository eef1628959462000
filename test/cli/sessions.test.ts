/**
 * `npm run sessions -- list | show | delete` against the same SQLite file (or PostgreSQL schema)
 * a running app uses, with the visitor checked over HTTP: the command's main() in-process on its
 * own connection, and the real entry point as a child process where the exit status is the subject.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hashPassword } from "../../src/auth/passwords.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { openSqlite, type OpenedDatabase } from "../../src/db/database.js";
import { migrateToLatest } from "../../src/db/migrations.js";
import { createSessionEngine } from "fastify-django-sessions";
import { main } from "../../src/cli/sessions.js";
import { NO_POSTGRES, postgresSchema } from "../services.js";
import { TEST_SECRET, visitor } from "../helpers.js";
import { entryArgs } from "../processes.js";
import { runInProcess } from "./in-process.js";

const dir = mkdtempSync(join(tmpdir(), "sessions-cli-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The app on `database`, a logged-in visitor (ada) and an anonymous one with a cart. */
async function running(database: OpenedDatabase) {
  await migrateToLatest(database.db);
  const config = loadConfig({ SECRET_KEY: TEST_SECRET, LOG_LEVEL: "silent", PASSWORD_HASHER: "fast" });
  const engine = await createSessionEngine(config.session, { db: database.db, dateValue: database.dateValue });
  const app = await buildApp(config, { db: database.db, engine, runtime: { database, caches: {} } });
  await database.db
    .insertInto("users")
    .values({ username: "ada", password: await hashPassword("correct horse", "fast") })
    .execute();
  const ada = visitor(app);
  await ada.get("/login/");
  await ada.post("/login/", { username: "ada", password: "correct horse" });
  const shopper = visitor(app);
  await shopper.get("/cart/");
  await shopper.post("/cart/add/", { item: "apple" });
  return { app, ada, shopper, adaKey: ada.sessionKey()!, shopperKey: shopper.sessionKey()! };
}

const commandEnv = (env: Record<string, string>) => ({
  ...process.env,
  DATABASE_URL: "",
  REDIS_URL: "",
  SECRET_KEY: TEST_SECRET,
  ...env,
});

/** `node --import tsx src/cli/sessions.ts ARGS` (or its compiled file: entryArgs), as `npm run sessions` starts it. */
function sessionsProcess(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [...entryArgs("src/cli/sessions.ts"), ...args], {
    encoding: "utf8",
    env: commandEnv(env),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same command's main() in this process. */
const sessions = (env: Record<string, string>, ...args: string[]) => runInProcess(main, args, commandEnv(env));

describe("on SQLite", () => {
  const path = join(dir, "app.sqlite3");
  const env = { DATABASE_PATH: path };
  let world: Awaited<ReturnType<typeof running>>;
  let database: OpenedDatabase;
  after(async () => {
    await world?.app.close();
    await database?.db.destroy();
  });

  test("list: key prefix, user, expiry and size of each session, never a full key", async () => {
    database = openSqlite(path);
    world = await running(database);
    const result = await sessions(env, "list");
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^KEY\s+USER\s+EXPIRES \(UTC\)\s+SIZE$/);
    const row = (key: string) => lines.find((line) => line.startsWith(`${key.slice(0, 8)}…`));
    assert.match(row(world.adaKey) ?? "", /^\S{9}\s+ada\s+20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+ B$/);
    assert.match(row(world.shopperKey) ?? "", /\s+anonymous\s+/);
    assert.equal(lines.at(-1), "2 of 2 sessions shown.");
    assert.ok(!result.stdout.includes(world.adaKey) && !result.stdout.includes(world.shopperKey));
    assert.match((await sessions(env, "list", "--limit", "1")).stdout, /^1 of 2 sessions shown\.$/m);
  });

  test("show: one session decoded, by key or by its first 8 characters", async () => {
    for (const key of [world.shopperKey, world.shopperKey.slice(0, 8)]) {
      const result = await sessions(env, "show", key);
      assert.equal(result.status, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(
          `^key: +${world.shopperKey}\nuser: +anonymous\nexpires: +20\\d\\d-[\\d-]+ [\\d:]+ UTC\nsize: +\\d+ bytes\ndata:\n`,
        ),
      );
      assert.match(result.stdout, /"cart": \[\n\s+"apple"\n\s+\]/);
    }
    assert.match((await sessions(env, "show", world.adaKey)).stdout, /user: +ada\n[\s\S]*"_auth_user_id": "1"/);
  });

  test("tampered data is reported plainly in show and list", async () => {
    const stored = await database.db
      .selectFrom("sessions")
      .select("session_data")
      .where("session_key", "=", world.shopperKey)
      .executeTakeFirstOrThrow();
    await database.db
      .updateTable("sessions")
      .set({ session_data: `x${stored.session_data.slice(1)}` })
      .where("session_key", "=", world.shopperKey)
      .execute();
    const shown = await sessions(env, "show", world.shopperKey);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, /data: +TAMPERED: the stored data does not verify/);
    assert.match(
      (await sessions(env, "list")).stdout,
      new RegExp(`^${world.shopperKey.slice(0, 8)}….*TAMPERED: data does not verify$`, "m"),
    );
  });

  test("delete logs that visitor out (checked over HTTP); the other session is untouched", async () => {
    assert.equal((await world.ada.get("/account/")).statusCode, 200);
    const result = await sessions(env, "delete", world.adaKey);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `Deleted session ${world.adaKey.slice(0, 8)}…: its visitor is logged out.\n`);
    const after = await world.ada.get("/account/");
    assert.equal(after.statusCode, 303);
    assert.equal(after.headers.location, "/login/?next=%2Faccount%2F");
    assert.equal(
      (await database.db.selectFrom("user_sessions").selectAll().execute()).length,
      0,
      "its row in the account list is gone too",
    );
    assert.match((await sessions(env, "list")).stdout, /^1 of 1 session shown\.$/m);
  });

  test("unknown or too short keys and bad commands are one line with a non-zero exit", async () => {
    const unknown = await sessions(env, "show", "zzzzzzzzzzzz");
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr, 'error: No session with key "zzzzzzzzzzzz" (it may have expired or ended).\n');
    assert.equal((await sessions(env, "delete", "abc")).status, 1);
    const bad = await sessions(env, "sideways");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: unknown command "sideways"\. Run `npm run sessions -- --help`\.\n$/);
    assert.match((await sessions(env, "--help")).stdout, /show KEY +one session decoded/);
  });
});

test("on PostgreSQL: list, show and delete", { skip: NO_POSTGRES || false }, async () => {
  const pg = await postgresSchema("sessions_cli");
  const world = await running(pg);
  try {
    const url = new URL(process.env.DATABASE_URL!);
    url.searchParams.set("options", `-c search_path=${pg.schema}`);
    const env = { DATABASE_URL: url.toString() };
    assert.match((await sessions(env, "list")).stdout, /^2 of 2 sessions shown\.$/m);
    assert.match((await sessions(env, "show", world.adaKey.slice(0, 10))).stdout, /user: +ada/);
    assert.equal((await sessions(env, "delete", world.shopperKey)).status, 0);
    assert.doesNotMatch((await world.shopper.get("/cart/")).body, /<span class="cart-item">apple<\/span>/);
    assert.match((await sessions(env, "list")).stdout, /^1 of 1 session shown\.$/m);
  } finally {
    await world.app.close();
    await pg.drop();
  }
});

test("the real command: the cache engine on the in-process cache cannot be seen from another process: one clear line, exit 1", () => {
  const result = sessionsProcess(
    { SESSION_ENGINE: "cache", CACHE_BACKEND: "locmem", DATABASE_PATH: join(dir, "c.sqlite3") },
    "list",
  );
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /^error: the cache engine here keeps sessions in the server's own memory .*\/admin\/sessions\//,
  );
});
