/** The store contract (src/conformance.ts) on every engine, Redis and PostgreSQL included. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeSessionEngine, type ConformanceClock } from "../src/conformance.js";
import { createSessionEngine, MemoryCache, RedisCache, type SessionCache } from "../src/index.js";
import { memoryDatabase, memoryStore, testSettings } from "../../../test/helpers.js";
import { importableModule } from "../../../test/processes.js";
import { NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "../../../test/services.js";

const REDIS_CLOCK = "Redis expires entries by its own clock; covered in real time in test/caches/redis-cache.test.ts";

function memoryCaches(clock: ConformanceClock): Record<string, SessionCache> {
  return { default: new MemoryCache({ now: clock.now }) };
}

function redisCaches(label: string): Record<string, SessionCache> {
  return { default: new RedisCache({ url: REDIS_URL!, keyPrefix: uniquePrefix(label) }) };
}

describeSessionEngine("db (SQLite, through better-sqlite3 directly)", async (clock, hooks) => ({
  engine: await createSessionEngine(testSettings(), await memoryStore(), { now: clock.now, hooks }),
}));

describeSessionEngine("db (SQLite, through kysely only)", async (clock, hooks) => ({
  engine: await createSessionEngine(testSettings(), { db: await memoryDatabase() }, { now: clock.now, hooks }),
}));

describeSessionEngine(
  "db (PostgreSQL)",
  async (clock, hooks) => {
    const pg = await postgresSchema("db");
    const engine = await createSessionEngine(
      testSettings(),
      { db: pg.db, dateValue: pg.dateValue },
      { now: clock.now, hooks },
    );
    return { engine, cleanup: pg.drop };
  },
  { skipReason: NO_POSTGRES || undefined },
);

describeSessionEngine("cache (in-process)", async (clock, hooks) => ({
  engine: await createSessionEngine(
    testSettings({ SESSION_ENGINE: "cache" }),
    { caches: memoryCaches(clock) },
    { now: clock.now, hooks },
  ),
}));

describeSessionEngine(
  "cache (Redis)",
  async (clock, hooks) => {
    const caches = redisCaches("cache");
    const engine = await createSessionEngine(
      testSettings({ SESSION_ENGINE: "cache" }),
      { caches },
      { now: clock.now, hooks },
    );
    return { engine, cleanup: () => caches.default!.close() };
  },
  { skipReason: NO_REDIS || undefined, ownClockReason: REDIS_CLOCK },
);

describeSessionEngine("cached_db (SQLite + in-process cache)", async (clock, hooks) => ({
  engine: await createSessionEngine(
    testSettings({ SESSION_ENGINE: "cached_db" }),
    { ...(await memoryStore()), caches: memoryCaches(clock) },
    { now: clock.now, hooks },
  ),
}));

describeSessionEngine(
  "cached_db (PostgreSQL + Redis)",
  async (clock, hooks) => {
    const pg = await postgresSchema("cached");
    const caches = redisCaches("cached-db");
    const engine = await createSessionEngine(
      testSettings({ SESSION_ENGINE: "cached_db" }),
      { db: pg.db, dateValue: pg.dateValue, caches },
      { now: clock.now, hooks },
    );
    return {
      engine,
      async cleanup() {
        await caches.default!.close();
        await pg.drop();
      },
    };
  },
  { skipReason: NO_POSTGRES || NO_REDIS || undefined, ownClockReason: REDIS_CLOCK },
);

describeSessionEngine("file", async (clock, hooks) => {
  const directory = mkdtempSync(join(tmpdir(), "sessions-conformance-"));
  return {
    engine: await createSessionEngine(
      testSettings({ SESSION_ENGINE: "file", SESSION_FILE_PATH: directory }),
      {},
      { now: clock.now, hooks },
    ),
    cleanup: async () => rmSync(directory, { recursive: true, force: true }),
  };
});

describeSessionEngine(
  "signed_cookies",
  async (clock, hooks) => ({
    engine: await createSessionEngine(
      testSettings({ SESSION_ENGINE: "signed_cookies" }),
      {},
      { now: clock.now, hooks },
    ),
  }),
  { clientSide: true },
);

describeSessionEngine(
  "custom engine module (the README's, test/readme-examples/custom-engine.ts)",
  async (clock, hooks) => ({
    engine: await createSessionEngine(
      testSettings({
        SESSION_ENGINE: importableModule("./packages/fastify-django-sessions/test/readme-examples/custom-engine.ts"),
      }),
      {},
      { now: clock.now, hooks },
    ),
  }),
  { noRecordExpiry: true, noListing: true },
);
