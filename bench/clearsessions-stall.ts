/**
 * How long the running app's writes wait while `npm run clearsessions` purges a large SQLite
 * table: batched (the default, 1000 rows per statement) against one statement for everything.
 * A second connection inserts a session every 2 ms (as the server would) and records how long
 * each insert took. Run: node --import tsx bench/clearsessions-stall.ts [rows]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { openSqlite } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";
import { toSqliteDatetime } from "fastify-django-sessions";

const ROWS = Number(process.argv[2] ?? 200_000);
/** The target: with the default batch, no write of the app waits longer than this (ms). */
const TARGET_MAX_WAIT_MS = 100;
const dir = mkdtempSync(join(tmpdir(), "bench-clearsessions-"));

async function fill(path: string): Promise<void> {
  const { db } = openSqlite(path);
  await migrateToLatest(db);
  await db.destroy();
  const sqlite = new SQLite(path);
  const insert = sqlite.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  const past = toSqliteDatetime(Date.now() - 3600_000);
  const data = "x".repeat(300);
  sqlite.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(`k${String(i).padStart(31, "0")}`, data, past);
  })();
  sqlite.close();
}

async function run(batchSize: number) {
  const path = join(dir, `bench-${batchSize}.sqlite3`);
  await fill(path);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      "--conditions=fastify-django-sessions-source",
      "--import",
      "tsx",
      "src/cli/clearsessions.ts",
      "--batch-size",
      String(batchSize),
    ],
    {
      env: { ...process.env, DATABASE_PATH: path, DATABASE_URL: "", REDIS_URL: "" },
      stdio: "ignore",
    },
  );
  let done = false;
  child.on("exit", () => (done = true));
  const app = new SQLite(path);
  app.pragma("busy_timeout = 30000");
  const write = app.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  const waits: number[] = [];
  for (let i = 0; !done; i++) {
    const t = performance.now();
    write.run(`w${String(i).padStart(31, "0")}`, "e30", toSqliteDatetime(Date.now() + 3600_000));
    waits.push(performance.now() - t);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  app.close();
  waits.sort((a, b) => a - b);
  const at = (q: number) => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))]!.toFixed(1);
  return {
    batchSize,
    seconds: ((performance.now() - started) / 1000).toFixed(1),
    writes: waits.length,
    p50: at(0.5),
    p99: at(0.99),
    max: waits.at(-1)!.toFixed(1),
  };
}

try {
  console.log(`clearsessions on ${ROWS} expired rows; the app's insert latency meanwhile (ms):`);
  let met = true;
  for (const batchSize of [1000, 100_000]) {
    const r = await run(batchSize);
    console.log(
      `  batch ${String(r.batchSize).padStart(6)}: ${r.seconds} s, ${r.writes} writes, p50 ${r.p50}, p99 ${r.p99}, max ${r.max}`,
    );
    if (batchSize === 1000) met = Number(r.max) < TARGET_MAX_WAIT_MS;
  }
  console.log(`target (default batch): longest wait under ${TARGET_MAX_WAIT_MS} ms: ${met ? "met" : "MISSED"}`);
  process.exitCode = met ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
