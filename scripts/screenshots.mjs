// `npm run screenshots`: the README's pictures. Starts the app on a free loopback port with a
// throwaway SQLite database (db engine), makes a staff user, clicks through the main pages in
// Chromium (found as `npm test` finds it: scripts/ensure-browser.mjs) and writes one PNG per page
// at desktop (1280 px) and phone (390 px) width to docs/screenshots/. Only stable element ids and
// URLs are used, so panels added to the pages later show up without changing this script.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "@playwright/test";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = path.join(ROOT, "docs", "screenshots");
const SIZES = [
  { name: "desktop", viewport: { width: 1280, height: 800 } },
  { name: "phone", viewport: { width: 390, height: 844 } },
];
const USER = "ada";
const PASSWORD = "correct horse battery";

function log(message) {
  process.stderr.write(`[screenshots] ${message}\n`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function findBrowser() {
  const found = spawnSync(process.execPath, ["scripts/ensure-browser.mjs"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (found.status !== 0 || !found.stdout) process.exit(1);
  return found.stdout;
}

async function waitForServer(url, child, output) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited (code ${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`the app did not answer at ${url} within 60 s:\n${output()}`);
}

async function logIn(page, base) {
  await page.goto(`${base}/login/`);
  await page.locator("#username").fill(USER);
  await page.locator("#password").fill(PASSWORD);
  await page.locator("#login-button").click();
  await page.waitForURL(`${base}/account/`);
}

/** One walk through the pages at one size; `shot(name)` saves the page as it is. */
async function walk(browser, base, size) {
  const context = await browser.newContext({ viewport: size.viewport, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const shot = async (name) => {
    const file = path.join(OUT, `${name}-${size.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    log(`wrote ${path.relative(ROOT, file)}`);
  };
  try {
    await page.goto(`${base}/`);
    await shot("home");
    await page.goto(`${base}/session/set/?key=colour&value=blue`);
    await shot("set");
    await page.goto(`${base}/counter/`);
    await page.reload();
    await page.reload();
    await shot("counter");
    await page.goto(`${base}/cart/`);
    for (const item of ["apple", "pear"]) {
      await page.locator("#item").fill(item);
      await page.locator("#add-button").click();
      await page.waitForURL(`${base}/cart/`);
    }
    await shot("cart");
    await page.goto(`${base}/expiry/`);
    await page.locator("#seconds").fill("0");
    await page.locator("#expiry-button").click();
    await page.waitForURL(`${base}/expiry/`);
    await shot("expiry");
    await page.goto(`${base}/session/`);
    await shot("session-json");
    await page.goto(`${base}/login/`);
    await shot("login");

    // A second browser logged in too, so the account and admin pages have more than one session.
    const other = await browser.newContext({ viewport: size.viewport });
    await logIn(await other.newPage(), base);
    await logIn(page, base);
    await shot("account");
    await page.goto(`${base}/settings/`);
    await shot("settings");
    await page.goto(`${base}/admin/sessions/`);
    await shot("admin-sessions");
    await page.locator("table.admin-sessions tbody tr:not(.current) a").first().click();
    await page.waitForURL(/\/admin\/sessions\/[a-z0-9]{8}\/$/);
    await shot("admin-session");
    await page.goto(`${base}/no-such-page/`);
    await shot("error");

    // /learn/: lesson 1 with a wrong answer graded (the question alone: the page is long), then the index.
    await page.goto(`${base}/learn/what-a-session-is/`);
    for (const [question, choice] of [
      ["what-2", "c"],
      ["what-1", "a"],
    ]) {
      await page.locator(`#${question}-${choice}`).check();
      await page.locator(`#${question}-submit`).click();
      await page.waitForURL(`${base}/learn/what-a-session-is/#${question}`);
    }
    const answered = path.join(OUT, `learn-answer-${size.name}.png`);
    await page.locator("article#what-1").screenshot({ path: answered });
    log(`wrote ${path.relative(ROOT, answered)}`);
    await page.goto(`${base}/learn/`);
    await shot("learn");
    await other.close();
  } finally {
    await context.close();
  }
}

const executablePath = findBrowser();
const dir = mkdtempSync(path.join(tmpdir(), "screenshots-"));
const env = {
  ...process.env,
  SESSION_ENGINE: "db",
  DATABASE_PATH: path.join(dir, "sessions.sqlite3"),
  DATABASE_URL: "",
  CACHE_BACKEND: "locmem",
  SESSION_FILE_PATH: "",
  SECRET_KEY: randomBytes(32).toString("hex"),
  NODE_ENV: "test",
  LOG_LEVEL: "warn",
  MIGRATE_ON_START: "true",
  LOGIN_ATTEMPTS_PER_MINUTE: "1000",
};
let server;
let browser;
try {
  mkdirSync(OUT, { recursive: true });
  const made = spawnSync(
    process.execPath,
    [
      "--conditions=fastify-django-sessions-source",
      "--import",
      "tsx",
      "src/cli/createuser.ts",
      USER,
      "--staff",
      "--noinput",
    ],
    {
      cwd: ROOT,
      env: { ...env, CREATEUSER_PASSWORD: PASSWORD },
      encoding: "utf8",
    },
  );
  if (made.status !== 0) throw new Error(`createuser failed:\n${made.stdout}${made.stderr}`);

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  server = spawn(
    process.execPath,
    ["--conditions=fastify-django-sessions-source", "--import", "tsx", "src/server.ts"],
    {
      cwd: ROOT,
      env: { ...env, HOST: "127.0.0.1", PORT: String(port) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  server.stdout.on("data", (chunk) => (output += chunk));
  server.stderr.on("data", (chunk) => (output += chunk));
  await waitForServer(`${base}/`, server, () => output);

  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  browser = await chromium.launch({ executablePath, args: [...(isRoot ? ["--no-sandbox"] : []), "--disable-gpu"] });
  for (const size of SIZES) await walk(browser, base, size);
  log(`done: ${SIZES.length} sizes in ${path.relative(ROOT, OUT)}/`);
} finally {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}
