/**
 * Lesson 3 (where sessions live): each behaviour a quiz answer states, observed on the framework
 * through its public API: engines built with createSessionEngine on an in-memory SQLite and
 * MemoryCache (a "restart" is a new engine on a new MemoryCache, the database kept), a missing
 * directory for `file`, and the plugin on a small Fastify app for `signed_cookies`.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { after } from "node:test";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import {
  createSessionEngine,
  ImproperlyConfigured,
  MemoryCache,
  resolveSessionSettings,
  sessions,
  type SessionEngine,
} from "fastify-django-sessions";
import { lesson } from "../../src/learn/lessons/3-where-sessions-live.js";
import { memoryStore, TEST_SECRET } from "../helpers.js";
import { check } from "./checks.js";

const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
});

/** Saves `data` in a new session of `engine`; resolves to its key. */
async function saveNew(engine: SessionEngine, data: Record<string, string | number | string[]>): Promise<string> {
  const session = engine.open(null);
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  await session.save();
  assert.ok(session.sessionKey);
  return session.sessionKey;
}

/** The data `engine` reads for `key`, as a request would (a missing session reads as {}). */
async function readBack(engine: SessionEngine, key: string): Promise<Record<string, unknown>> {
  const session = engine.open(key);
  await session.load();
  return Object.fromEntries(session.items());
}

/** The `sessionid` value a response sets, if any. */
function sessionCookie(response: LightMyRequestResponse): string | undefined {
  const header = response.headers["set-cookie"];
  const line = (Array.isArray(header) ? header : header ? [header] : []).find((l) => l.startsWith("sessionid="));
  return line?.slice("sessionid=".length).split(";")[0];
}

/** The plugin on the signed_cookies engine, with routes that store, read and flush. */
async function cookieApp() {
  const engine = await createSessionEngine({ SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "signed_cookies" }, {});
  const app = Fastify();
  await app.register(sessions, { engine });
  const errors: string[] = [];
  app.setErrorHandler(async (error: Error, _request, reply) => {
    errors.push(error.name);
    return reply.status(500).send("error");
  });
  app.get("/color", async (request) => {
    request.session.set("color", "blue");
    return "ok";
  });
  app.get("/visits", async (request) => {
    request.session.set("visits", 3);
    return "ok";
  });
  app.get("/read-visits", async (request) => ({ visits: request.session.get("visits") ?? null }));
  app.get("/big", async (request) => {
    request.session.set("notes", randomBytes(4500).toString("base64"));
    return "ok";
  });
  app.get("/login", async (request) => {
    await request.session.cycleKey();
    request.session.set("user", 42);
    return "ok";
  });
  app.get("/logout", async (request) => {
    await request.session.flush();
    return "bye";
  });
  app.get("/whoami", async (request) => ({ user: request.session.get("user", null) }));
  await app.ready();
  apps.push(app);
  const get = (url: string, cookie?: string) =>
    app.inject({ method: "GET", url, headers: cookie === undefined ? {} : { cookie: `sessionid=${cookie}` } });
  return { get, errors };
}

/** The JSON inside a signed cookie value's first part (base64url, zlib when it starts with "."). */
function cookiePayload(value: string): string {
  const first = value.split(":")[0]!;
  const bytes = Buffer.from(first.replace(/^\./, ""), "base64url");
  return (first.startsWith(".") ? inflateSync(bytes) : bytes).toString("latin1");
}

check(lesson, "where-default-engine", async () => {
  let engine: string;
  try {
    engine = resolveSessionSettings({ SECRET_KEY: TEST_SECRET }).SESSION_ENGINE;
  } catch {
    return "d";
  }
  const { db, sqlite } = await memoryStore();
  assert.equal((await createSessionEngine({ SECRET_KEY: TEST_SECRET }, { db, sqlite })).name, engine);
  const byEngine: Record<string, string> = { signed_cookies: "a", cache: "b", db: "c" };
  const id = byEngine[engine];
  assert.ok(id, `the default engine is ${engine}`);
  return id;
});

check(lesson, "where-cookie-readable", async () => {
  const { get } = await cookieApp();
  const value = sessionCookie(await get("/color"));
  assert.ok(value, "the response sets the cookie");
  if (/^[a-z0-9]{32}$/.test(value)) return "c";
  assert.equal(value.split(":").length, 3, "data, timestamp and signature");
  let payload: string;
  try {
    payload = cookiePayload(value);
  } catch {
    return "a";
  }
  if (payload === '{"color":"blue"}') return "b";
  return /^[\x20-\x7e]*$/.test(payload) ? "d" : "a";
});

check(lesson, "where-cache-restart", async () => {
  const settings = { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "cache" };
  const before = await createSessionEngine(settings, { caches: { default: new MemoryCache() } });
  const key = await saveNew(before, { cart: ["pen"] });
  assert.deepEqual(await readBack(before, key), { cart: ["pen"] }, "before the restart the cart is there");
  // A restart: a new process, a new in-process cache.
  const restarted = await createSessionEngine(settings, { caches: { default: new MemoryCache() } });
  const data = await readBack(restarted, key);
  return Object.keys(data).length === 0 ? "a" : "b";
});

