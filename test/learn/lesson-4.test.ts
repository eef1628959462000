/**
 * Lesson 4 (lifetime and security): each behaviour a quiz answer states, observed on the framework
 * through its public API: the plugin on a small Fastify app over an in-memory SQLite `db` engine,
 * with a test clock.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { createSessionEngine, sessions, type SessionEngine, type SessionSettingsInput } from "fastify-django-sessions";
import { lesson } from "../../src/learn/lessons/4-lifetime-and-security.js";
import { CookieJar, memoryStore, TEST_SECRET, TestClock } from "../helpers.js";
import { check, choiceWhere } from "./checks.js";

interface Demo {
  app: FastifyInstance;
  engine: SessionEngine;
  clock: TestClock;
  jar: CookieJar;
  /** GET `url` as the same browser; resolves to the body and the response's session Set-Cookie line. */
  visit: (url: string) => Promise<{ body: string; cookie: string | undefined }>;
}

const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
});

async function demo(overrides: Partial<SessionSettingsInput> = {}): Promise<Demo> {
  const { db, sqlite } = await memoryStore();
  const clock = new TestClock();
  const engine = await createSessionEngine(
    { SECRET_KEY: TEST_SECRET, ...overrides },
    { db, sqlite },
    { now: clock.now },
  );
  const app = Fastify();
  await app.register(sessions, { engine });
  app.get("/set", async (request) => {
    request.session.set("visits", 1);
    return "ok";
  });
  app.get("/read", async (request) => String(request.session.get("visits", 0)));
  app.get("/zero", async (request) => {
    request.session.setExpiry(0);
    request.session.set("visits", 1);
    return String(request.session.getExpiryAge());
  });
  app.get("/expire-600", async (request) => {
    request.session.setExpiry(600);
    request.session.set("visits", 1);
    return "ok";
  });
  app.get("/expire-in-an-hour", async (request) => {
    request.session.setExpiry(new Date(engine.now() + 3600 * 1000));
    request.session.set("visits", 1);
    return "ok";
  });
  app.get("/change", async (request) => {
    request.session.set("visits", request.session.get("visits", 0) + 1);
    return String(request.session.getExpiryAge());
  });
  app.get("/cart", async (request) => {
    request.session.set("cart", ["book"]);
    return "ok";
  });
  app.get("/login", async (request) => {
    await request.session.cycleKey();
    return JSON.stringify({ key: request.session.sessionKey, cart: request.session.get("cart") ?? null });
  });
  app.get("/logout-with-clear", async (request) => {
    request.session.clear();
    return "bye";
  });
  apps.push(app);
  const jar = new CookieJar();
  return {
    app,
    engine,
    clock,
    jar,
    visit: async (url) => {
      const response = await app.inject({ method: "GET", url, headers: { cookie: jar.header() } });
      const lines = [response.headers["set-cookie"] ?? []].flat().map(String);
      jar.store(lines);
      return { body: response.body, cookie: lines.find((line) => line.startsWith("sessionid=")) };
    },
  };
}

/** The session key a Set-Cookie line carries. */
function keyOf(line: string | undefined): string {
  const key = /^sessionid=([a-z0-9]{32});/.exec(line ?? "")?.[1];
  assert.ok(key, `a session cookie with a key: ${line}`);
  return key;
}

/** The value of `name` in a Set-Cookie line (undefined when absent, "" for a bare flag). */
function attribute(line: string, name: string): string | undefined {
  for (const part of line.split(";").slice(1)) {
    const [key, ...value] = part.trim().split("=");
    if (key!.toLowerCase() === name.toLowerCase()) return value.join("=");
  }
  return undefined;
}

check(lesson, "life-cookie-age-default", async (question) => {
  const { visit, engine } = await demo();
  const { cookie } = await visit("/set");
  assert.ok(cookie, "the write sent a session cookie");
  const maxAge = Number(attribute(cookie, "Max-Age"));
  assert.equal(engine.settings.SESSION_COOKIE_AGE, maxAge);
  // The record's expiry is the same number of seconds after the save.
  const session = engine.open(keyOf(cookie));
  await session.load();
  assert.equal(session.getExpiryAge(), maxAge);
  if (maxAge === 86400) return choiceWhere(question, (c) => c.text.startsWith("One day"));
  return choiceWhere(question, (c) => c.text.includes(`${maxAge} seconds`));
});

