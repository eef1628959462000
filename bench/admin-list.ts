/**
 * How /admin/sessions/ behaves on a large SQLite store: the latency of its first page and of a
 * deep page (near the end of the listing), of a session's detail page, and of /healthz requests
 * sent while admin pages are being requested. The app runs in a child process (so a stall in it
 * cannot slow the clock that measures it); /healthz is probed on a fixed schedule, each request
 * timed from when it was due. Run: node --import tsx bench/admin-list.ts [rows]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import SQLite from "better-sqlite3";
import { hashPassword } from "../src/auth/passwords.js";
import { openSqlite } from "../src/db/database.js";
import { migrateToLatest } from "../src/db/migrations.js";
import {
  createSessionEngine,
  resolveSessionSettings,
  TimestampSigner,
  toSqliteDatetime,
} from "fastify-django-sessions";
import { STORED_DATA_SALT } from "fastify-django-sessions";

/** The target: while staff page through the list, the health check still answers promptly. */
const TARGET_HEALTHZ_P99_MS = 100;
const SECRET_KEY = "bench-admin-list-secret-key-0123456789";
const PASSWORD = "bench horse battery";
/** How long the admin pages are requested while /healthz is probed, and how often it is. */
const LOAD_SECONDS = 10;
const PROBE_EVERY_MS = 20;

// ---- the app, in the child process --------------------------------------------------------

async function serve(path: string): Promise<void> {
  const { buildApp } = await import("../src/app.js");
  const { loadConfig } = await import("../src/config.js");
  const database = openSqlite(path);
  const config = loadConfig({ SECRET_KEY, LOG_LEVEL: "silent", DATABASE_PATH: path, MIGRATE_ON_START: "false" });
  const engine = await createSessionEngine(config.session, { db: database.db, dateValue: database.dateValue });
  const app = await buildApp(config, { db: database.db, engine, runtime: { database, caches: {} } });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  // How long the event loop was held, asked for over IPC: a stall of the app itself, as
  // opposed to a machine too busy to run it.
  const delay = monitorEventLoopDelay({ resolution: 5 });
  process.on("message", (message) => {
    if (message === "reset") delay.reset();
    if (message === "report")
      process.send!({ p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
  });
  delay.enable();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
  process.on(
    "SIGTERM",
    () =>
      void app
        .close()
        .then(() => database.db.destroy())
        .finally(() => process.exit(0)),
  );
}

// ---- filling the store ------------------------------------------------------------------------

/** The key of row `i`: in key order as i grows, so the inserts append to the index. */
const keyOf = (i: number) => `${i.toString(36).padStart(8, "0")}${"x".repeat(24)}`;

async function fill(path: string, rows: number): Promise<void> {
  const { db } = openSqlite(path);
  await migrateToLatest(db);
  await db
    .insertInto("users")
    .values({ username: "staff", password: await hashPassword(PASSWORD), is_staff: 1 })
    .execute();
  await db.destroy();
  // One session's data, signed once and stored in every row (a cart, as the demo keeps one).
  const signer = new TimestampSigner({ secret: SECRET_KEY, salt: STORED_DATA_SALT });
  const data = signer.signObject({ cart: ["apple", "pear", "<script>"], visits: 3 });
  const sqlite = new SQLite(path);
  const insert = sqlite.prepare("insert into sessions (session_key, session_data, expire_date) values (?, ?, ?)");
  const start = Date.now() + 3600_000;
  sqlite.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(keyOf(i), data, toSqliteDatetime(start + i * 1000));
  })();
  sqlite.close();
}

/** The cursor of row `i` as the app would make it: the page link that lists the rows after it. */
async function cursorAt(path: string, i: number): Promise<string> {
  const database = openSqlite(path);
  const engine = await createSessionEngine(resolveSessionSettings({ SECRET_KEY }), {
    db: database.db,
    dateValue: database.dateValue,
  });
  try {
    for await (const stored of engine.listSessions!({ keyPrefix: keyOf(i), limit: 1 })) return stored.cursor!;
    throw new Error(`no row ${i}`);
  } finally {
    await database.db.destroy();
  }
}

// ---- a client ---------------------------------------------------------------------------------

class Client {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  private remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }

  async get(path: string): Promise<{ status: number; body: string; ms: number }> {
    const t = performance.now();
    const response = await fetch(this.base + path, {
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
      redirect: "manual",
    });
    const body = await response.text();
    this.remember(response);
    return { status: response.status, body, ms: performance.now() - t };
  }

  async logIn(username: string, password: string): Promise<void> {
    const form = await this.get("/login/");
    const token = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1] ?? "";
    const response = await fetch(`${this.base}/login/`, {
      method: "POST",
      body: new URLSearchParams({ _csrf: token, username, password }),
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
        "content-type": "application/x-www-form-urlencoded",
      },
      redirect: "manual",
    });
    await response.text();
    this.remember(response);
    if (response.status !== 303) throw new Error(`login failed: ${response.status}`);
  }
}

