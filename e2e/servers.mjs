// The browser tests' app servers, one per engine, started at the same time. playwright.config.ts
// runs this as its one webServer: Playwright starts webServer entries one after another (five
// start-ups of about 3 s each, each found by a poll that backs off to 1 s) and stops them one after
// another. Each server is still a process of its own (`node --import tsx src/server.ts`, or its
// compiled file, with its engine's environment, from E2E_SERVERS); "e2e servers ready" is printed once every one answers
// GET / with 200. A server that exits early ends the launcher with status 1. On SIGTERM or SIGINT
// (Playwright signals the whole process group) each server shuts down gracefully and the launcher
// exits once all have, with status 1 if any did not exit cleanly.
import { spawn } from "node:child_process";

/** @type {{ name: string, port: number, env: Record<string, string> }[]} */
const servers = JSON.parse(process.env.E2E_SERVERS ?? "[]");
if (servers.length === 0) {
  console.error("e2e/servers.mjs: E2E_SERVERS lists no servers");
  process.exit(2);
}

let stopping = false;
let failed = false;

/** Each line of a child's output, prefixed with its engine. */
function relay(stream, name, out) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
  stream.on("end", () => {
    if (rest) out.write(`[${name}] ${rest}\n`);
  });
}

/**
 * `node --import tsx src/server.ts`, or under `npm test` the server compiled into .build/ (named by
 * E2E_SERVER_ENTRY), which starts in a third of the CPU time.
 */
const entry = process.env.E2E_SERVER_ENTRY;
const serverArgs = entry
  ? ["--enable-source-maps", entry]
  : ["--conditions=fastify-django-sessions-source", "--import", "tsx", "src/server.ts"];

const children = servers.map(({ name, port, env }) => {
  const child = spawn(process.execPath, serverArgs, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  relay(child.stdout, name, process.stdout);
  relay(child.stderr, name, process.stderr);
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      if (!stopping) {
        console.error(`[${name}] the server on port ${port} exited (code ${code}, signal ${signal})`);
        failed = true;
        stop("SIGTERM");
      } else if (code !== 0) {
        console.error(`[${name}] the server did not shut down cleanly (code ${code}, signal ${signal})`);
        failed = true;
      }
      resolve();
    });
  });
  return { name, port, child, exited };
});

/** Signals every server still running (a repeated signal changes nothing for the server). */
function stop(signal) {
  if (stopping) return;
  stopping = true;
  for (const { child } of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));

/** Resolves once GET / on the port answers 200 (every 50 ms), or when the launcher is stopping. */
async function answers(port) {
  while (!stopping) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

void Promise.all(children.map(({ port }) => answers(port))).then(() => {
  if (!stopping) console.log(`e2e servers ready: ${children.map(({ name, port }) => `${name} on ${port}`).join(", ")}`);
});

await Promise.all(children.map(({ exited }) => exited));
process.exit(failed ? 1 : 0);
