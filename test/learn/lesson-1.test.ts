/**
 * Lesson 1 (what a session is): each behaviour a quiz answer states, observed on the framework.
 * Through the package's public API (the plugin on a small Fastify app over an in-memory SQLite
 * `db` engine, or `signed_cookies`), or the demo app itself for its pages (cart, set).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { inflateSync } from "node:zlib";
import { after } from "node:test";
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from "fastify";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import {
  createSessionEngine,
  resolveSessionSettings,
  sessions,
  type SessionSettingsInput,
} from "fastify-django-sessions";
import { sessionTablesMigration } from "fastify-django-sessions/migrations";
import { lesson } from "../../src/learn/lessons/1-what-a-session-is.js";
import { appFixture, memoryStore, TEST_SECRET, visitor } from "../helpers.js";
import { check, choiceWhere } from "./checks.js";

const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
});

/** The plugin on a small app: /set/ stores `color`, /colour/ only reads it (the question's code). */
async function smallApp(overrides: Partial<SessionSettingsInput> = {}) {
  const { db, sqlite } = await memoryStore();
  const engine = await createSessionEngine({ SECRET_KEY: TEST_SECRET, ...overrides }, { db, sqlite });
  const app = Fastify();
  await app.register(sessions, { engine });
  app.get("/colour/", (request) => ({ color: request.session.get("color") ?? null }));
  app.get<{ Querystring: { to?: string } }>("/set/", (request) => {
    request.session.set("color", request.query.to ?? "blue");
    return { ok: true };
  });
  apps.push(app);
  const rows = () => db.selectFrom("sessions").selectAll().execute();
  return { app, engine, rows };
}

/** The value of the response's `sessionid` Set-Cookie, or undefined when it sent none. */
function sessionCookie(response: LightMyRequestResponse, name = "sessionid"): string | undefined {
  const lines = [response.headers["set-cookie"]].flat().filter((c): c is string => typeof c === "string");
  const line = lines.find((c) => c.startsWith(`${name}=`));
  return line?.slice(name.length + 1).split(";")[0];
}

check(lesson, "db-cookie-holds-key", async () => {
  const { app, rows } = await smallApp();
  const response = await app.inject("/set/?to=blue-and-gold");
  const cookie = sessionCookie(response);
  assert.ok(cookie);
  const stored = await rows();
  if (cookie.includes("blue") || Buffer.from(cookie.split(":")[0]!, "base64url").toString().includes("blue"))
    return "a";
  // One row, under the cookie's key, with the data in it.
  assert.deepEqual(
    stored.map((r) => r.session_key),
    [cookie],
  );
  const back = await app.inject({ url: "/colour/", headers: { cookie: `sessionid=${cookie}` } });
  assert.deepEqual(back.json(), { color: "blue-and-gold" });
  return "b";
});

check(lesson, "cookie-name", async (question) => {
  const { app, engine } = await smallApp();
  const name = engine.settings.SESSION_COOKIE_NAME;
  const response = await app.inject("/set/");
  assert.ok(sessionCookie(response, name), "the first write sends the cookie under that name");
  return choiceWhere(question, (c) => c.text === `\`${name}\``);
});

check(lesson, "anonymous-session", async (question) => {
  const choice = (start: string) => choiceWhere(question, (c) => c.text.startsWith(start));
  const f = await appFixture();
  apps.push(f.app);
  const v = visitor(f.app);
  await v.get("/cart/");
  await v.post("/cart/add/", { item: "apple" });
  await v.post("/cart/add/", { item: "pear" });
  // Nobody is logged in: the account page sends this browser to the login page.
  const account = await f.app.inject({ url: "/account/", headers: { cookie: v.jar.header() } });
  assert.match(String(account.headers.location), /^\/login\//);
  const key = v.sessionKey();
  if (!key) return choice("No:");
  const rows = await f.db.selectFrom("sessions").selectAll().where("session_key", "=", key).execute();
  assert.equal(rows.length, 1, "the session is a row like any other");
  const session = f.engine.open(key);
  await session.load();
  assert.deepEqual(session.get("cart"), ["apple", "pear"]);
  return choice("Yes: the first write");
});

check(lesson, "read-only-no-cookie", async () => {
  const { app, rows } = await smallApp();
  const response = await app.inject("/colour/");
  assert.deepEqual(response.json(), { color: null });
  if (sessionCookie(response) === "") return "c";
  if (sessionCookie(response) !== undefined) return "a";
  assert.equal((await rows()).length, 0, "nothing stored");
  return "b";
});

check(lesson, "key-shape", async () => {
  const { app } = await smallApp();
  const key = sessionCookie(await app.inject("/set/"));
  assert.ok(key);
  if (/^\d+$/.test(key)) return "a";
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(key)) return "b";
  if (/^[a-z0-9]{32}$/.test(key)) {
    // Random: a second session gets another key.
    assert.notEqual(sessionCookie(await app.inject("/set/")), key);
    return "c";
  }
  return "d";
});