check(lesson, "life-cookie-flags-default", async (question) => {
  const { visit } = await demo();
  const { cookie } = await visit("/set");
  assert.ok(cookie);
  const httpOnly = attribute(cookie, "HttpOnly") !== undefined;
  const secure = attribute(cookie, "Secure") !== undefined;
  const sameSite = attribute(cookie, "SameSite");
  return choiceWhere(question, (choice) => {
    const text = choice.text;
    const says = {
      httpOnly: text.includes("HttpOnly") && !text.includes("not HttpOnly"),
      secure: text.includes("Secure") && !text.includes("not Secure"),
      sameSite: /SameSite=(\w+)/.exec(text)?.[1],
    };
    return says.httpOnly === httpOnly && says.secure === secure && says.sameSite === sameSite;
  });
});

check(lesson, "life-set-expiry-zero-cookie", async (question) => {
  const { visit } = await demo();
  const { cookie } = await visit("/zero");
  if (cookie === undefined) return choiceWhere(question, (c) => c.text === "No cookie at all");
  const maxAge = attribute(cookie, "Max-Age");
  if (maxAge !== undefined) return choiceWhere(question, (c) => c.text.startsWith(`\`Max-Age=${maxAge}\``));
  assert.equal(attribute(cookie, "Expires"), undefined);
  return choiceWhere(question, (c) => c.text.startsWith("No `Max-Age` and no `Expires`"));
});

check(lesson, "life-expiry-age-after-zero", async (question) => {
  const { visit } = await demo();
  const { body } = await visit("/zero");
  return choiceWhere(question, (choice) => choice.text === body);
});

check(lesson, "life-cycle-key", async (question) => {
  const { visit, engine } = await demo();
  const oldKey = keyOf((await visit("/cart")).cookie);
  const { body, cookie } = await visit("/login");
  const { key, cart } = JSON.parse(body) as { key: string; cart: string[] | null };
  assert.ok(cookie?.startsWith(`sessionid=${key};`), "the browser is given the new key");
  if (key === oldKey) return choiceWhere(question, (c) => c.text.startsWith("Same key"));
  if (cart === null) return choiceWhere(question, (c) => c.text.includes("the cart is gone"));
  assert.deepEqual(cart, ["book"]);
  // The old key no longer opens anything: its record was deleted once the response succeeded.
  const old = engine.open(oldKey);
  await old.load();
  const oldStillWorks = old.get("cart") !== undefined;
  const renewed = engine.open(key);
  await renewed.load();
  assert.deepEqual(renewed.get("cart"), ["book"]);
  return choiceWhere(question, (c) =>
    c.text.includes(oldStillWorks ? "the old key still works" : "the record under the old key is deleted"),
  );
});

check(lesson, "life-clear-keeps-key", async (question) => {
  const { visit, engine } = await demo();
  const key = keyOf((await visit("/cart")).cookie);
  const { cookie } = await visit("/logout-with-clear");
  if (cookie === undefined) return choiceWhere(question, (c) => c.text.startsWith("No Set-Cookie"));
  const value = cookie.split(";")[0]!.slice("sessionid=".length);
  if (value === '""' || value === "") return choiceWhere(question, (c) => c.text.startsWith("A delete cookie"));
  if (value !== key) return choiceWhere(question, (c) => c.text === "A cookie with a new key");
  // The record is still there under that key, empty.
  const session = engine.open(key);
  await session.load();
  assert.equal(session.sessionKey, key);
  assert.deepEqual(session.keys(), []);
  return choiceWhere(question, (c) => c.text.startsWith("A cookie with the same key"));
});

check(lesson, "life-reading-not-activity", async (question) => {
  const { visit, clock } = await demo();
  await visit("/expire-600"); // 10:00
  clock.advance(300); // 10:05
  assert.equal((await visit("/read")).body, "1");
  clock.advance(240); // 10:09
  assert.equal((await visit("/read")).body, "1");
  clock.advance(180); // 10:12
  const alive = (await visit("/read")).body === "1";
  // With SESSION_SAVE_EVERY_REQUEST each visit saves, and the same timeline keeps the session.
  const every = await demo({ SESSION_SAVE_EVERY_REQUEST: true });
  await every.visit("/expire-600");
  for (const seconds of [300, 240, 180]) {
    every.clock.advance(seconds);
    assert.equal((await every.visit("/read")).body, "1");
  }
  return choiceWhere(question, (c) => c.text.startsWith(alive ? "Their session: each visit" : "An empty session"));
});

check(lesson, "life-set-expiry-date-fixed", async (question) => {
  const { visit, clock } = await demo();
  await visit("/expire-in-an-hour"); // noon
  clock.advance(1800); // 12:30: a change saves the session again
  assert.equal((await visit("/change")).body, "1800");
  clock.advance(1799); // 12:59:59
  assert.equal((await visit("/read")).body, "2");
  clock.advance(2); // 13:00:01
  const ended = (await visit("/read")).body === "0";
  return choiceWhere(question, (c) => c.text.startsWith(ended ? "At 13:00" : "At 13:30"));
});
