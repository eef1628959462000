/**
 * The request log: method, path and status for every request, and never the session key, a
 * session value, a query string, a password or a cookie. JSON lines in production, readable
 * lines in development (checked on the real server process).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loggerOptions, serializeRequest } from "../src/logging.js";
import { appFixture, visitor } from "./helpers.js";
import { processScope, SERVER_ARGS, serverEnv } from "./processes.js";

const { dir, children } = processScope("logging-test");

type LogLine = Record<string, unknown>;

describe("what the request log holds", () => {
  test("a visit through set, get, counter, a failed login and a 404: no key, value, password or cookie in any line", async () => {
    const f = await appFixture();
    const v = visitor(f.app);
    const VALUE = "zebra-7c1e-distinctive-value";
    const PASSWORD = "hunter2-distinctive-password";
    const SECRET_PATH_QUERY = "query-9f3b-distinctive";

    assert.equal((await v.get(`/session/set/?key=colour&value=${VALUE}`)).statusCode, 200);
    const sessionKey = v.sessionKey();
    assert.ok(sessionKey && sessionKey.length === 32, "the set started a session");
    assert.equal((await v.get("/session/get/?key=colour")).statusCode, 200);
    assert.match((await v.get("/session/get/?key=colour")).body, new RegExp(VALUE), "the value is stored");
    assert.equal((await v.get("/counter/")).statusCode, 200);
    assert.equal((await v.get("/session/json/")).statusCode, 200);
    assert.equal((await v.get("/login/")).statusCode, 200);
    const login = await v.post("/login/", { username: "nobody", password: PASSWORD });
    assert.ok(login.statusCode >= 200 && login.statusCode < 500, `login failure answered ${login.statusCode}`);
    assert.equal((await v.get(`/no/such/page/?secret=${SECRET_PATH_QUERY}`)).statusCode, 404);
    // A form without its token (403) and one with a wrong token, each carrying the cookies.
    assert.equal((await v.post("/counter/reset/", {}, null)).statusCode, 403);
    assert.equal((await v.post("/counter/reset/", {}, "wrong-token")).statusCode, 403);
    const csrfCookie = v.jar.cookies.get("csrftoken");
    assert.ok(csrfCookie, "a CSRF cookie was set");
    await f.app.close();

    const lines = f.logs.map((l) => JSON.stringify(l));
    assert.ok(lines.length >= 20, `request lines were captured: ${lines.length}`);
    for (const [what, secret] of [
      ["the session key", sessionKey],
      ["the session value", VALUE],
      ["the password", PASSWORD],
      ["a query value", SECRET_PATH_QUERY],
      ["the CSRF cookie", csrfCookie],
    ] as const) {
      const leaking = lines.filter((line) => line.includes(secret));
      assert.deepEqual(leaking, [], `${what} appears in the log`);
    }
    for (const line of f.logs) {
      assert.equal(JSON.stringify(line).includes("?"), false, `no query string: ${JSON.stringify(line)}`);
      assert.doesNotMatch(JSON.stringify(line), /cookie/i, `no cookie header: ${JSON.stringify(line)}`);
    }

    // ... while every request still says what it was and how it ended.
    const incoming = f.logs.filter((l) => l.msg === "incoming request");
    const completed = f.logs.filter((l) => l.msg === "request completed");
    assert.equal(incoming.length, 10);
    assert.equal(completed.length, 10);
    const requests = incoming.map((l) => {
      const req = l.req as Record<string, unknown>;
      const res = completed.find((c) => c.reqId === l.reqId)?.res as { statusCode?: number } | undefined;
      return `${String(req.method)} ${String(req.path)} ${res?.statusCode}`;
    });
    assert.deepEqual(requests, [
      "GET /session/set/ 200",
      "GET /session/get/ 200",
      "GET /session/get/ 200",
      "GET /counter/ 200",
      "GET /session/json/ 200",
      "GET /login/ 200",
      `POST /login/ ${login.statusCode}`,
      "GET /no/such/page/ 404",
      "POST /counter/reset/ 403",
      "POST /counter/reset/ 403",
    ]);
    for (const l of incoming) assert.equal((l.req as LogLine).url, undefined, "no url (with its query string)");
    assert.ok(f.logs.some((l) => l.msg === "not found" && l.path === "/no/such/page/"));
    assert.ok(f.logs.some((l) => l.msg === "login failed" && l.level === 40));
  });

  test("headers, if ever logged, have Cookie, Set-Cookie and Authorization redacted", async () => {
    const logs: LogLine[] = [];
    const { default: Fastify } = await import("fastify");
    const app = Fastify({
      logger: loggerOptions(
        { logLevel: "info", logFormat: "json" },
        { write: (line) => void logs.push(JSON.parse(line) as LogLine) },
      ),
    });
    app.log.info(
      {
        headers: {
          cookie: "sessionid=abc",
          "set-cookie": "sessionid=abc; Path=/",
          authorization: "Basic eDp5",
          accept: "text/html",
        },
        res: { headers: { "set-cookie": "sessionid=abc" } },
        upstream: { headers: { cookie: "sessionid=abc" } },
      },
      "headers",
    );
    await app.close();
    const line = logs.find((l) => l.msg === "headers")!;
    assert.doesNotMatch(JSON.stringify(line), /sessionid=abc|eDp5/);
    assert.deepEqual(line.headers, {
      cookie: "[Redacted]",
      "set-cookie": "[Redacted]",
      authorization: "[Redacted]",
      accept: "text/html",
    });
    assert.deepEqual((line.upstream as LogLine).headers, { cookie: "[Redacted]" });
  });

  test("the request serializer keeps the path and drops the query string and headers", () => {
    const serialized = serializeRequest({
      method: "GET",
      url: "/session/set/?key=k&value=v",
      ip: "127.0.0.1",
      host: "localhost:3000",
      headers: { host: "localhost:3000" },
      socket: { remotePort: 5000 },
    });
    assert.deepEqual(serialized, {
      method: "GET",
      path: "/session/set/",
      host: "localhost:3000",
      remoteAddress: "127.0.0.1",
      remotePort: 5000,
    });
  });
});

/** Runs `npm start` with this NODE_ENV, GETs /counter/?q=..., stops it; everything it printed. */
async function serverOutput(env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, SERVER_ARGS, {
    env: serverEnv({ NO_COLOR: "1", DATABASE_PATH: join(dir, `${env.NODE_ENV}.sqlite3`), ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not listen within 20 s:\n${stdout}\n${stderr}`)),
      20_000,
    );
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${stdout}\n${stderr}`));
    });
  });
  const page = await fetch(`${url}/counter/?q=query-value-4d2a`);
  assert.equal(page.status, 200);
  await page.text();
  child.kill("SIGTERM");
  assert.equal(await exited, 0, `${stdout}\n${stderr}`);
  return stdout;
}

