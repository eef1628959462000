/**
 * Lesson 2 (request.session as a dictionary): each behaviour a quiz answer states, observed on the
 * framework through its public API: sessions opened with engine.open() on an in-memory SQLite
 * `db` engine, and the plugin on a small Fastify app where saving over HTTP matters.
 */
import assert from "node:assert/strict";
import { after } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import {
  createSessionEngine,
  KeyError,
  sessions,
  type SessionEngine,
  type SessionSettingsInput,
} from "fastify-django-sessions";
import { lesson } from "../../src/learn/lessons/2-session-as-a-dictionary.js";
import { CookieJar, memoryStore, TEST_SECRET, TestClock } from "../helpers.js";
import { check } from "./checks.js";

const apps: FastifyInstance[] = [];
after(async () => {
  for (const app of apps) await app.close();
});

async function engineWith(overrides: Partial<SessionSettingsInput> = {}): Promise<SessionEngine> {
  const { db, sqlite } = await memoryStore();
  return createSessionEngine({ SECRET_KEY: TEST_SECRET, ...overrides }, { db, sqlite }, { now: new TestClock().now });
}

/** The plugin on a small app; `browser()` is one visitor keeping its cookies. */
async function demo(overrides: Partial<SessionSettingsInput> = {}) {
  const engine = await engineWith(overrides);
  const app = Fastify();
  await app.register(sessions, { engine });
  const errors: string[] = [];
  app.setErrorHandler(async (error: Error, _request, reply) => {
    errors.push(error.name);
    return reply.status(500).send("error");
  });
  app.get("/counter", async (request) => {
    const visits = request.session.get("visits", 0) + 1;
    request.session.set("visits", visits);
    return { visits };
  });
  app.get("/checkout", async (request) => {
    request.session.set("flash", "Thank you!");
    return "ok";
  });
  app.get("/cart-page", async (request) => {
    const flash = request.session.pop("flash", null);
    return { flash: flash === undefined ? "undefined" : flash };
  });
  app.get("/seed", async (request) => {
    request.session.set("cart", ["pen"]);
    return "ok";
  });
  app.get("/push", async (request) => {
    request.session.get("cart", []).push("ink");
    return "ok";
  });
  app.get("/push-and-mark", async (request) => {
    request.session.get("cart", []).push("ink");
    request.session.modified = true;
    return "ok";
  });
  app.get("/read", async (request) => ({ cart: request.session.get("cart") ?? null, keys: request.session.keys() }));
  app.get("/date", async (request) => {
    request.session.set("seen", new Date() as unknown as string);
    return "ok";
  });
  await app.ready();
  apps.push(app);
  const browser = () => {
    const jar = new CookieJar();
    return async (url: string) => {
      const response = await app.inject({ method: "GET", url, headers: { cookie: jar.header() } });
      jar.store(response.headers["set-cookie"]);
      return response;
    };
  };
  return { app, engine, errors, browser };
}

check(lesson, "dict-keys-order", async () => {
  const session = (await engineWith()).open(null);
  session.set("color", "blue");
  session.set("size", "M");
  const keys = JSON.stringify(session.keys());
  if (keys === '["color","size"]') return "a";
  if (keys === '["size","color"]') return "b";
  if (keys === '["blue","M"]') return "c";
  assert.equal(keys, "[]", `keys() returned ${keys}`);
  return "d";
});

check(lesson, "dict-get-missing", async () => {
  const session = (await engineWith()).open(null);
  let value: unknown;
  try {
    value = session.get("size");
  } catch (error) {
    assert.ok(error instanceof KeyError);
    return "a";
  }
  if (value === undefined) return "b";
  if (value === null) return "c";
  assert.equal(value, "", `get("size") returned ${JSON.stringify(value)}`);
  return "d";
});

