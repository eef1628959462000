/**
 * PostgreSQL restarted under the running app. A private PostgreSQL (Debian's initdb and pg_ctl in
 * a temp directory, trust auth, loopback, a free port) and the real app process on it; clients
 * loop GET /counter/ with their cookies while PostgreSQL is restarted with `-m immediate`, then
 * stopped with `-m fast` and started again. The app must stay up, answer 503 pages (not 500s,
 * not dropped connections) while PostgreSQL is away, report it on /healthz, serve again once it
 * is back, and lose no acknowledged increment.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import pg from "pg";
import { decodeStored, STORED_DATA_SALT, TimestampSigner } from "fastify-django-sessions";
import { CookieJar, TEST_SECRET } from "../helpers.js";
import { freePort, PROJECT_ROOT, SERVER_ARGS, serverEnv } from "../processes.js";

const CLIENTS = 8;
/** Longer than the route lock's 10 s lease, which a request cut off by the outage leaves behind. */
const REQUEST_TIMEOUT_MS = 15_000;
const PHASE_TIMEOUT_MS = 15_000;
/**
 * Back to serving every client within this of PostgreSQL's return: less than the route lock's
 * lease, which a request cut off by the outage could not give back (it is retried meanwhile).
 */
const RECOVERY_MS = 7_000;

/** Who runs PostgreSQL: this user, or (as root, which initdb and pg_ctl refuse) the `postgres` user. */
function postgresUser(): { uid: number; gid: number } | null | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

const runs = (binary: string) => spawnSync(binary, ["--version"]).status === 0;

/** initdb and pg_ctl: on PATH, or in Debian's /usr/lib/postgresql/<newest>/bin; null when neither. */
function postgresBinaries(): { initdb: string; pg_ctl: string } | null {
  if (runs("initdb") && runs("pg_ctl")) return { initdb: "initdb", pg_ctl: "pg_ctl" };
  const versions = existsSync("/usr/lib/postgresql") ? readdirSync("/usr/lib/postgresql") : [];
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = join("/usr/lib/postgresql", version, "bin");
    const found = { initdb: join(bin, "initdb"), pg_ctl: join(bin, "pg_ctl") };
    if (runs(found.initdb) && runs(found.pg_ctl)) return found;
  }
  return null;
}

const BINARIES = postgresBinaries();

function skipReason(): string | false {
  if (!BINARIES) return "initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql: no private PostgreSQL";
  if (postgresUser() === null) return "running as root and there is no postgres user to run initdb and pg_ctl as";
  return false;
}

const SKIP = skipReason();

