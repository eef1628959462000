/**
 * The store drivers are optional peers: importing the package loads none of them, and a cache or
 * engine that needs a missing one says which package to install. Each case runs in a child
 * process where ioredis, kysely, better-sqlite3 and pg cannot be loaded (import or require):
 * a preloaded module fails their resolution and prints a line for every attempt.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { PROJECT_ROOT } from "../../../test/processes.js";

const DRIVERS = ["ioredis", "kysely", "better-sqlite3", "pg"];

const dir = mkdtempSync(join(tmpdir(), "optional-drivers-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Import: a resolve hook (it runs on the loaders' thread) fails the drivers' resolution. */
writeFileSync(
  join(dir, "hooks.mjs"),
  `const drivers = ${JSON.stringify(DRIVERS)};
export async function resolve(specifier, context, next) {
  const name = drivers.find((n) => specifier === n || specifier.startsWith(n + "/"));
  if (name === undefined) return next(specifier, context);
  process.stderr.write("BLOCKED " + name + " (import)\\n");
  const error = new Error("Cannot find package '" + name + "' imported from " + context.parentURL);
  error.code = "ERR_MODULE_NOT_FOUND";
  throw error;
}
`,
);
/** Require: Module._resolveFilename fails them too; preloaded with --import. */
const blocker = join(dir, "block-drivers.mjs");
writeFileSync(
  blocker,
  `import { createRequire, register } from "node:module";
register("./hooks.mjs", import.meta.url);
const drivers = ${JSON.stringify(DRIVERS)};
const Module = createRequire(import.meta.url)("node:module");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const name = drivers.find((n) => request === n || request.startsWith(n + "/"));
  if (name === undefined) return resolveFilename.call(this, request, ...rest);
  process.stderr.write("BLOCKED " + name + " (require)\\n");
  const error = new Error("Cannot find module '" + name + "'");
  error.code = "MODULE_NOT_FOUND";
  throw error;
};
`,
);

/**
 * Runs `script` (ESM) with the drivers blocked, importing the package's source through tsx, or
 * with `built` its dist/ as an installed copy is (`npm test` builds it first); output and status.
 */
function runBlocked(script: string, { built = false } = {}) {
  const source = ["--conditions=fastify-django-sessions-source", "--import", "tsx"];
  const result = spawnSync(
    process.execPath,
    [...(built ? [] : source), "--import", pathToFileURL(blocker).href, "--input-type=module", "--eval", script],
    { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("optional drivers", () => {
  test("the blocker works: a driver imported by the script itself fails", () => {
    const { status, stderr } = runBlocked(
      `try { await import("kysely"); console.log("loaded"); } catch (error) { console.error(error.code); process.exit(3); }`,
    );
    assert.equal(status, 3, stderr);
    assert.match(stderr, /ERR_MODULE_NOT_FOUND/);
    const required = runBlocked(
      `import { createRequire } from "node:module"; createRequire(process.cwd() + "/")("ioredis");`,
    );
    assert.notEqual(required.status, 0);
    assert.match(required.stderr, /BLOCKED ioredis/);
  });

  for (const built of [false, true]) {
    test(`signed_cookies and cache on MemoryCache serve requests with no driver loadable (${built ? "dist/" : "src/"})`, () => {
      const { status, stdout, stderr } = runBlocked(
        `
      import Fastify from "fastify";
      import { createSessionEngine, MemoryCache, sessions } from "fastify-django-sessions";
      const settings = { SECRET_KEY: "x".repeat(50) };
      for (const [SESSION_ENGINE, resources] of [
        ["signed_cookies", {}],
        ["cache", { caches: { default: new MemoryCache() } }],
      ]) {
        const app = Fastify();
        await app.register(sessions, { engine: await createSessionEngine({ ...settings, SESSION_ENGINE }, resources) });
        app.get("/set", async (request) => { request.session.set("n", 7); return "set"; });
        app.get("/get", async (request) => String(request.session.get("n", "none")));
        const set = await app.inject("/set");
        const cookie = set.headers["set-cookie"].split(";")[0];
        const read = await app.inject({ url: "/get", headers: { cookie } });
        console.log(SESSION_ENGINE, set.statusCode, read.statusCode, read.body);
        await app.close();
      }
    `,
        { built },
      );
      assert.equal(status, 0, stderr);
      assert.equal(stdout, "signed_cookies 200 200 7\ncache 200 200 7\n");
      assert.doesNotMatch(stderr, /BLOCKED/);
    });
  }

  test("RedisCache without ioredis: ImproperlyConfigured naming the package to install", () => {
    const { status, stdout, stderr } = runBlocked(`
      import { ImproperlyConfigured, RedisCache } from "fastify-django-sessions";
      try {
        new RedisCache({ url: "redis://127.0.0.1:6379" });
        console.log("constructed");
      } catch (error) {
        console.log(error instanceof ImproperlyConfigured, error.message);
      }
    `);
    assert.equal(status, 0, stderr);
    assert.equal(
      stdout,
      "true RedisCache needs the ioredis package, which is not installed: run `npm install ioredis` in the application.\n",
    );
  });
});