check(lesson, "dict-counter", async () => {
  const visit = (await demo()).browser();
  await visit("/counter");
  await visit("/counter");
  const third = (await visit("/counter")).json<{ visits: unknown }>().visits;
  const byValue: Record<string, string> = { "2": "a", "3": "d", "1": "c", null: "b" };
  const id = byValue[String(third)];
  assert.ok(id, `the third visit showed ${String(third)}`);
  return id;
});

check(lesson, "dict-pop-once", async () => {
  const visit = (await demo()).browser();
  await visit("/checkout");
  const first = (await visit("/cart-page")).json<{ flash: unknown }>().flash;
  assert.equal(first, "Thank you!", "the first cart page shows the message");
  const reload = await visit("/cart-page");
  if (reload.statusCode === 500) return "b";
  const flash = reload.json<{ flash: unknown }>().flash;
  if (flash === "Thank you!") return "a";
  if (flash === null) return "c";
  assert.equal(flash, "undefined");
  return "d";
});

check(lesson, "dict-setdefault-existing", async () => {
  const engine = await engineWith();
  const first = engine.open(null);
  first.set("cart", ["pen"]);
  await first.save();
  const session = engine.open(first.sessionKey);
  await session.load();
  let returned: unknown;
  try {
    returned = session.setdefault("cart", []);
  } catch {
    return "d";
  }
  const stored = JSON.stringify(session.get("cart"));
  if (JSON.stringify(returned) === "[]" && stored === "[]") return "a";
  assert.equal(JSON.stringify(returned), '["pen"]');
  assert.equal(stored, '["pen"]');
  return session.modified ? "c" : "b";
});

check(lesson, "dict-delete-missing", async () => {
  const session = (await engineWith()).open(null);
  session.set("size", "M");
  session.modified = false;
  try {
    session.delete("color");
  } catch (error) {
    assert.ok(error instanceof KeyError, "the error is the exported KeyError");
    assert.equal(session.modified, false, "a failed delete marks nothing");
    return "a";
  }
  if (session.keys().length === 0) return "c";
  assert.ok(!session.has("color"));
  return "b";
});

/** What a second request finds in `cart` after `route` ran on ["pen"], on a fresh visitor. */
async function cartAfter(route: string, overrides: Partial<SessionSettingsInput> = {}): Promise<unknown> {
  const visit = (await demo(overrides)).browser();
  await visit("/seed");
  assert.equal((await visit(route)).statusCode, 200);
  return (await visit("/read")).json<{ cart: unknown }>().cart;
}

check(lesson, "dict-inplace-detected", async () => {
  const cart = JSON.stringify(await cartAfter("/push"));
  const byCart: Record<string, string> = { '["pen"]': "a", '["pen","ink"]': "b", '["ink"]': "c", null: "d" };
  const id = byCart[cart];
  assert.ok(id, `cart was ${cart}`);
  return id;
});

check(lesson, "dict-inplace-django-rule", async () => {
  const djangoRule = { SESSION_DETECT_MUTATIONS: false };
  const keeps = async (route: string) =>
    JSON.stringify(await cartAfter(route, djangoRule)) === JSON.stringify(["pen", "ink"]);
  const a = await keeps("/push");
  const b = await keeps("/push-and-mark");
  if (a && b) return "a";
  if (!a && !b) return "b";
  return b ? "c" : "d";
});

check(lesson, "dict-date-not-json", async () => {
  const { browser, errors } = await demo();
  const visit = browser();
  await visit("/seed");
  const response = await visit("/date");
  const after = (await visit("/read")).json<{ keys: string[] }>().keys;
  if (response.statusCode === 200) return after.includes("seen") ? "a" : after.length > 0 ? "b" : "d";
  assert.equal(response.statusCode, 500);
  assert.deepEqual(errors, ["NotSerializableError"]);
  assert.equal(response.headers["set-cookie"], undefined, "no cookie is sent with the 500");
  assert.deepEqual(after, ["cart"], "nothing new was stored");
  return "c";
});
