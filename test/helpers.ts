/** Shared fixtures: an in-memory SQLite with migrations applied, settings, a controllable clock. */
import type { Kysely } from "kysely";
import { openSqlite, type Database } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";
import {
  createSessionEngine,
  resolveSessionSettings,
  type SessionEngine,
  type SessionSettings,
  type SessionSettingsInput,
} from "../src/sessions/index.js";

export const TEST_SECRET = "test-secret-key-123";

export function testSettings(overrides: Partial<SessionSettingsInput> = {}): SessionSettings {
  return resolveSessionSettings({ SECRET_KEY: TEST_SECRET, ...overrides });
}

/** A clock tests can move: `clock.now()` in ms, `clock.advance(seconds)`. */
export class TestClock {
  constructor(public ms = Date.UTC(2026, 10, 22, 1, 0, 0)) {}
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export async function memoryDatabase(): Promise<Kysely<Database>> {
  const { db } = openSqlite(":memory:");
  await migrateToLatest(db);
  return db;
}

export interface EngineFixture {
  db: Kysely<Database>;
  engine: SessionEngine;
  settings: SessionSettings;
  clock: TestClock;
}

export async function dbFixture(overrides: Partial<SessionSettingsInput> = {}): Promise<EngineFixture> {
  const db = await memoryDatabase();
  const settings = testSettings(overrides);
  const clock = new TestClock();
  const engine = createSessionEngine(settings, { db }, { now: clock.now });
  return { db, engine, settings, clock };
}