/** A PostgreSQL server of this file's own, in a temp directory. */
class PrivateServer {
  readonly dir = mkdtempSync(join(tmpdir(), "pg-restart-"));
  readonly data = join(this.dir, "data");
  readonly log = join(this.dir, "server.log");
  readonly user = postgresUser() ?? undefined;
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Runs initdb or pg_ctl as the server's user; rejects with its output on failure. */
  run(binary: "initdb" | "pg_ctl", args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(
        BINARIES![binary],
        args,
        { cwd: this.dir, timeout: 30_000, ...(this.user ?? {}) },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`${binary} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`));
          else resolve();
        },
      );
    });
  }

  async init(): Promise<void> {
    if (this.user) chownSync(this.dir, this.user.uid, this.user.gid);
    this.port = await freePort();
    await this.run("initdb", ["-D", this.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    await this.pgCtl("start");
  }

  /** pg_ctl with the server's options every time (a plain `start` would take the default port). */
  pgCtl(action: "start" | "stop" | "restart", args: string[] = []): Promise<void> {
    // fsync off: what is tested is a restart, not a power cut.
    const options = `-k ${this.dir} -p ${this.port} -h 127.0.0.1 -c fsync=off`;
    return this.run("pg_ctl", [action, "-D", this.data, "-w", "-l", this.log, "-o", options, ...args]);
  }

  /** In `after`: stopped by its own pg_ctl, its directory removed. */
  async destroy(): Promise<void> {
    await this.pgCtl("stop", ["-m", "immediate"]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

interface AppProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
}

/** The app as `npm start` runs it, on `databaseUrl`; its process is added to `children` at once. */
async function startApp(databaseUrl: string, children: Set<ChildProcess>): Promise<AppProcess> {
  const child = spawn(process.execPath, SERVER_ARGS, {
    cwd: PROJECT_ROOT,
    // NODE_ENV=test: JSON log lines. The db engine on PostgreSQL, migrated at start.
    env: serverEnv({
      DATABASE_URL: databaseUrl,
      NODE_ENV: "test",
      SECRET_KEY: TEST_SECRET,
      SESSION_ENGINE: "db",
      MIGRATE_ON_START: "true",
      SESSION_CLEANUP_INTERVAL: "0",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += String(chunk)));
  child.stderr.on("data", (chunk: Buffer) => (stderr += String(chunk)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not listen within 30 s\n${stdout}${stderr}`)), 30_000);
    const check = () => {
      const found = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (!found) return;
      clearTimeout(timer);
      child.stdout.off("data", check);
      resolve(found[1]!);
    };
    child.stdout.on("data", check);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the app exited (${code ?? signal}) before listening\n${stdout}${stderr}`));
    });
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr };
}

/** One request's outcome: the status and counter value, or what went wrong with the connection. */
interface Outcome {
  at: number;
  status?: number;
  visits?: number;
  body?: string;
  failure?: string;
}

/** A browser looping GET /counter/ with its cookies until told to stop. */
class Client {
  readonly jar = new CookieJar();
  readonly outcomes: Outcome[] = [];
  private running = true;
  private loop: Promise<void> | undefined;

  start(url: string): void {
    this.loop = (async () => {
      while (this.running) {
        this.outcomes.push(await this.visit(url));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async visit(url: string): Promise<Outcome> {
    try {
      const response = await fetch(`${url}/counter/`, {
        headers: { cookie: this.jar.header() },
        redirect: "manual",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      this.jar.store(response.headers.getSetCookie());
      const body = await response.text();
      const visits = /<strong id="visits">(\d+)<\/strong>/.exec(body)?.[1];
      return { at: Date.now(), status: response.status, body, ...(visits ? { visits: Number(visits) } : {}) };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return { at: Date.now(), failure: `${(error as Error).name}: ${(error as Error).message} ${cause ?? ""}` };
    }
  }

  get sessionKey(): string | undefined {
    return this.jar.cookies.get("sessionid");
  }

  /** Whether a 200 came back after `since`. */
  servedSince(since: number): boolean {
    return this.outcomes.some((o) => o.at > since && o.status === 200);
  }
}

/** Waits for `condition`; fails at once, with its output, if the app process has ended meanwhile. */
async function until(
  app: AppProcess,
  what: string,
  condition: () => boolean,
  timeoutMs = PHASE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (app.child.exitCode !== null || app.child.signalCode !== null) {
      throw new Error(
        `the app exited (${app.child.exitCode ?? app.child.signalCode}) while waiting for: ${what}\n${app.stderr()}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs / 1000} s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function health(url: string): Promise<{ status: number; body: { checks?: Record<string, string> } }> {
  const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.status, body: (await response.json()) as { checks?: Record<string, string> } };
}

/** Each session's stored counter, read from the sessions table as the app wrote it. */
async function storedVisits(databaseUrl: string): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ session_key: string; session_data: string }>(
      "select session_key, session_data from sessions",
    );
    const signer = new TimestampSigner({ secret: TEST_SECRET, salt: STORED_DATA_SALT });
    return new Map(rows.map((row) => [row.session_key, Number(decodeStored(signer, row.session_data)?.visits)]));
  } finally {
    await client.end();
  }
}

function logLines(app: AppProcess): Array<Record<string, unknown>> {
  return app
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test(
  "PostgreSQL restarted (-m immediate) and stopped and started (-m fast) under load: the app stays up, answers 503 meanwhile, recovers, loses nothing acknowledged",
  { skip: SKIP, timeout: 120_000 },
  async (t) => {
    const server = new PrivateServer();
    const clients = Array.from({ length: CLIENTS }, () => new Client());
    const children = new Set<ChildProcess>();
    t.after(async () => {
      await Promise.all(clients.map((c) => c.stop()));
      for (const child of children) {
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      await server.destroy();
    });
    const t0 = Date.now();
    const phase = (name: string) => t.diagnostic(`${name} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await server.init();
    phase("PostgreSQL up");
    const app = await startApp(server.url, children);
    phase("app listening");
    for (const client of clients) client.start(app.url);
    await until(app, "every client counted twice", () =>
      clients.every((c) => c.outcomes.filter((o) => o.status === 200).length >= 2),
    );

    phase("load running");
    await server.pgCtl("restart", ["-m", "immediate"]);
    phase("restarted -m immediate");
    const restarted = Date.now();
    await until(
      app,
      "every client served after the immediate restart",
      () => clients.every((c) => c.servedSince(restarted)),
      RECOVERY_MS,
    );

    phase("every client served again");
    await server.pgCtl("stop", ["-m", "fast"]);
    phase("stopped -m fast");
    const stopped = Date.now();
    await until(app, "a 503 while PostgreSQL is stopped", () =>
      clients.some((c) => c.outcomes.some((o) => o.at > stopped && o.status === 503)),
    );
    const down = await health(app.url);
    assert.equal(down.status, 503, "/healthz reports the outage");
    assert.match(down.body.checks?.database ?? "", /^unavailable: /);

    phase("a 503 seen");
    await server.pgCtl("start");
    phase("started");
    const started = Date.now();
    await until(
      app,
      "every client served after the start",
      () => clients.every((c) => c.servedSince(started)),
      RECOVERY_MS,
    );
    await Promise.all(clients.map((c) => c.stop()));
    phase("every client served again");

    assert.equal(app.child.exitCode, null, `the app is still running\n${app.stderr()}`);
    assert.equal(app.child.signalCode, null);
    assert.equal((await health(app.url)).status, 200, "/healthz is ok again");
    assert.doesNotMatch(app.stderr(), /Unhandled|uncaught/i);

    const outcomes = clients.flatMap((c) => c.outcomes);
    const failures = outcomes.filter((o) => o.failure !== undefined).map((o) => o.failure);
    assert.deepEqual(failures, [], "no request was cut off or left hanging");
    const statuses = new Set(outcomes.map((o) => o.status));
    assert.deepEqual([...statuses].sort(), [200, 503], "every answer was the page or a 503");
    for (const outage of outcomes.filter((o) => o.status === 503)) {
      assert.match(outage.body!, /Service Unavailable \(503\)/);
      assert.match(outage.body!, /The session store is unavailable right now\. Please try again in a moment\./);
      assert.doesNotMatch(outage.body!, /\n\s+at |node_modules|node:internal/, "no stack trace");
    }

    // Each 200 acknowledged one increment; a request that failed may have committed its own
    // (the connection cut after COMMIT) but never undone an acknowledged one.
    const stored = await storedVisits(server.url);
    for (const [i, client] of clients.entries()) {
      const key = client.sessionKey;
      assert.ok(key, `client ${i} kept its session cookie`);
      let previous = 0;
      let unacknowledged = 0;
      for (const outcome of client.outcomes) {
        if (outcome.status !== 200) {
          unacknowledged++;
          continue;
        }
        const visits = outcome.visits!;
        assert.ok(visits > previous, `client ${i}: ${visits} after ${previous}: the counter went up`);
        assert.ok(
          visits - previous - 1 <= unacknowledged,
          `client ${i}: ${visits} after ${previous} with ${unacknowledged} failed requests between`,
        );
        previous = visits;
        unacknowledged = 0;
      }
      const kept = stored.get(key);
      assert.ok(kept !== undefined && kept >= previous, `client ${i}: stored ${kept} >= last acknowledged ${previous}`);
      assert.ok(kept - previous <= unacknowledged, `client ${i}: stored ${kept}, ${unacknowledged} unacknowledged`);
    }

    const lines = logLines(app);
    const lost = lines.filter((l) => String(l.msg).startsWith("PostgreSQL connection lost"));
    assert.ok(lost.length > 0, "the lost connections were logged");
    for (const line of lost) assert.equal(line.level, 40, "as warnings");
    const answered = lines.filter((l) => l.msg === "database unavailable: answered 503");
    assert.ok(answered.length > 0, "each 503 was logged");
    assert.ok(
      answered.every((l) => typeof l.reason === "string" && l.err === undefined),
      "with its reason, not a stack",
    );
    const failed = lines.filter((l) => l.msg === "request failed");
    assert.deepEqual(failed, [], "no request failed with a 500");
  },
);
