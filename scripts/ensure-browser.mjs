// Finds a Chromium for Playwright: its own download if present, else a system Chromium. Prints
// the path on stdout. It changes nothing on the machine unless asked: with INSTALL_BROWSER=1 in
// the environment (`INSTALL_BROWSER=1 npm test`) or `--install-browser` on its command line, and
// only as root on Debian/Ubuntu, it installs Debian's `chromium-headless-shell` package with
// apt-get, saying so first. Without the opt-in it prints what to do and fails.
// The headless shell (Chromium's "old headless" build, the one Playwright itself runs headless
// tests in) is preferred to a full Chromium: the browser tests are CPU-bound on two cores, and it
// uses about a third less CPU for the same pages.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const CANDIDATES = [
  process.env.CHROMIUM_PATH,
  "/usr/lib/chromium/chromium-headless-shell",
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

const installAllowed = process.env.INSTALL_BROWSER === "1" || process.argv.includes("--install-browser");

function installDebianChromium() {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (!isRoot || !hasApt) {
    log(
      `INSTALL_BROWSER=1 was given, but installing needs ${isRoot ? "apt-get (Debian/Ubuntu)" : "root"}; nothing installed.`,
    );
    return false;
  }
  log("no Chromium headless shell found; INSTALL_BROWSER=1, so installing Debian's package:");
  log("  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell");
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium-headless-shell"], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    return true;
  } catch (error) {
    log(`apt-get failed: ${error.message}`);
    return false;
  }
}

const HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell";
let path = (await playwrightsOwn()) ?? systemChromium();
// With the opt-in, a full Chromium is not enough: the headless shell is worth the install.
if (
  (!path || (path !== HEADLESS_SHELL && !existsSync(HEADLESS_SHELL) && !process.env.CHROMIUM_PATH)) &&
  installAllowed
) {
  if (installDebianChromium()) path = systemChromium();
}
if (!path) {
  log("No Chromium browser is available for the end-to-end tests, and none was installed.");
  log("Fix it with one of:");
  log("  npx playwright install chromium        (where Playwright can download browsers)");
  log("  sudo apt-get install -y chromium-headless-shell   (Debian/Ubuntu; or chromium)");
  log("  INSTALL_BROWSER=1 npm test             (as root on Debian/Ubuntu: the tests run apt-get for you)");
  log("  CHROMIUM_PATH=/path/to/chrome npm test (any Chromium or Chrome you already have)");
  log("Or run only the unit and HTTP tests: npm run test:unit");
  process.exit(1);
}
process.stdout.write(path);
