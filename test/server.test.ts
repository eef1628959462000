/** `npm start` as a user runs it: startup errors are one clear line, never a stack trace. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "server-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
    encoding: "utf8",
    timeout: 20_000,
    env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "warn", ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("without the sessions table and with auto-migration off, one line names the command", () => {
  const r = start({ DATABASE_PATH: join(dir, "empty.sqlite3"), MIGRATE_ON_START: "false" });
  assert.equal(r.status, 1);
  assert.deepEqual(r.stderr.trim().split("\n"), [
    `error: the sessions table does not exist in ${join(dir, "empty.sqlite3")}. Run \`npm run migrate\` to create it.`,
  ]);
});

for (const [name, value, pattern] of [
  ["SESSION_COOKIE_AGE", "two weeks", /SESSION_COOKIE_AGE must be a whole number of seconds/],
  ["SESSION_COOKIE_SAMESITE", "sometimes", /SESSION_COOKIE_SAMESITE must be Lax, Strict, None or false/],
  ["SESSION_COOKIE_SECURE", "maybe", /SESSION_COOKIE_SECURE must be true or false/],
  ["SESSION_ENGINE", "redis-please", /SESSION_ENGINE "redis-please" is not a session engine.*Valid engines: db, cache, cached_db, file, signed_cookies/],
  ["PORT", "eighty", /PORT/],
  ["SESSION_FILE_PATH", "/no/such/session/dir", /SESSION_FILE_PATH "\/no\/such\/session\/dir" does not exist/],
] as const) {
  test(`a bad ${name} stops the app with one line naming it`, () => {
    const r = start({
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

test("production refuses a missing or development SECRET_KEY in one line", () => {
  for (const secret of ["", "django-insecure-demo-key-change-me-in-production", "short"]) {
    const r = start({ DATABASE_PATH: join(dir, "prod.sqlite3"), NODE_ENV: "production", SECRET_KEY: secret });
    assert.equal(r.status, 1, secret);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^error: SECRET_KEY must be set to a real secret of at least 32 characters when NODE_ENV=production/);
  }
});

test("starts, applies migrations, serves, and exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    env: {
      ...process.env,
      DATABASE_URL: "",
      REDIS_URL: "",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "info",
      DATABASE_PATH: join(dir, "ok.sqlite3"),
      SESSION_COOKIE_SECURE: "true",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
  });
  assert.match(output, /applied migration 0001_create_sessions/);
  assert.equal(output.match(/SESSION_COOKIE_SECURE is on but this server speaks plain HTTP/g)?.length, 1, "warned once");
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
