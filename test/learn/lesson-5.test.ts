/**
 * Lesson 5 (running sessions in production): each behaviour a quiz answer states, observed on the
 * framework through its public API: engines from createSessionEngine (sessions opened with
 * engine.open(), as an operator's script would), and the plugin on a small Fastify app for the
 * route lock.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify, { type FastifyRequest } from "fastify";
import {
  ClearExpiredNotSupported,
  createSessionEngine,
  MemoryCache,
  sessions,
  type SessionEngine,
  type SessionSettingsInput,
} from "fastify-django-sessions";
import { lesson } from "../../src/learn/lessons/5-sessions-in-production.js";
import { memoryStore, TEST_SECRET, TestClock } from "../helpers.js";
import { check, choiceWhere } from "./checks.js";
import { importableModule } from "../processes.js";

const directory = mkdtempSync(join(tmpdir(), "learn-lesson-5-"));
after(() => rmSync(directory, { recursive: true, force: true }));

async function engineOn(name: string, clock: TestClock, settings: Partial<SessionSettingsInput> = {}) {
  const { db, sqlite } = await memoryStore();
  const engine = await createSessionEngine(
    { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: name, SESSION_FILE_PATH: directory, ...settings },
    { db, sqlite, caches: { default: new MemoryCache({ now: clock.now }) } },
    { now: clock.now },
  );
  return { engine, db, sqlite };
}

/** The counter's session shape, as the lesson's code has it. */
type Counter = { visits?: number };

/** A new stored session holding `data`, saved as a request would; resolves to its key. */
async function storeSession(engine: SessionEngine, data: Record<string, number | string[]>, expiry?: Date) {
  const session = engine.open(null);
  for (const [key, value] of Object.entries(data)) session.set(key, value);
  if (expiry) session.setExpiry(expiry);
  await session.save();
  assert.ok(session.sessionKey);
  return session.sessionKey;
}

/** Whether the store still holds something for `key`, read raw (not through expiry rules). */
async function holdsRecord(engine: SessionEngine, key: string): Promise<boolean> {
  const raw = await engine.readRecord!(key);
  switch (raw.kind) {
    case "row":
      return raw.row !== null;
    case "cache":
      return raw.entry.text !== null;
    case "file":
      return raw.contents !== null;
    default:
      return false;
  }
}

check(lesson, "prod-which-engines-need-clearing", async (question) => {
  const lingering: string[] = [];
  for (const name of ["db", "cached_db", "file", "cache", "signed_cookies"]) {
    const clock = new TestClock();
    const { engine } = await engineOn(name, clock);
    const expiry = new Date(clock.now() + 60_000);
    const kept = await storeSession(engine, { visits: 1 }, expiry);
    const asked = await storeSession(engine, { visits: 1 }, expiry);
    clock.advance(120);
    // What the store holds once they expired, before any request asks for them.
    const lingers = !engine.clientSide && (await holdsRecord(engine, kept));
    // Expired: no request gets one back (signed_cookies enforces only SESSION_COOKIE_AGE, as Django).
    if (!engine.clientSide) {
      const reopened = engine.open(asked);
      await reopened.load();
      assert.equal(reopened.get("visits"), undefined, `${name}: an expired session is not handed out`);
    }
    const removed = await engine.clearExpired();
    if (lingers) {
      lingering.push(name);
      assert.ok(removed !== undefined && removed >= 1, `${name}: the cleanup removes it`);
      assert.equal(await holdsRecord(engine, kept), false);
    } else {
      assert.equal(removed, undefined, `${name}: nothing to clear`);
    }
    await engine.close();
  }
  const names = lingering.sort().join(",");
  if (names === "") return choiceWhere(question, (c) => c.text.startsWith("None"));
  const expected = names
    .split(",")
    .map((n) => `\`${n}\``)
    .join(",");
  return choiceWhere(question, (c) => (c.text.match(/`\w+`/g) ?? []).sort().join(",") === expected);
});

