/**
 * One visitor, two servers: the Django project in examples/django (runserver) and a Fastify app
 * using the package, on the same SQLite file (Django's django_session table, SESSION_DB_TABLE)
 * and the same SECRET_KEY, with one cookie jar between them as one browser on one site. A login
 * on Django is recognised by djangoUserId on Node; values set on one side are read on the other;
 * a flush or logout on either side ends the session on both. Skips without a Django to run.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import Fastify, { type FastifyInstance } from "fastify";
import { Kysely, SqliteDialect } from "kysely";
import {
  createSessionEngine,
  djangoUserId,
  resolveSessionSettings,
  sessions,
  type SessionsDatabase,
} from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";
import { CookieJar } from "./helpers.js";
import { DJANGO_PYTHON, DJANGO_VERSION, NO_DJANGO } from "./django.js";
import { freePort, processScope, PROJECT_ROOT } from "./processes.js";

const DJANGO_PROJECT = join(PROJECT_ROOT, "examples/django");
const SECRET_KEY = "interop-secret-key-shared-by-django-and-node";
const PASSWORD = "correct horse battery staple";

/** Whether the Django found is older than major.minor. */
const djangoBefore = (major: number, minor: number) => {
  const [a = 0, b = 0] = (DJANGO_VERSION ?? "0").split(".").map(Number);
  return a < major || (a === major && b < minor);
};

/** What `manage.py shell -c` printed last (Django 5.2's shell first says what it imported). */
const lastLine = (stdout: string) => stdout.trim().split("\n").at(-1) ?? "";

