/**
 * Server processes: started by the harness as `node --import tsx <file>` on 127.0.0.1 (each
 * picks a free port and says which over IPC), asked for counters over IPC, stopped by PID.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { InspectQuery } from "./servers/link.js";

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Every child this harness started, so an early exit can still end them (by PID only). */
const started = new Set<ChildProcess>();

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** A child started elsewhere (a command run against a server's database) that killAll must also end. */
export function adopt(child: ChildProcess): void {
  started.add(child);
}

export function killAll(): void {
  for (const child of started) {
    if (alive(child) && child.pid !== undefined) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

export interface Stats {
  counters: Record<string, number>;
  responses: number;
  responses2xx: number;
  setCookies: number;
  distinctCookies: number;
}

export class ServerProcess {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly stderr: string[] = [];

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on("message", (raw) => {
      const message = raw as { id?: number; type: string; value?: unknown; error?: string };
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.type === "error") waiter.reject(new Error(message.error));
      else waiter.resolve(message.value);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts `file` and resolves once it listens; rejects with its stderr if it dies first. */
  static start(
    file: string,
    env: NodeJS.ProcessEnv,
    nodeArgs: string[] = [],
    timeoutMs = 90_000,
  ): Promise<ServerProcess> {
    const child = spawn(
      process.execPath,
      [...nodeArgs, "--conditions=fastify-django-sessions-source", "--import", "tsx", file],
      {
        env,
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      },
    );
    started.add(child);
    const stderr: string[] = [];
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      stderr.push(chunk);
      if (stderr.length > 50) stderr.shift();
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new Error(`did not start within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (alive(child)) child.kill("SIGKILL");
        const tail = stderr.join("").trim().split("\n").slice(-8).join("\n");
        reject(new Error(`${error.message}${tail ? `\n${tail}` : ""}`));
      };
      child.once("exit", (code, signal) => fail(new Error(`exited (${signal ?? code}) before listening`)));
      child.once("error", (error) => fail(error));
      child.on("message", function onReady(raw) {
        const message = raw as { type: string; port?: number };
        if (message.type !== "ready") return;
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.off("message", onReady);
        const server = new ServerProcess(child, message.port!);
        server.stderr.push(...stderr);
        child.on("exit", () => {
          for (const waiter of server.pending.values()) waiter.reject(new Error("server exited"));
          server.pending.clear();
        });
        resolve(server);
      });
    });
  }

  private ask<T>(message: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${String(message.type)} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.send({ ...message, id });
    });
  }

  stats(resetDistinct = false): Promise<Stats> {
    return this.ask<Stats>({ type: "stats", resetDistinct });
  }

  inspect(query: InspectQuery): Promise<{ visits?: number; missing?: number; sessions?: number } | null> {
    return this.ask({ type: "inspect", query }, 600_000);
  }

  /** The server's monotonic clock in µs (the clock a .cpuprofile's timestamps use). */
  clock(): Promise<number> {
    return this.ask<number>({ type: "clock" });
  }

  /** The server's process.memoryUsage() (RSS, V8 heap, memory outside it); `gc`: after a full collection (needs --expose-gc). */
  memory(gc = false): Promise<NodeJS.MemoryUsage> {
    return this.ask<NodeJS.MemoryUsage>({ type: "memory", gc });
  }

  /** The counters once in-flight requests have finished (the answered count stops moving). */
  async settled(resetDistinct = false): Promise<Stats> {
    let previous = await this.stats();
    for (let i = 0; i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const current = await this.stats();
      if (current.responses === previous.responses) break;
      previous = current;
    }
    return this.stats(resetDistinct);
  }

  /** Resident set size in kB, from /proc/<pid>/status (null where there is no /proc). */
  rssKb(): number | null {
    return this.statusKb("VmRSS");
  }

  /** A kB figure of /proc/<pid>/status (VmRSS, VmHWM: the peak RSS, ...); null where there is none. */
  statusKb(field: string): number | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
      const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status);
      return match ? Number(match[1]) : null;
    } catch {
      return null;
    }
  }

  /**
   * CPU time the process has used so far (user + system, all threads), in ms, from
   * /proc/<pid>/stat; null where there is no /proc. Unlike req/s it hardly depends on what
   * else the machine is doing.
   */
  cpuMs(): number | null {
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, "utf8");
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      return null;
    }
  }

  /** Asks it to close (so `--cpu-prof` can write); SIGKILL by PID after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!alive(this.child)) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      this.child.send({ type: "shutdown", id: ++this.nextId });
    } catch {
      // channel already closed
    }
    const timer = setTimeout(() => {
      if (alive(this.child)) process.kill(this.pid, "SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }
}