check(lesson, "prod-table-columns", async (question) => {
  const { engine, sqlite } = await engineOn("db", new TestClock());
  const table = engine.settings.SESSION_DB_TABLE;
  const columns = sqlite
    .prepare(`select name from pragma_table_info(?) order by cid`)
    .all(table)
    .map((row) => (row as { name: string }).name);
  return choiceWhere(question, (choice) => {
    const named = [...choice.text.matchAll(/`(\w+)`/g)].map((m) => m[1]);
    return named.join(",") === columns.join(",");
  });
});

check(lesson, "prod-session-data-signed", async (question) => {
  const { engine, sqlite } = await engineOn("db", new TestClock());
  const key = await storeSession(engine, { cart: ["book"] });
  const table = engine.settings.SESSION_DB_TABLE;
  const { session_data: stored } = sqlite
    .prepare(`select session_data from ${table} where session_key = ?`)
    .get(key) as { session_data: string };
  assert.throws(() => JSON.parse(stored) as unknown, "not plain JSON");
  const parts = stored.split(":");
  const plain = () => choiceWhere(question, (c) => c.text.includes("plain JSON"));
  if (parts.length !== 3) return plain();
  // Readable without any secret: the payload is base64 (URL-safe, unpadded) of the JSON.
  const payload = parts[0]!;
  assert.ok(!payload.startsWith("."), "small data is not compressed");
  const decoded = JSON.parse(Buffer.from(payload, "base64url").toString("latin1")) as unknown;
  if (JSON.stringify(decoded) !== JSON.stringify({ cart: ["book"] })) {
    return choiceWhere(question, (c) => c.text.includes("encrypted"));
  }
  // Changed without SECRET_KEY: the signature no longer matches and the session reads as empty.
  const forged = Buffer.from(JSON.stringify({ cart: ["book"], _auth_user_id: "1" }), "latin1").toString("base64url");
  sqlite
    .prepare(`update ${table} set session_data = ? where session_key = ?`)
    .run(`${forged}:${parts[1]}:${parts[2]}`, key);
  const session = engine.open(key);
  await session.load();
  return session.keys().length === 0 ? choiceWhere(question, (c) => c.text.startsWith("Read it")) : plain();
});

check(lesson, "prod-clear-expired-only-expired", async (question) => {
  const clock = new TestClock();
  const { engine } = await engineOn("db", clock);
  const expired = await storeSession(engine, { visits: 1 }, new Date(clock.now() + 60_000));
  const untouched = await storeSession(engine, { visits: 2 }); // never read again
  const later = await storeSession(engine, { visits: 3 }, new Date(clock.now() + 3_600_000));
  clock.advance(120);
  const removed = await engine.clearExpired();
  const left = [];
  for (const key of [expired, untouched, later]) if (await holdsRecord(engine, key)) left.push(key);
  if (left.length === 0) return choiceWhere(question, (c) => c.text.startsWith("Every row"));
  assert.equal(removed, 1);
  assert.deepEqual(left, [untouched, later]);
  return choiceWhere(question, (c) => c.text.includes("`expire_date` has passed"));
});

check(lesson, "prod-open-decodes", async (question) => {
  const { engine, sqlite } = await engineOn("db", new TestClock());
  const key = await storeSession(engine, { cart: ["book"] });
  const { session_data: stored } = sqlite
    .prepare(`select session_data from ${engine.settings.SESSION_DB_TABLE} where session_key = ?`)
    .get(key) as { session_data: string };
  assert.throws(() => JSON.parse(stored) as unknown);
  assert.throws(() => JSON.parse(Buffer.from(stored, "base64").toString()) as unknown);
  const session = engine.open(key);
  await session.load();
  assert.deepEqual(Object.fromEntries(session.items()), { cart: ["book"] });
  return choiceWhere(question, (c) => c.text.includes("engine.open(key)"));
});