check(lesson, "table-name", async (question) => {
  const table = resolveSessionSettings({ SECRET_KEY: TEST_SECRET }).SESSION_DB_TABLE;
  // The package's migration on an empty database: which tables it makes.
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
  try {
    await sessionTablesMigration().up(db);
    const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
    const names = rows.map((r) => r.name);
    assert.ok(names.includes(table), `the migration makes ${table}: ${names.join(", ")}`);
    assert.ok(!names.includes("django_session"));
  } finally {
    await db.destroy();
  }
  return choiceWhere(question, (c) => c.text === `\`${table}\``);
});

check(lesson, "unmodified-no-resend", async () => {
  const { app } = await smallApp();
  const key = sessionCookie(await app.inject("/set/"));
  assert.ok(key);
  const again = await app.inject({ url: "/colour/", headers: { cookie: `sessionid=${key}` } });
  assert.deepEqual(again.json(), { color: "blue" }, "the data came from the row");
  const resent = sessionCookie(again);
  if (resent === undefined) return "a";
  return resent === key ? "b" : "d";
});

check(lesson, "unknown-key-replaced", async (question) => {
  const choice = (start: string) => choiceWhere(question, (c) => c.text.startsWith(start));
  const { app, rows } = await smallApp();
  const madeUp = randomBytes(32).toString("hex").slice(0, 32);
  const response = await app.inject({ url: "/set/", headers: { cookie: `sessionid=${madeUp}` } });
  if (response.statusCode === 400) return choice("None: the request fails");
  const key = sessionCookie(response);
  if (key === undefined) return choice("None: the data is dropped");
  if (key === madeUp) return choice("The key the browser sent");
  assert.match(key, /^[a-z0-9]{32}$/);
  assert.deepEqual(
    (await rows()).map((r) => r.session_key),
    [key],
  );
  return choice("A new key");
});

check(lesson, "signed-cookie-readable", async (question) => {
  const choice = (start: string) => choiceWhere(question, (c) => c.text.startsWith(start));
  const { app } = await smallApp({ SESSION_ENGINE: "signed_cookies" });
  const cookie = sessionCookie(await app.inject("/set/?to=gold"));
  assert.ok(cookie);
  if (!cookie.includes(":")) return choice("Only see a random key");
  // Django's signed object: base64 of the JSON (zlib-compressed when that is shorter, marked by
  // a leading "."), then ":" timestamp ":" signature. Nothing secret is needed to read it.
  const [payload, ...signature] = cookie.split(":");
  const compressed = payload!.startsWith(".");
  const bytes = Buffer.from(compressed ? payload!.slice(1) : payload!, "base64url");
  const json = (compressed ? inflateSync(bytes) : bytes).toString();
  if (!json.includes('"gold"')) return choice("Nothing: the value is encrypted");
  const honest = await app.inject({ url: "/colour/", headers: { cookie: `sessionid=${cookie}` } });
  assert.deepEqual(honest.json(), { color: "gold" });
  // Changed to platinum, the old signature kept: the session reads as empty.
  const forged = `${Buffer.from(json.replace("gold", "platinum")).toString("base64url")}:${signature.join(":")}`;
  const read = await app.inject({ url: "/colour/", headers: { cookie: `sessionid=${forged}` } });
  const { color } = read.json<{ color: string | null }>();
  if (color === "platinum") return choice("Read `gold` and change it");
  assert.equal(color, null);
  return choice("Read `gold` by decoding the cookie, but not change it");
});
