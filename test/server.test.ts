/**
 * `npm start` as a user runs it: startup errors are one clear line, never a stack trace; SIGTERM
 * and SIGINT stop it gracefully (no new connections, in-flight requests finished, database closed,
 * exit 0).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { openSqlite } from "../src/db/database.js";
import { main } from "../src/server.js";
import { createSessionEngine } from "fastify-django-sessions";
import { CookieJar, csrfToken, TEST_SECRET, testSettings } from "./helpers.js";
import { groupLeaders, processScope, SERVER_ARGS, serverEnv } from "./processes.js";

const { dir, children } = processScope("server-test");
/** Server processes below `npm start`, by PID, in case npm exits without them. */
const orphans = new Set<number>();
after(() => {
  // A test that failed half-way must not leave its server running: stop it by its PID.
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * Start-up in-process (`main()`, what `npm start` runs): the exit status it would have and what it
 * wrote. The child-process tests below cover the program itself: its exit codes and signals.
 */
async function start(env: Record<string, string>) {
  let stdout = "";
  let stderr = "";
  const app = await main({
    env: serverEnv({ LOG_LEVEL: "warn", ...env }),
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  if (app) await app.close();
  return { status: app ? 0 : 1, stdout, stderr };
}

test("a start-up error from the program itself: exit 1 and one line on stderr", () => {
  const result = spawnSync(process.execPath, SERVER_ARGS, {
    encoding: "utf8",
    timeout: 30_000,
    env: serverEnv({ LOG_LEVEL: "warn", DATABASE_PATH: join(dir, "program.sqlite3"), SESSION_ENGINE: "redis-please" }),
  });
  assert.equal(result.status, 1, result.stderr);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0]!, /^error: SESSION_ENGINE "redis-please" is not a session engine/);
  assert.match(result.stderr, /Valid engines: db, cache, cached_db, file, signed_cookies/);
});

test("without the sessions table and with auto-migration off, one line names the command", async () => {
  const r = await start({ DATABASE_PATH: join(dir, "empty.sqlite3"), MIGRATE_ON_START: "false" });
  assert.equal(r.status, 1);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    `error: the sessions table (SESSION_DB_TABLE=sessions) does not exist in ${join(dir, "empty.sqlite3")}. ` +
      "Run `npm run migrate` to create it.",
  ]);
});

for (const [name, value, pattern] of [
  ["SESSION_COOKIE_AGE", "two weeks", /SESSION_COOKIE_AGE must be a whole number of seconds/],
  ["SESSION_COOKIE_SAMESITE", "sometimes", /SESSION_COOKIE_SAMESITE must be Lax, Strict, None or false/],
  ["SESSION_COOKIE_SECURE", "maybe", /SESSION_COOKIE_SECURE must be true or false/],
  [
    "SESSION_ENGINE",
    "redis-please",
    /SESSION_ENGINE "redis-please" is not a session engine.*Valid engines: db, cache, cached_db, file, signed_cookies/,
  ],
  ["PORT", "eighty", /PORT/],
  ["SESSION_FILE_PATH", "/no/such/session/dir", /SESSION_FILE_PATH "\/no\/such\/session\/dir" does not exist/],
] as const) {
  test(`a bad ${name} stops the app with one line naming it`, async () => {
    const r = await start({
      DATABASE_PATH: join(dir, "bad.sqlite3"),
      ...(name === "SESSION_FILE_PATH" ? { SESSION_ENGINE: "file" } : {}),
      [name]: value,
    });
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, pattern);
  });
}

test("production refuses a missing or development SECRET_KEY in one line", async () => {
  for (const secret of ["", "django-insecure-demo-key-change-me-in-production", "short"]) {
    const r = await start({ DATABASE_PATH: join(dir, "prod.sqlite3"), NODE_ENV: "production", SECRET_KEY: secret });
    assert.equal(r.status, 1, secret);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^error: SECRET_KEY must be set to a real secret of at least 32 characters when NODE_ENV=production/,
    );
  }
});

test("starts, applies migrations, serves, and exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, SERVER_ARGS, {
    env: serverEnv({ DATABASE_PATH: join(dir, "ok.sqlite3"), SESSION_COOKIE_SECURE: "true" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += String(chunk);
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
  });
  assert.match(output, /applied migration 0001_create_sessions/);
  assert.equal(
    output.match(/SESSION_COOKIE_SECURE is on but this server speaks plain HTTP/g)?.length,
    1,
    "warned once",
  );
  const response = await fetch(`${url}/counter/`);
  assert.equal(response.status, 200);
  // A connection opened ahead of time and never used (browsers do this) must not hold shutdown.
  const { port } = new URL(url);
  const unused = net.connect(Number(port), "127.0.0.1");
  unused.on("error", () => {});
  await new Promise((resolve) => unused.on("connect", resolve));
  const exitCode = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const started = Date.now();
  child.kill("SIGTERM");
  assert.equal(await exitCode, 0);
  assert.ok(Date.now() - started < 3000, `exited ${Date.now() - started} ms after SIGTERM`);
  unused.destroy();
});

