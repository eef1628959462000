// Finds a Chromium for Playwright: its own download if present, else a system Chromium, else
// (as root, on Debian/Ubuntu) installs Debian's `chromium` package. Prints the path on stdout.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
];

function log(message) {
  process.stderr.write(`[browser] ${message}\n`);
}

async function playwrightsOwn() {
  try {
    const { chromium } = await import("@playwright/test");
    const path = chromium.executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function systemChromium() {
  return CANDIDATES.find((path) => path && existsSync(path));
}

function installDebianChromium() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!isRoot || !hasApt) return false;
  log("no Chromium found; installing Debian's chromium package (apt-get install -y chromium)...");
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    return true;
  } catch (error) {
    log(`apt-get failed: ${error.message}`);
    return false;
  }
}

let path = (await playwrightsOwn()) ?? systemChromium();
if (!path && installDebianChromium()) path = systemChromium();
if (!path) {
  log("No Chromium browser is available for the end-to-end tests.");
  log("Fix it with one of:");
  log("  npx playwright install chromium        (where Playwright can download browsers)");
  log("  sudo apt-get install -y chromium       (Debian/Ubuntu)");
  log("  CHROMIUM_PATH=/path/to/chrome npm test (any Chromium or Chrome you already have)");
  process.exit(1);
}
process.stdout.write(path);