function summary(ms: number[]): { p50: string; p95: string; p99: string; max: string; n: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1)!.toFixed(1), n: sorted.length };
}

const line = (label: string, s: ReturnType<typeof summary>) =>
  `  ${label.padEnd(34)} p50 ${s.p50.padStart(6)}  p95 ${s.p95.padStart(6)}  p99 ${s.p99.padStart(6)}  max ${s.max.padStart(6)} ms  (${s.n} requests)`;

/** Sends GET /healthz every PROBE_EVERY_MS without waiting for answers; each timed from when it was due. */
async function probeHealth(base: string, seconds: number): Promise<number[]> {
  const times: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let n = 0; ; n++) {
    const due = start + n * PROBE_EVERY_MS;
    if (due - start > seconds * 1000) break;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      fetch(`${base}/healthz`).then(async (response) => {
        await response.text();
        if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
        times.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(pending);
  return times;
}

async function bench(rows: number): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "bench-admin-list-"));
  const path = join(dir, "sessions.sqlite3");
  let child: ChildProcess | undefined;
  try {
    let t = performance.now();
    await fill(path, rows);
    console.log(`filled ${rows.toLocaleString("en-US")} sessions in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const deep = await cursorAt(path, Math.floor(rows * 0.1)); // listed latest expiry first: 90% down the list

    child = spawn(
      process.execPath,
      [
        "--conditions=fastify-django-sessions-source",
        "--import",
        "tsx",
        fileURLToPath(import.meta.url),
        "--serve",
        path,
      ],
      {
        env: { ...process.env, DATABASE_URL: "", REDIS_URL: "", NODE_ENV: "production" },
        stdio: ["ignore", "pipe", "inherit", "ipc"],
      },
    );
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child!.stdout! }).once("line", resolve);
      child!.once("exit", (code) => reject(new Error(`the app exited (${code})`)));
    });
    const base = `http://127.0.0.1:${(JSON.parse(first) as { port: number }).port}`;
    const staff = new Client(base);
    await staff.logIn("staff", PASSWORD);

    const firstUrl = "/admin/sessions/";
    const deepUrl = `/admin/sessions/?after=${deep}`;
    const detailUrl = `/admin/sessions/${keyOf(Math.floor(rows / 2)).slice(0, 8)}/`;
    const check = await staff.get(deepUrl);
    const shown = /id="admin-count">([^<]+)</.exec(check.body)?.[1];
    if (check.status !== 200 || !shown) throw new Error(`the deep page answered ${check.status}`);
    console.log(
      `first page: "${/id="admin-count">([^<]+)</.exec((await staff.get(firstUrl)).body)?.[1]}"; deep page: "${shown}"`,
    );

    const timed = async (url: string, n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await staff.get(url);
        if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
        ms.push(r.ms);
      }
      return summary(ms);
    };
    console.log("latency, one request at a time:");
    console.log(line("/admin/sessions/ (first page)", await timed(firstUrl, 30)));
    console.log(line("/admin/sessions/?after=… (deep page)", await timed(deepUrl, 30)));
    console.log(line("/admin/sessions/PREFIX/ (detail)", await timed(detailUrl, 30)));
    console.log(line("/healthz alone", summary(await probeHealth(base, 3))));

    // Two staff clients page through the list (first and deep pages in turn) while /healthz is probed.
    let stop = false;
    const listed: number[] = [];
    const browse = async () => {
      for (let i = 0; !stop; i++) {
        const r = await staff.get(i % 2 === 0 ? firstUrl : deepUrl);
        if (r.status !== 200) throw new Error(`admin page answered ${r.status}`);
        listed.push(r.ms);
      }
    };
    const loopDelay = async () => {
      const answer = new Promise<{ p50: number; p99: number; max: number }>((resolve) =>
        child!.once("message", (m) => resolve(m as { p50: number; p99: number; max: number })),
      );
      child!.send("report");
      return answer;
    };
    child.send("reset");
    t = performance.now();
    const browsing = [browse(), browse()];
    const health = await probeHealth(base, LOAD_SECONDS);
    stop = true;
    await Promise.all(browsing);
    const during = summary(health);
    console.log(
      `while 2 clients request admin pages without pause for ${((performance.now() - t) / 1000).toFixed(0)} s:`,
    );
    console.log(line("admin pages (first and deep)", summary(listed)));
    console.log(line("/healthz", during));
    const held = await loopDelay();
    console.log(
      `  the app's event loop delay meanwhile: p50 ${held.p50.toFixed(1)}  p99 ${held.p99.toFixed(1)}  max ${held.max.toFixed(1)} ms`,
    );
    const met = Number(during.p99) < TARGET_HEALTHZ_P99_MS;
    console.log(
      `target: healthz p99 while listing < ${TARGET_HEALTHZ_P99_MS} ms: ${met ? "met" : "MISSED"} (${during.p99} ms)`,
    );
    return met;
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3]!);
} else {
  const rows = Number(process.argv[2] ?? 1_000_000);
  process.exitCode = (await bench(rows)) ? 0 : 1;
}
