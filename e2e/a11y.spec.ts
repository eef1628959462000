/// <reference lib="dom" />
/**
 * Every page works on a phone and with a keyboard: no serious or critical accessibility
 * violations (axe-core) at desktop and phone width, no sideways scrolling at 390 px, the header
 * across the page, the session panel one link away, the skip link first, the current page marked.
 * Run on db and signed_cookies (the two kinds of account and admin pages).
 */
import { expect, type Page, type TestInfo } from "@playwright/test";
import { injectAxe, overflow, violations, WIDTHS } from "./axe.js";
import { engineOf, isServerSide, newUser, requireSessionCookie, submitLogin, test } from "./support.js";

test.skip(
  () => !["db", "signed_cookies"].includes(engineOf()),
  "axe runs where the account and admin pages differ (db, signed_cookies); the stored-record panel, the one part that differs on every engine, is checked for phone width on each in e2e/teach.spec.ts",
);

const PASSWORD = "correct horse battery";

/**
 * Serious or critical axe violations and phone-width layout problems on each of `urls`, logged in
 * as `page` is. Each page is loaded once and scanned at both widths: the pages have no scripts, so
 * a resized page is laid out as one loaded at that width.
 */
async function scan(page: Page, urls: string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const url of urls) {
    await page.setViewportSize({ width: WIDTHS[0].width, height: WIDTHS[0].height });
    await page.goto(url);
    await injectAxe(page);
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const v of await violations(page)) problems.push(`${size.name} ${url}: ${v}`);
      if (size.name === "phone") {
        const extra = await overflow(page);
        if (extra > 0) problems.push(`phone ${url}: ${extra} px wider than the screen`);
        const header = await page.locator("header.site").boundingBox();
        if (!header || Math.round(header.width) !== size.width)
          problems.push(`phone ${url}: the header is ${header?.width} px wide`);
      }
    }
  }
  return problems;
}

/** A staff user logged in in `page` (every page is scanned with the logged-in navigation). */
async function loggedInStaff(page: Page, testInfo: TestInfo): Promise<string> {
  const staff = await newUser(testInfo, PASSWORD, { staff: true });
  await page.goto("/login/");
  await submitLogin(page, staff, PASSWORD);
  await expect(page).toHaveURL("/account/");
  return staff;
}

// Every page in three tests (so the two workers share them), each logged in as staff.
test.describe("every page: no serious or critical axe violations, and no sideways scrolling at 390 px", () => {
  test("the demo pages", async ({ page }, testInfo) => {
    await loggedInStaff(page, testInfo);
    const problems = await scan(page, [
      "/",
      "/session/set/?key=colour&value=blue",
      "/session/get/?key=colour",
      "/session/",
      "/counter/",
    ]);
    expect(problems).toEqual([]);
  });

  test("the cart with an item, expiry, settings, error pages, and the login page logged out", async ({
    page,
    other,
  }, testInfo) => {
    await loggedInStaff(page, testInfo);
    await page.goto("/cart/");
    await page.locator("#item").fill("a rather long item name to see how the cart wraps");
    await page.locator("#add-button").click();
    const problems = await scan(page, [
      "/cart/",
      "/expiry/",
      "/settings/",
      "/no-such-page/",
      "/session/set/?key=_reserved",
    ]);

    // The login page and the logged-out navigation, in a browser that is not logged in.
    await other.page.goto("/login/");
    await injectAxe(other.page);
    for (const size of WIDTHS) {
      await other.page.setViewportSize({ width: size.width, height: size.height });
      for (const v of await violations(other.page)) problems.push(`${size.name} /login/ (logged out): ${v}`);
      if (size.name === "phone" && (await overflow(other.page)) > 0)
        problems.push("phone /login/: wider than the screen");
    }
    expect(problems).toEqual([]);
  });

  test("the account and admin pages, listing two sessions", async ({ page, other }, testInfo) => {
    const staff = await loggedInStaff(page, testInfo);
    // A second browser logged in too, so the account and admin pages list more than one session.
    await other.page.goto("/login/");
    await submitLogin(other.page, staff, PASSWORD);
    await expect(other.page).toHaveURL("/account/");
    const prefix = isServerSide() ? (await requireSessionCookie(other.context)).value.slice(0, 8) : null;
    const problems = await scan(page, [
      "/account/",
      "/admin/sessions/",
      ...(prefix ? [`/admin/sessions/${prefix}/`] : []),
    ]);
    expect(problems).toEqual([]);
  });
});

test("the keyboard: the skip link is the first stop and moves focus to main; focus is visible", async ({ page }) => {
  for (const url of ["/", "/cart/", "/settings/"]) {
    await page.goto(url);
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to main content" });
    await expect(skip).toBeFocused();
    await expect(skip).toBeInViewport();
    // A visible focus ring, not the browser's default only.
    expect(await skip.evaluate((el) => getComputedStyle(el).outlineStyle)).not.toBe("none");
    await page.keyboard.press("Enter");
    await expect(page.locator("main#main")).toBeFocused();
    // The next Tab goes on from the page's content, not back to the navigation.
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.closest("main") !== null)).toBe(true);
    expect(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle)).not.toBe("none");
  }
});

test("the navigation marks the current page, and admin detail pages under Admin", async ({ page }, testInfo) => {
  const staff = await newUser(testInfo, PASSWORD, { staff: true });
  await page.goto("/login/");
  await submitLogin(page, staff, PASSWORD);
  const nav = page.locator("header.site nav");
  for (const [url, name] of [
    ["/counter/", "Counter"],
    ["/session/", "JSON"],
    ["/account/", `Account: ${staff}`],
    ["/admin/sessions/", "Admin"],
  ] as const) {
    await page.goto(url);
    await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
    await expect(nav.getByRole("link", { name, exact: true })).toHaveAttribute("aria-current", "page");
  }
  await page.goto("/");
  await expect(nav.locator('[aria-current="page"]')).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Sessions demo" })).toHaveAttribute("aria-current", "page");
});

test("on a phone the session panel is one link away", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/account/"); // the login page, a long one on a phone with the panel below
  await page.goto("/settings/");
  const panel = page.locator("#session-panel");
  await expect(panel).not.toBeInViewport();
  const jump = page.locator("#jump-to-panels");
  await expect(jump).toBeInViewport();
  await jump.click();
  await expect(panel).toBeInViewport();
  // On a wide screen the panel is beside the page and the link is not needed.
  await page.setViewportSize({ width: 1280, height: 800 });
  await expect(jump).toBeHidden();
  // From the top of the page (the jump above scrolled down a long phone layout).
  await page.evaluate(() => window.scrollTo(0, 0));
  await expect(panel).toBeInViewport();
});

test("/favicon.ico is served", async ({ request }) => {
  const response = await request.get("/favicon.ico");
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toContain("image/svg+xml");
  expect((await response.text()).startsWith("<svg")).toBe(true);
});