check(lesson, "prod-custom-engine-without-clear", async (question) => {
  const engine = await createSessionEngine(
    { SECRET_KEY: TEST_SECRET, SESSION_ENGINE: importableModule("./test/fixtures/engine-without-clear.ts") },
    {},
  );
  try {
    const removed = await engine.clearExpired();
    return choiceWhere(question, (c) => c.text.startsWith(removed === undefined ? "Nothing, quietly" : "It deletes"));
  } catch (error) {
    assert.ok(error instanceof ClearExpiredNotSupported, String(error));
    return choiceWhere(question, (c) => c.text.includes("ClearExpiredNotSupported"));
  }
});

check(lesson, "prod-merge-different-keys", async (question) => {
  const { engine } = await engineOn("db", new TestClock());
  const key = await storeSession(engine, { visits: 1 });
  const a = engine.open(key);
  const b = engine.open(key);
  await a.load();
  await b.load();
  a.set("theme", "dark");
  b.set("lang", "fr");
  await a.save();
  await b.save();
  const stored = engine.open(key);
  await stored.load();
  const hasTheme = stored.has("theme");
  const hasLang = stored.has("lang");
  const kept = hasTheme && hasLang ? "Both" : hasLang ? "Only `lang`" : hasTheme ? "Only `theme`" : "Neither";
  return choiceWhere(question, (c) => c.text.startsWith(kept));
});

check(lesson, "prod-same-key-later-wins", async (question) => {
  const { engine } = await engineOn("db", new TestClock());
  const key = await storeSession(engine, { visits: 5 });
  const a = engine.open<Counter>(key);
  const b = engine.open<Counter>(key);
  await a.load();
  await b.load();
  a.set("visits", a.get("visits", 0) + 1);
  b.set("visits", b.get("visits", 0) + 1);
  await a.save();
  await b.save();
  const stored = engine.open<Counter>(key);
  await stored.load();
  return choiceWhere(question, (choice) => choice.text.startsWith(`${stored.get("visits", 0)}:`));
});

check(lesson, "prod-route-lock-serialises", async (question) => {
  const { db, sqlite } = await memoryStore();
  const engine = await createSessionEngine({ SECRET_KEY: TEST_SECRET }, { db, sqlite });
  const app = Fastify();
  await app.register(sessions, { engine });
  const counter = async (request: FastifyRequest) => {
    const visits = request.session.get("visits", 0) + 1;
    await sleep(50); // the slow call between the read and the write
    request.session.set("visits", visits);
    return { visits };
  };
  app.post("/locked/", { config: { session: { lock: true } } }, counter);
  app.post("/unlocked/", counter);
  app.post("/start/", async (request) => {
    request.session.set("visits", 5);
    return "ok";
  });
  app.get("/visits/", async (request) => String(request.session.get("visits", 0)));
  try {
    const first = await app.inject({ method: "POST", url: "/start/" });
    const cookie = String([first.headers["set-cookie"]].flat()[0]).split(";")[0]!;
    const together = (url: string) =>
      Promise.all([1, 2].map(() => app.inject({ method: "POST", url, headers: { cookie } })));
    // Without the lock both read 5 (the lesson's contrast).
    for (const response of await together("/unlocked/")) assert.equal(response.statusCode, 200);
    assert.equal((await app.inject({ method: "GET", url: "/visits/", headers: { cookie } })).body, "6");
    await app.inject({ method: "POST", url: "/start/", headers: { cookie } });
    const responses = await together("/locked/");
    if (responses.some((r) => r.statusCode === 409)) return choiceWhere(question, (c) => c.text.includes("409"));
    const visits = (await app.inject({ method: "GET", url: "/visits/", headers: { cookie } })).body;
    return choiceWhere(question, (c) =>
      visits === "7" ? c.text.startsWith("The second waits") : c.text.startsWith("Both run at once"),
    );
  } finally {
    await app.close();
  }
});