check(lesson, "where-cached-db-survives", async () => {
  // Through kysely, without the better-sqlite3 handle: given the handle, cached_db reads the row
  // directly and never the cache (seen while writing this lesson; reported), which is not the
  // cache-first read the lesson describes.
  const { db } = await memoryStore();
  const settings = { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "cached_db" };
  const before = await createSessionEngine(settings, { db, caches: { default: new MemoryCache() } });
  const key = await saveNew(before, { cart: ["pen"] });
  // A restart: the in-process cache starts empty, the database keeps its rows.
  const cache = new MemoryCache();
  const restarted = await createSessionEngine(settings, { db, caches: { default: cache } });
  let data: Record<string, unknown>;
  try {
    data = await readBack(restarted, key);
  } catch {
    return "c";
  }
  if (Object.keys(data).length === 0) return "a";
  assert.deepEqual(data, { cart: ["pen"] });
  const cached: string[] = [];
  for await (const entry of cache.keys("")) cached.push(entry);
  assert.ok(
    cached.some((entry) => entry.endsWith(key)),
    "the read from the database filled the cache again",
  );
  return "d";
});

check(lesson, "where-file-path-missing", async () => {
  // A directory that exists and is writable works: one file per session, named after the cookie and the key.
  const dir = mkdtempSync(join(tmpdir(), "learn-file-"));
  try {
    const engine = await createSessionEngine(
      { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "file", SESSION_FILE_PATH: dir },
      {},
    );
    const key = await saveNew(engine, { cart: ["pen"] });
    assert.ok(readdirSync(dir).includes(`sessionid${key}`), "the session's file is sessionid<key>");
    assert.deepEqual(await readBack(engine, key), { cart: ["pen"] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const path = `/no/such/dir-${randomBytes(4).toString("hex")}`;
  try {
    await createSessionEngine({ SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "file", SESSION_FILE_PATH: path }, {});
  } catch (error) {
    assert.ok(error instanceof ImproperlyConfigured, "the error is ImproperlyConfigured");
    assert.match(error.message, /SESSION_FILE_PATH/);
    assert.ok(error.message.includes(path), "the message names the path");
    return "b";
  }
  return "a";
});

check(lesson, "where-cookie-tampered", async () => {
  const { get } = await cookieApp();
  const value = sessionCookie(await get("/visits"));
  assert.ok(value);
  assert.equal((await get("/read-visits", value)).json<{ visits: unknown }>().visits, 3, "the real cookie reads 3");
  const [, timestamp, signature] = value.split(":");
  const payload = cookiePayload(value);
  assert.equal(payload, '{"visits":3}');
  const forged = `${Buffer.from(payload.replace("3", "999")).toString("base64url")}:${timestamp}:${signature}`;
  const response = await get("/read-visits", forged);
  if (response.statusCode === 400) return "d";
  const visits = response.json<{ visits: unknown }>().visits;
  const byVisits: Record<string, string> = { "999": "c", "3": "b", null: "a" };
  const id = byVisits[String(visits)];
  assert.ok(id, `the forged cookie read visits = ${String(visits)}`);
  return id;
});

check(lesson, "where-cache-eviction", async () => {
  const engine = await createSessionEngine(
    { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: "cache" },
    { caches: { default: new MemoryCache({ maxEntries: 2 }) } },
  );
  const a = await saveNew(engine, { name: "A" });
  const b = await saveNew(engine, { name: "B" });
  let c: string;
  try {
    c = await saveNew(engine, { name: "C" });
  } catch {
    return "c";
  }
  if (Object.keys(await readBack(engine, c)).length === 0) return "d";
  assert.deepEqual(await readBack(engine, b), { name: "B" }, "B is still there");
  return Object.keys(await readBack(engine, a)).length === 0 ? "b" : "a";
});

check(lesson, "where-cookie-too-large", async () => {
  const { get, errors } = await cookieApp();
  const response = await get("/big");
  const value = sessionCookie(response);
  if (response.statusCode === 200) {
    assert.ok(value, "a 200 that sets a cookie");
    return value.length > 4096 ? "a" : "b";
  }
  assert.equal(response.statusCode, 500);
  assert.deepEqual(errors, ["SessionCookieTooLarge"]);
  assert.equal(value, undefined, "no session cookie is sent");
  return "d";
});

check(lesson, "where-cookie-replay", async () => {
  const { get } = await cookieApp();
  const copy = sessionCookie(await get("/login"));
  assert.ok(copy);
  const logout = await get("/logout", copy);
  assert.equal(sessionCookie(logout), '""', "logout tells the browser to delete its cookie");
  const replay = await get("/whoami", copy);
  if (replay.statusCode === 400) return "b";
  return replay.json<{ user: unknown }>().user === 42 ? "c" : "a";
});