describe("log format of the real server", () => {
  test("NODE_ENV=production: one JSON object per line", { timeout: 60_000 }, async () => {
    const stdout = await serverOutput({
      NODE_ENV: "production",
      SECRET_KEY: "a-real-production-secret-key-of-48-characters-xx",
    });
    const lines = stdout.split("\n").filter((line) => line !== "" && !line.startsWith("applied migration "));
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        assert.fail(`not a JSON line: ${line}`);
      }
    });
    for (const l of parsed) {
      assert.equal(typeof l.level, "number");
      assert.equal(typeof l.time, "number");
      assert.equal(typeof l.msg, "string");
    }
    assert.ok(parsed.some((l) => String(l.msg).startsWith("Server listening at http://127.0.0.1:")));
    const incoming = parsed.find((l) => l.msg === "incoming request");
    assert.deepEqual(
      { method: (incoming?.req as LogLine).method, path: (incoming?.req as LogLine).path },
      { method: "GET", path: "/counter/" },
    );
    assert.ok(parsed.some((l) => l.msg === "request completed" && (l.res as LogLine).statusCode === 200));
    assert.ok(parsed.some((l) => String(l.msg).startsWith("shutdown complete")));
    assert.doesNotMatch(stdout, /query-value-4d2a/);
  });

  test("NODE_ENV=development (the default): readable lines, not JSON", { timeout: 60_000 }, async () => {
    const stdout = await serverOutput({ NODE_ENV: "development" });
    const lines = stdout.split("\n").filter((line) => line !== "");
    for (const line of lines) assert.ok(!line.startsWith("{"), `a JSON line in development: ${line}`);
    assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Server listening at http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(
      stdout,
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[req-\d+\] incoming request: GET \/counter\/ from 127\.0\.0\.1$/m,
    );
    assert.match(stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[req-\d+\] request completed: 200 in \d+\.\d ms$/m);
    assert.match(stdout, /WARN: SECRET_KEY is not set/);
    assert.match(stdout, /INFO: shutdown complete/);
    assert.doesNotMatch(stdout, /query-value-4d2a/);
  });
});