type LogLine = Record<string, unknown>;

interface Served {
  child: ChildProcess;
  url: string;
  port: number;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Everything printed so far. */
  output(): string;
  /** The JSON log lines printed so far (NODE_ENV=test). */
  logs(): LogLine[];
  /** Resolves with the first log line (present or future) that `match` accepts; rejects after 20 s. */
  waitForLog(match: (line: LogLine) => boolean, what: string): Promise<LogLine>;
}

/**
 * The server on a free loopback port with JSON logs, as `node --import tsx src/server.ts` or
 * through `npm start` itself; resolves once it listens.
 */
async function serve(env: Record<string, string>, via: "node" | "npm" = "node"): Promise<Served> {
  const [command, args] = via === "npm" ? ["npm", ["start"]] : [process.execPath, SERVER_ARGS];
  const child = spawn(command, args, {
    env: serverEnv({ NODE_ENV: "test", SECRET_KEY: TEST_SECRET, ...env }),
    stdio: ["ignore", "pipe", "pipe"],
    // npm in a process group of its own, so a failed test's cleanup ends the server below it too.
    detached: via === "npm",
  });
  children.add(child);
  if (via === "npm") groupLeaders.add(child);
  let stdout = "";
  let stderr = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += String(chunk);
    for (const waiter of waiters) waiter();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  // "close", not "exit": a process can exit before its last lines are read from the pipe (under
  // `npm start` the server's shutdown line came after npm's exit was seen).
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const output = () => `stdout:\n${stdout}\nstderr:\n${stderr}`;
  const logs = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as LogLine);
  const waitForLog = (match: (line: LogLine) => boolean, what: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const found = logs().find(match);
        if (found) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no log line ${what} within 20 s\n${output()}`));
      }, 20_000);
      waiters.add(check);
      check();
    });
  const listening = await Promise.race([
    waitForLog((l) => /^Server listening at /.test(String(l.msg)), "Server listening at"),
    exited.then((code) => Promise.reject(new Error(`the server exited (${code}) before listening\n${output()}`))),
  ]);
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(String(listening.msg))![1]!;
  return { child, url, port: Number(new URL(url).port), exited, output, logs, waitForLog };
}

/**
 * What a brand-new connection gets: refused (nobody listens), closed without an answer, or an
 * HTTP status line.
 */
function newConnection(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    socket.on("data", (chunk: Buffer) => (answer += String(chunk)));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") resolve("refused");
    });
    socket.on("close", () => resolve(answer ? answer.split("\r\n")[0]! : "closed"));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test(
  "SIGTERM while a request is in flight: new connections refused, that request finished, database closed, exit 0",
  { timeout: 90_000 },
  async () => {
    const databasePath = join(dir, "in-flight.sqlite3");
    const server = await serve({ DATABASE_PATH: databasePath });

    // A visitor with a session (visits = 1), a CSRF cookie and the reset form's token.
    const jar = new CookieJar();
    const page = await fetch(`${server.url}/counter/`);
    assert.equal(page.status, 200);
    jar.store(page.headers.getSetCookie());
    const sessionKey = jar.cookies.get("sessionid");
    assert.ok(sessionKey, "the visit started a session");
    const body = new URLSearchParams({ _csrf: csrfToken(await page.text()) }).toString();
    const half = Math.floor(body.length / 2);

    // POST /counter/reset/ on a connection of its own: the headers and half the form, then nothing.
    const request = http.request({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: "/counter/reset/",
      agent: false,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body),
        cookie: jar.header(),
      },
    });
    let answered = false;
    const response = new Promise<{ status: number; location: string | undefined; setCookie: string[] }>(
      (resolve, reject) => {
        request.on("response", (res) => {
          answered = true;
          res.resume();
          res.on("end", () =>
            resolve({
              status: res.statusCode!,
              location: res.headers.location,
              setCookie: res.headers["set-cookie"] ?? [],
            }),
          );
        });
        request.on("error", reject);
      },
    );
    request.write(body.slice(0, half));
    await server.waitForLog(
      (l) => l.msg === "incoming request" && (l.req as { path?: string } | undefined)?.path === "/counter/reset/",
      "for the POST",
    );

    server.child.kill("SIGTERM");
    const stopping = await server.waitForLog((l) => /^shutting down/.test(String(l.msg)), "shutting down");
    assert.equal(stopping.signal, "SIGTERM");

    // New connections are not served from now on; soon nobody listens at all.
    let outcome = await newConnection(server.port);
    for (let tries = 0; outcome !== "refused" && tries < 100; tries++) {
      assert.equal(outcome, "closed", "a connection made during shutdown is closed unanswered");
      await sleep(100);
      outcome = await newConnection(server.port);
    }
    assert.equal(outcome, "refused", "the listener is closed");
    assert.equal(answered, false);
    assert.equal(server.child.exitCode, null, "still running: the POST is in flight");

    // The rest of the form: the request completes normally, session saved in the database.
    request.end(body.slice(half));
    const done = await response;
    assert.equal(done.status, 303);
    assert.equal(done.location, "/counter/");
    assert.ok(
      done.setCookie.some((c) => c.startsWith(`sessionid=${sessionKey};`)),
      "the saved session's cookie",
    );

    assert.equal(await server.exited, 0, server.output());
    const messages = server.logs().map((l) => String(l.msg));
    const completed = server
      .logs()
      .findIndex((l) => l.msg === "request completed" && (l.res as { statusCode?: number }).statusCode === 303);
    assert.ok(
      completed > messages.findIndex((m) => m.startsWith("shutting down")),
      "the POST completed after the signal",
    );
    assert.match(messages.at(-1)!, /^shutdown complete/);

    // SQLite removes the -wal file when the last connection closes: the handle was closed.
    assert.equal(existsSync(`${databasePath}-wal`), false, "the SQLite database was closed");
    const database = openSqlite(databasePath);
    try {
      const engine = await createSessionEngine(testSettings(), { db: database.db });
      const session = engine.open(sessionKey);
      await session.load();
      assert.equal(session.sessionKey, sessionKey, "the session is still stored");
      assert.equal(session.has("visits"), false, "the reset was saved");
    } finally {
      await database.db.destroy();
    }
  },
);

test("SIGINT (Ctrl-C) stops it the same way: exit 0, shutdown logged", { timeout: 60_000 }, async () => {
  const server = await serve({ DATABASE_PATH: join(dir, "sigint.sqlite3") });
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok", checks: { database: "ok" } });
  server.child.kill("SIGINT");
  assert.equal(await server.exited, 0, server.output());
  const logs = server.logs();
  assert.ok(
    logs.some((l) => /^shutting down/.test(String(l.msg)) && l.signal === "SIGINT"),
    server.output(),
  );
  assert.match(String(logs.at(-1)?.msg), /^shutdown complete/);
  assert.equal(existsSync(join(dir, "sigint.sqlite3-wal")), false, "the SQLite database was closed");
});

test(
  "`npm start` passes SIGTERM on to the server (a process manager stops npm, not the server)",
  { timeout: 60_000 },
  async () => {
    const databasePath = join(dir, "npm-start.sqlite3");
    const server = await serve({ DATABASE_PATH: databasePath }, "npm");
    const serverPid = Number(server.logs().find((l) => typeof l.pid === "number")?.pid);
    assert.ok(serverPid > 0 && serverPid !== server.child.pid, "the server is a process below npm");
    orphans.add(serverPid);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0, server.output());
    const logs = server.logs();
    assert.ok(
      logs.some((l) => /^shutting down/.test(String(l.msg)) && l.signal === "SIGTERM"),
      server.output(),
    );
    assert.match(String(logs.at(-1)?.msg), /^shutdown complete/);
    assert.throws(() => process.kill(serverPid, 0), { code: "ESRCH" }, "the server process is gone, not orphaned");
    orphans.delete(serverPid);
    assert.equal(existsSync(`${databasePath}-wal`), false, "the SQLite database was closed");
  },
);

test(
  "kill -9 right after the responses: every acknowledged write is there when the server starts again",
  { timeout: 90_000 },
  async () => {
    const databasePath = join(dir, "killed.sqlite3");
    const server = await serve({ DATABASE_PATH: databasePath });
    // 60 visitors, each with a session, then all at once: a value set and 5 locked counter hits each.
    const visitors = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const jar = new CookieJar();
        const page = await fetch(`${server.url}/counter/`);
        jar.store(page.headers.getSetCookie());
        return jar;
      }),
    );
    const acknowledged = await Promise.all(
      visitors.map(async (jar, i) => {
        const headers = { cookie: jar.header() };
        const set = await fetch(`${server.url}/session/set/?key=written&value=v${i}`, { headers });
        let visits = 1;
        for (let hit = 0; hit < 5; hit++) {
          const page = await fetch(`${server.url}/counter/`, { headers });
          assert.equal(page.status, 200);
          visits = Number(/<strong id="visits">(\d+)<\/strong>/.exec(await page.text())![1]);
        }
        assert.equal(set.status, 200);
        return { jar, value: `v${i}`, visits };
      }),
    );
    // No shutdown: the process dies as in a crash or the OOM killer.
    process.kill(server.child.pid!, "SIGKILL");
    await server.exited;

    const again = await serve({ DATABASE_PATH: databasePath });
    for (const { jar, value, visits } of acknowledged) {
      assert.equal(visits, 6);
      const json = (await (
        await fetch(`${again.url}/session/json/`, { headers: { cookie: jar.header() } })
      ).json()) as {
        session: Record<string, unknown>;
      };
      assert.equal(json.session.written, value, "the value set before the crash");
      assert.equal(json.session.visits, visits, "every counted visit");
    }
    process.kill(again.child.pid!, "SIGTERM");
    assert.equal(await again.exited, 0);
  },
);
