/**
 * The runtime against real services on loopback: a Redis (a `redis-server` child process) lost and
 * regained while the app runs, and startup against services that are not there.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { openRuntime, type Runtime } from "../src/runtime.js";
import { CookieJar } from "./helpers.js";
import { freePort, processScope, SERVER_ARGS, serverEnv } from "./processes.js";

const { dir, children } = processScope("runtime-test");

const redisCheck = spawnSync("redis-server", ["--version"], { encoding: "utf8", timeout: 5000 });
const NO_REDIS_SERVER = redisCheck.status === 0 ? false : "redis-server is not on PATH: cannot start a Redis to lose";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One PING over a raw socket: true if Redis answers +PONG within 500 ms. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
      if (answer.includes("\r\n")) done(answer.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

/** A redis-server on `port`; with `dataDir` it keeps its data there (an append-only file) across restarts. */
async function startRedis(port: number, dataDir?: string): Promise<ChildProcess> {
  const persistence = dataDir
    ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", dataDir]
    : ["--appendonly", "no"];
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += String(chunk)));
  child.stderr?.on("data", (chunk: Buffer) => (output += String(chunk)));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited early:\n${output}`);
    if (await pings(port)) return child;
    await sleep(50);
  }
  await stopProcess(child);
  throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`);
}