describe("sessions shared with a running Django", { skip: NO_DJANGO }, () => {
  const { dir, children } = processScope("django-interop");
  const databasePath = join(dir, "shared.sqlite3");
  const djangoEnv = {
    ...process.env,
    SECRET_KEY,
    DATABASE_PATH: databasePath,
    PYTHONDONTWRITEBYTECODE: "1",
    PYTHONUNBUFFERED: "1",
  };
  let django: ChildProcess;
  let djangoUrl: string;
  let node: FastifyInstance;
  let sqlite: SQLite.Database;
  let db: Kysely<SessionsDatabase> | undefined;
  let userId: string;
  /** auth_user.password of an active user, as the Node side looks it up. */
  let passwordHash: (id: string) => Promise<string | undefined>;

  /** manage.py <args> in the Django project, run to the end; its stdout. */
  function manage(...args: string[]): string {
    const run = spawnSync(DJANGO_PYTHON!, ["manage.py", ...args], {
      cwd: DJANGO_PROJECT,
      env: djangoEnv,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, `manage.py ${args[0]} failed:\n${run.stdout}\n${run.stderr}`);
    return run.stdout;
  }

  before(async () => {
    // Django creates its tables first (auth_user, django_session); the Node side only uses them.
    manage("migrate", "--noinput");
    userId = lastLine(
      manage(
        "shell",
        "-c",
        `from django.contrib.auth.models import User; print(User.objects.create_user("ada", password=${JSON.stringify(PASSWORD)}).pk)`,
      ),
    );
    const port = await freePort();
    djangoUrl = `http://127.0.0.1:${port}`;
    django = spawn(DJANGO_PYTHON!, ["manage.py", "runserver", `127.0.0.1:${port}`, "--noreload"], {
      cwd: DJANGO_PROJECT,
      env: djangoEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(django);
    let output = "";
    django.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    django.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${djangoUrl}/`)).ok) break;
      } catch {
        // not listening yet
      }
      assert.ok(django.exitCode === null && Date.now() < deadline, `runserver did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    sqlite = new SQLite(databasePath);
    sqlite.pragma("busy_timeout = 5000");
    db = new Kysely<SessionsDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
    const settings = resolveSessionSettings({ SECRET_KEY, SESSION_DB_TABLE: "django_session" });
    const engine = await createSessionEngine(settings, { db, sqlite });
    const password = sqlite.prepare<[string], string>("SELECT password FROM auth_user WHERE id = ? AND is_active = 1");
    node = Fastify();
    await node.register(sessions, { engine });
    node.get<{ Querystring: { key: string; value?: string } }>("/set", (request) => {
      request.session.set(request.query.key, request.query.value ?? "");
      return { ok: true };
    });
    node.get<{ Querystring: { key: string } }>("/get", (request) => ({
      found: request.session.has(request.query.key),
      value: request.session.get(request.query.key) ?? null,
    }));
    passwordHash = async (id) => password.pluck().get(id);
    node.get("/whoami", async (request) => ({ user: await djangoUserId(request.session, { passwordHash }) }));
    node.post("/logout", async (request) => {
      await request.session.flush();
      return { ok: true };
    });
  });

  after(async () => {
    await node?.close();
    await db?.destroy();
    // runserver, started by this file: by its PID (processScope kills it too if this is not reached).
    if (django?.pid !== undefined && django.exitCode === null) django.kill("SIGTERM");
  });

  const rows = () => (sqlite.prepare("SELECT session_key FROM django_session").pluck().all() as string[]).sort();

  /** A browser on the site both servers serve: one cookie jar. */
  function browser() {
    const jar = new CookieJar();
    const onNode = async (method: "GET" | "POST", url: string) => {
      const response = await node.inject({ method, url, headers: { cookie: jar.header() } });
      jar.store(response.headers["set-cookie"]);
      return response;
    };
    const onDjango = async (path: string, form?: Record<string, string>) => {
      const response = await fetch(`${djangoUrl}${path}`, {
        method: form ? "POST" : "GET",
        redirect: "manual",
        headers: {
          cookie: jar.header(),
          ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      jar.store(response.headers.getSetCookie());
      return { status: response.status, location: response.headers.get("location"), body: await response.text() };
    };
    /** POST a Django form with the CSRF token a page of its gave (the csrftoken cookie with it). */
    const djangoForm = async (page: string, action: string, fields: Record<string, string> = {}) => {
      const { body } = await onDjango(page);
      const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(body)?.[1];
      assert.ok(token, `${page} has a CSRF token`);
      return onDjango(action, { csrfmiddlewaretoken: token, ...fields });
    };
    const loginOnDjango = async (password = PASSWORD) =>
      djangoForm("/login/", "/login/", { username: "ada", password, next: "/account/" });
    const key = () => jar.cookies.get("sessionid");
    return { jar, onNode, onDjango, djangoForm, loginOnDjango, key };
  }

  test("Django's views run under its own test client (each once)", () => {
    const run = spawnSync(DJANGO_PYTHON!, ["manage.py", "test", "demo", "--noinput"], {
      cwd: DJANGO_PROJECT,
      env: djangoEnv,
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /Ran 5 tests/);
  });

  test("a session Node started is Django's: read there, kept through Django's login, whose user Node recognises", async () => {
    const b = browser();
    await b.onNode("GET", "/set?key=colour&value=blue");
    const started = b.key();
    assert.ok(started, "Node set the sessionid cookie");
    assert.deepEqual(rows().includes(started), true, "a row of django_session");
    const read = await b.onDjango("/session/get/?key=colour");
    assert.match(read.body, /<output id="value">blue<\/output>/);

    assert.equal((await b.onNode("GET", "/whoami")).json<{ user: string | null }>().user, null, "anonymous so far");
    const login = await b.loginOnDjango();
    assert.equal(login.status, 302);
    assert.equal(login.location, "/account/");
    const loggedIn = b.key();
    assert.ok(loggedIn && loggedIn !== started, "Django's login() cycled the key");
    assert.ok(!rows().includes(started), "and deleted the old row");
    assert.deepEqual((await b.onNode("GET", "/whoami")).json(), { user: userId });
    assert.deepEqual((await b.onNode("GET", "/get?key=colour")).json(), { found: true, value: "blue" });
    assert.match((await b.onDjango("/account/")).body, /<output id="username">ada<\/output>/);
  });

  test("values set on either side are read on the other, and Django's login survives Node's writes", async () => {
    const b = browser();
    await b.loginOnDjango();
    await b.onDjango("/session/set/?key=size&value=large");
    assert.deepEqual((await b.onNode("GET", "/get?key=size")).json(), { found: true, value: "large" });
    await b.onNode("GET", "/set?key=size&value=small");
    await b.onNode("GET", "/set?key=note&value=caf%C3%A9%20%E2%9C%93");
    assert.match((await b.onDjango("/session/get/?key=size")).body, /<output id="value">small<\/output>/);
    assert.match((await b.onDjango("/session/get/?key=note")).body, /<output id="value">café ✓<\/output>/);
    const counter = await b.onDjango("/counter/");
    assert.match(counter.body, /<output id="visits">1<\/output>/);
    assert.deepEqual((await b.onNode("GET", "/get?key=visits")).json(), { found: true, value: 1 });
    assert.equal((await b.onDjango("/account/")).status, 200, "still logged in on Django");
  });

  test("a flush on Node logs the visitor out of Django too", async () => {
    const b = browser();
    await b.loginOnDjango();
    const key = b.key()!;
    await b.onNode("POST", "/logout");
    assert.equal(b.key(), undefined, "Node's delete cookie");
    assert.ok(!rows().includes(key), "the row is gone");
    b.jar.cookies.set("sessionid", key); // a browser that kept the old cookie
    const account = await b.onDjango("/account/");
    assert.equal(account.status, 302);
    assert.equal(account.location, "/login/?next=/account/");
  });

  test("a logout on Django ends the session on Node too", async () => {
    const b = browser();
    await b.loginOnDjango();
    await b.onNode("GET", "/set?key=colour&value=green");
    const key = b.key()!;
    assert.deepEqual((await b.onNode("GET", "/whoami")).json(), { user: userId });
    const logout = await b.djangoForm("/account/", "/logout/");
    assert.equal(logout.status, 302);
    assert.equal(b.key(), undefined, "Django's delete cookie");
    assert.ok(!rows().includes(key));
    b.jar.cookies.set("sessionid", key);
    assert.deepEqual((await b.onNode("GET", "/whoami")).json(), { user: null });
    assert.deepEqual((await b.onNode("GET", "/get?key=colour")).json(), { found: false, value: null });
  });

  test(
    "a key rotation: Node, given the old key as a fallback, moves Django's login to the new key, which Django then verifies",
    { skip: djangoBefore(4, 1) && `Django ${DJANGO_VERSION} has no SECRET_KEY_FALLBACKS (4.1 and later)` },
    async () => {
      const b = browser();
      await b.loginOnDjango();
      const loggedIn = b.key()!;
      const NEW_KEY = "interop-rotated-secret-key-for-both-sides";
      const rotated = await createSessionEngine(
        resolveSessionSettings({
          SECRET_KEY: NEW_KEY,
          SECRET_KEY_FALLBACKS: [SECRET_KEY],
          SESSION_DB_TABLE: "django_session",
        }),
        { db: db!, sqlite },
      );
      const session = rotated.open(loggedIn);
      await session.load();
      assert.equal(await djangoUserId(session, { passwordHash }), userId);
      await session.save();
      const moved = session.sessionKey!;
      assert.notEqual(moved, loggedIn, "the key cycled");
      assert.deepEqual(rows().includes(loggedIn), false);
      // Django with the same rotation verifies the rewritten hash under the new key.
      const check = spawnSync(
        DJANGO_PYTHON!,
        [
          "manage.py",
          "shell",
          "-c",
          [
            "from django.contrib.auth import get_user",
            "from django.contrib.sessions.backends.db import SessionStore",
            "from django.test import RequestFactory",
            'request = RequestFactory().get("/")',
            `request.session = SessionStore(session_key=${JSON.stringify(moved)})`,
            "print(get_user(request).pk, request.session.session_key)",
          ].join("\n"),
        ],
        {
          cwd: DJANGO_PROJECT,
          env: { ...djangoEnv, SECRET_KEY: NEW_KEY, SECRET_KEY_FALLBACKS: SECRET_KEY },
          encoding: "utf8",
          timeout: 120_000,
        },
      );
      assert.equal(check.status, 0, check.stderr);
      assert.equal(lastLine(check.stdout), `${userId} ${moved}`, "logged in, under the same key (no second cycle)");
    },
  );

  test("a password changed on Django logs its other sessions out on Node (flushed)", async () => {
    const b = browser();
    await b.loginOnDjango();
    const key = b.key()!;
    manage(
      "shell",
      "-c",
      `from django.contrib.auth.models import User; u = User.objects.get(pk=${userId}); u.set_password("a new password"); u.save()`,
    );
    assert.deepEqual((await b.onNode("GET", "/whoami")).json(), { user: null });
    assert.equal(b.key(), undefined, "Node flushed the session");
    assert.ok(!rows().includes(key));
    // ada's password is now the new one: tests that log in go before this one.
  });
});

describe(
  "the Node side creates django_session first; Django then migrates with --fake-initial",
  { skip: NO_DJANGO },
  () => {
    const { dir } = processScope("django-interop-first");
    const databasePath = join(dir, "node-first.sqlite3");
    const env = { ...process.env, SECRET_KEY, DATABASE_PATH: databasePath, PYTHONDONTWRITEBYTECODE: "1" };
    const manage = (...args: string[]) =>
      spawnSync(DJANGO_PYTHON!, ["manage.py", ...args], {
        cwd: DJANGO_PROJECT,
        env,
        encoding: "utf8",
        timeout: 120_000,
      });

    test("Django takes the table as its own and reads the session Node stored in it", async () => {
      const sqlite = new SQLite(databasePath);
      const db = new Kysely<SessionsDatabase>({ dialect: new SqliteDialect({ database: sqlite }) });
      try {
        await sessionTablesMigration({ table: "django_session" }).up(db as Kysely<unknown>);
        const schema = () =>
          sqlite
            .prepare("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'django_session' ORDER BY name")
            .all();
        const made = schema();
        const engine = await createSessionEngine(
          resolveSessionSettings({ SECRET_KEY, SESSION_DB_TABLE: "django_session" }),
          {
            db,
            sqlite,
          },
        );
        const session = engine.open(null);
        session.set("colour", "blue");
        await session.save();

        const plain = manage("migrate", "--noinput");
        assert.notEqual(plain.status, 0, "a plain migrate stops at the existing table");
        assert.match(plain.stderr, /django_session" already exists|table "django_session" already exists/);
        const faked = manage("migrate", "--fake-initial", "--noinput");
        assert.equal(faked.status, 0, faked.stderr);
        assert.match(faked.stdout, /Applying sessions\.0001_initial\.\.\. FAKED/);
        assert.deepEqual(schema(), made, "Django left the table as Node made it");
        const read = manage(
          "shell",
          "-c",
          `from django.contrib.sessions.backends.db import SessionStore; print(SessionStore(session_key=${JSON.stringify(session.sessionKey)})["colour"])`,
        );
        assert.equal(read.status, 0, read.stderr);
        assert.equal(lastLine(read.stdout), "blue");
      } finally {
        await db.destroy();
      }
    });
  },
);
