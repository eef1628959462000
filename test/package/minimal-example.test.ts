/**
 * examples/minimal/server.js as its comment says to run it, with plain node from the workspace:
 * it finds the package by name through the root node_modules (the workspace link, so the built
 * dist/), sets, reads and flushes a session in its SQLite file, and refuses to start without a
 * SECRET_KEY with one line that names it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import SQLite from "better-sqlite3";
import { PROJECT_ROOT, processScope } from "../processes.js";

const { dir, children } = processScope("minimal-example");
const SERVER = join(PROJECT_ROOT, "examples/minimal/server.js");
const SECRET_KEY = "a minimal-example secret that is long enough to be real";

test("the minimal example sets, reads and flushes a session stored in its SQLite file", async () => {
  const database = join(dir, "sessions.sqlite3");
  const child = spawn(process.execPath, [SERVER], {
    cwd: dir,
    env: { ...process.env, SECRET_KEY, DATABASE_PATH: database, PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  const base = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += String(chunk);
      const address = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      if (address) resolve(address);
    });
    child.on("exit", (code) => reject(new Error(`the example exited (${code}): ${stderr}`)));
  });
  const rows = () => {
    const db = new SQLite(database, { readonly: true });
    try {
      return db.prepare("select session_key from sessions").pluck().all() as string[];
    } finally {
      db.close();
    }
  };

  const set = await fetch(`${base}/set?name=Ada`);
  assert.equal(await set.text(), "saved\n");
  const cookie = set.headers.get("set-cookie")!.split(";")[0]!;
  assert.deepEqual(rows(), [cookie.replace("sessionid=", "")]);
  assert.equal(await (await fetch(`${base}/`, { headers: { cookie } })).text(), "hello Ada\n");
  const flush = await fetch(`${base}/flush`, { headers: { cookie } });
  assert.match(flush.headers.get("set-cookie") ?? "", /^sessionid=""; Max-Age=0/);
  assert.deepEqual(rows(), []);
  assert.equal(await (await fetch(`${base}/`, { headers: { cookie } })).text(), "hello stranger\n");
  child.kill("SIGTERM");
});

test("without SECRET_KEY the example exits 1 with a line naming it, no stack trace", () => {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_PATH: join(dir, "refused.sqlite3") };
  delete env.SECRET_KEY;
  const result = spawnSync(process.execPath, [SERVER], { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^Invalid session settings: SECRET_KEY .+\n$/);
});