/** Stops a child by its PID and waits (bounded) until it has exited. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.kill(child.pid, "SIGTERM");
  const timedOut = await Promise.race([exited.then(() => false), sleep(5000).then(() => true)]);
  if (timedOut && child.exitCode === null && child.signalCode === null) {
    process.kill(child.pid, "SIGKILL");
    await Promise.race([exited, sleep(2000)]);
  }
}

interface Visit {
  status: number;
  body: string;
}

async function redisApp(port: number, engineName: "cache" | "cached_db") {
  const config = loadConfig({
    SECRET_KEY: "k",
    PASSWORD_HASHER: "fast",
    LOG_LEVEL: "silent",
    SESSION_ENGINE: engineName,
    CACHE_BACKEND: "redis",
    REDIS_URL: `redis://127.0.0.1:${port}`,
    DATABASE_URL: "",
    DATABASE_PATH: ":memory:",
  });
  const runtime: Runtime = await openRuntime(config);
  const logs: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  let app: FastifyInstance;
  try {
    app = await buildApp(config, {
      db: runtime.database.db,
      engine: runtime.engine,
      runtime,
      logger: { level: "info", stream },
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const jar = new CookieJar();
  const get = async (url: string): Promise<Visit> => {
    const response = await app.inject({ method: "GET", url, headers: { cookie: jar.header() } });
    jar.store(response.headers["set-cookie"]);
    return { status: response.statusCode, body: response.body };
  };
  const visit = () => get("/counter/");
  const close = async () => {
    await app.close();
    await runtime.close();
  };
  return { app, runtime, jar, get, visit, logs, close };
}

function visits(body: string): number | undefined {
  const found = /<strong id="visits">(\d+)<\/strong>/.exec(body);
  return found ? Number(found[1]) : undefined;
}

describe("Redis lost while the app runs", { skip: NO_REDIS_SERVER }, () => {
  test("cache engine: 503 while Redis is down, 200 again by itself when it returns", async (t) => {
    const port = await freePort();
    let redis = await startRedis(port);
    t.after(() => stopProcess(redis));
    const fixture = await redisApp(port, "cache");
    t.after(() => fixture.close());

    const first = await fixture.visit();
    assert.equal(first.status, 200);
    assert.equal(visits(first.body), 1);
    assert.ok(fixture.jar.cookies.has("sessionid"), "the first visit sets the session cookie");
    const second = await fixture.visit();
    assert.equal(second.status, 200);
    assert.equal(visits(second.body), 2);

    await stopProcess(redis);
    assert.equal(await pings(port), false, "redis-server is stopped");

    const down = await fixture.visit();
    assert.equal(down.status, 503);
    assert.match(down.body, /Service Unavailable \(503\)/);
    assert.doesNotMatch(down.body, /redis:\/\//i);
    assert.doesNotMatch(down.body, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(down.body, /\n\s+at .+\(.+:\d+:\d+\)/, "no stack trace in the page");
    assert.doesNotMatch(down.body, /CacheUnavailable|ECONNREFUSED|enableOfflineQueue/);

    redis = await startRedis(port);
    let back: Visit | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const attempt = await fixture.visit();
      if (attempt.status === 200) {
        back = attempt;
        break;
      }
      assert.equal(attempt.status, 503, `while reconnecting only 503 is acceptable, got ${attempt.status}`);
      await sleep(200);
    }
    assert.ok(back, "the app answers 200 again within 10 s of Redis returning");
    // Redis kept nothing (--save ""), so the session is gone and counting starts over.
    assert.equal(visits(back.body), 1);
    const next = await fixture.visit();
    assert.equal(next.status, 200);
    assert.equal(visits(next.body), 2);
  });

  test("cached_db engine: keeps counting from the database while Redis is down, and logs it", async (t) => {
    const port = await freePort();
    let redis = await startRedis(port);
    t.after(() => stopProcess(redis));
    const fixture = await redisApp(port, "cached_db");
    t.after(() => fixture.close());

    assert.equal(visits((await fixture.visit()).body), 1);
    const second = await fixture.visit();
    assert.equal(second.status, 200);
    assert.equal(visits(second.body), 2);

    await stopProcess(redis);
    const errorsBefore = fixture.logs.filter((l) => Number(l.level) >= 50).length;

    const third = await fixture.visit();
    assert.equal(third.status, 200);
    assert.equal(visits(third.body), 3);
    const fourth = await fixture.visit();
    assert.equal(fourth.status, 200);
    assert.equal(visits(fourth.body), 4);

    const errors = fixture.logs.filter((l) => Number(l.level) >= 50).slice(errorsBefore);
    assert.ok(errors.length > 0, "a cache failure is logged as an error");
    assert.ok(
      errors.some((l) => /cache/i.test(String(l.msg))),
      `an error names the cache: ${JSON.stringify(errors.map((l) => l.msg))}`,
    );

    redis = await startRedis(port);
    let back: Visit | undefined;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const attempt = await fixture.visit();
      assert.equal(attempt.status, 200);
      const logged = fixture.logs.length;
      back = attempt;
      // Once Redis is back, a visit logs nothing more.
      await sleep(200);
      const quiet = await fixture.visit();
      assert.equal(quiet.status, 200);
      back = quiet;
      if (fixture.logs.slice(logged).every((l) => Number(l.level) < 50)) break;
    }
    assert.ok(back);
    // The database kept counting throughout: nothing was lost.
    assert.ok((visits(back.body) ?? 0) >= 6, `still counting from the database: ${visits(back.body)}`);
  });
});

describe("cached_db and a Redis that comes back with its old data", { skip: NO_REDIS_SERVER }, () => {
  const valueOf = (body: string) => /<code id="value">([^<]*)<\/code>/.exec(body)?.[1]?.replaceAll("&#34;", '"');

  test("what was written while Redis was away is what is read once it returns, and what the next write keeps", async (t) => {
    const port = await freePort();
    const dataDir = join(dir, `redis-data-${port}`);
    mkdirSync(dataDir, { recursive: true });
    let redis = await startRedis(port, dataDir);
    t.after(() => stopProcess(redis));
    const fixture = await redisApp(port, "cached_db");
    t.after(() => fixture.close());

    assert.equal((await fixture.get("/session/set/?key=x&value=1")).status, 200);
    assert.equal(valueOf((await fixture.get("/session/get/?key=x")).body), '"1"');
    const raw = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await raw.connect();
    await raw.set("sentinel", "written before the outage");
    raw.disconnect();

    await stopProcess(redis);
    assert.equal(
      (await fixture.get("/session/set/?key=x&value=2")).status,
      200,
      "a write during the outage is acknowledged",
    );
    assert.equal(valueOf((await fixture.get("/session/get/?key=x")).body), '"2"');

    redis = await startRedis(port, dataDir);
    const back = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await back.connect();
    t.after(() => back.disconnect());
    assert.equal(await back.get("sentinel"), "written before the outage", "Redis came back with its data");

    // However soon and however often it is read, the session never goes back to x=1.
    const deadline = Date.now() + 2500;
    while (Date.now() < deadline) {
      const read = await fixture.get("/session/get/?key=x");
      assert.equal(read.status, 200);
      assert.equal(valueOf(read.body), '"2"', "never the copy from before the outage");
      await sleep(100);
    }
    assert.equal((await fixture.get("/session/set/?key=y&value=3")).status, 200);
    const key = fixture.jar.cookies.get("sessionid")!;
    const stored = fixture.runtime.engine.open(key);
    await stored.load();
    assert.deepEqual(Object.fromEntries(stored.items()), { x: "2", y: "3" }, "the next write kept x=2");
    const rows = await fixture.runtime.database.db
      .selectFrom("sessions")
      .select("session_data")
      .where("session_key", "=", key)
      .execute();
    assert.deepEqual(stored.decode(rows[0]!.session_data), { x: "2", y: "3" }, "and so does the database");
  });
});

describe("startup against services that are not there", () => {
  function startServer(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const child = spawn(process.execPath, SERVER_ARGS, {
      env: serverEnv({ LOG_LEVEL: "warn", ...env }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
        reject(new Error(`the server did not exit within 15 s\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, 15_000);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stderr, stdout });
      });
    });
  }

  test("an unreachable Redis for the cache engine stops the app with one line", async () => {
    const port = await freePort();
    const r = await startServer({
      SESSION_ENGINE: "cache",
      CACHE_BACKEND: "redis",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      DATABASE_PATH: join(dir, "redis-down.sqlite3"),
    });
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, /Redis at redis:\/\/127\.0\.0\.1:\d+\/?\) is unavailable: connect ECONNREFUSED/);
  });

  test("an unreachable PostgreSQL stops the app with one line", async () => {
    const port = await freePort();
    const r = await startServer({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
      DATABASE_PATH: join(dir, "unused.sqlite3"),
    });
    assert.notEqual(r.code, 0);
    assert.notEqual(r.code, null);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: /);
    assert.match(lines[0]!, /PostgreSQL/);
  });
});
