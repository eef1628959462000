/**
 * The staff-only admin page for sessions in a real browser: a staff user sees a visitor's session
 * (made in a second browser), opens it decoded, ends it, and the visitor starts afresh; a user who
 * is not staff gets the 403 page; an anonymous visitor is sent to log in. Screenshots of the list
 * and detail pages go to e2e/.output/ (not committed).
 */
import path from "node:path";
import { test as base, expect, type BrowserContext, type Page, type TestInfo } from "@playwright/test";
import { OUTPUT_DIR, createUser, engineOf, projectOf, requireSessionCookie, sessionCookie, storedData } from "./support.js";

const PASSWORD = "correct horse battery";
const LIST = "/admin/sessions/";
const LOGIN_FOR_ADMIN = "/login/?next=%2Fadmin%2Fsessions%2F";

/** A second browser: a context of its own (its own cookies) on the project's server. */
interface OtherBrowser {
  context: BrowserContext;
  page: Page;
}

const test = base.extend<{ other: OtherBrowser }>({
  other: async ({ browser }, use) => {
    const context = await browser.newContext({ baseURL: projectOf().baseURL });
    await use({ context, page: await context.newPage() });
    await context.close();
  },
});

test.skip(
  () => engineOf() !== "db",
  "the admin page is browser-tested on db; db, cached_db, file and signed_cookies are covered over HTTP by test/routes/admin.test.ts",
);

let users = 0;
/** A user of the test's own (unique per run, worker and test), made with the createuser CLI. */
async function newUser(testInfo: TestInfo, { staff = false } = {}): Promise<string> {
  const name = `${staff ? "staff" : "u"}-${testInfo.workerIndex}-${Date.now().toString(36)}-${(users++).toString(36)}`;
  await createUser(name, PASSWORD, { staff });
  return name;
}

/** Fills and sends the login form on the current page (which must be /login/). */
async function submitLogin(page: Page, username: string): Promise<void> {
  await page.locator("#username").fill(username);
  await page.locator("#password").fill(PASSWORD);
  await page.locator("#login-button").click();
}

test.describe("the admin page for sessions", () => {
  test("staff see a visitor's session, open it decoded, and end it; the visitor starts afresh", async ({ page, context, other }, testInfo) => {
    const admin = await newUser(testInfo, { staff: true });
    const item = `admin-apple-${Date.now().toString(36)}`;

    // The visitor: a cart in the second browser.
    await other.page.goto("/cart/");
    await other.page.locator("#item").fill(item);
    await other.page.locator("#add-button").click();
    await expect(other.page.locator("#cart-items .cart-item")).toHaveText([item]);
    const visitorKey = (await requireSessionCookie(other.context)).value;
    const prefix = visitorKey.slice(0, 8);

    // The admin logs in by way of the admin page.
    await page.goto(LIST);
    await expect(page).toHaveURL(LOGIN_FOR_ADMIN);
    await submitLogin(page, admin);
    await expect(page).toHaveURL(LIST);
    await expect(page.locator("h1")).toHaveText("Stored sessions");
    await expect(page.locator("#nav-admin")).toHaveAttribute("href", LIST);
    await expect(page.locator("#admin-count")).toHaveText(/^Showing \d+ of \d+ sessions?\.$/);

    const row = page.locator(`tr.stored-session[data-key-prefix="${prefix}"]`);
    await expect(row).toHaveCount(1);
    await expect(row.locator("td.session-user")).toHaveText("anonymous");
    await expect(row.locator("td.session-size")).toHaveText(/^\d+ B$/);
    await expect(row).not.toHaveClass(/tampered/);
    const ownKey = (await requireSessionCookie(context)).value;
    const own = page.locator(`tr.stored-session.current[data-key-prefix="${ownKey.slice(0, 8)}"]`);
    await expect(own.locator("td.session-user")).toHaveText(admin);
    await expect(own.locator(".badge")).toHaveText("yours");
    expect(await page.locator("#stored-sessions").innerHTML(), "no full key in the table").not.toContain(visitorKey);
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUTPUT_DIR, "admin-sessions.png"), fullPage: true });

    // The detail page: Django's get_decoded().
    await row.getByRole("link").click();
    await expect(page).toHaveURL(`${LIST}${prefix}/`);
    await expect(page.locator("#detail-key-prefix")).toHaveText(`${prefix}…`);
    await expect(page.locator("#detail-user")).toHaveText("anonymous");
    expect(JSON.parse((await page.locator("#detail-data").textContent()) ?? "null")).toEqual({ cart: [item] });
    await expect(page.locator("#detail-tampered")).toHaveCount(0);
    await page.screenshot({ path: path.join(OUTPUT_DIR, "admin-session.png"), fullPage: true });

    // Ending it.
    await page.locator("#end-session-button").click();
    await expect(page).toHaveURL(LIST);
    await expect(page.locator("#admin-notice")).toHaveText(`Ended session ${prefix}…: its visitor starts afresh at their next request.`);
    await expect(page.locator(`tr.stored-session[data-key-prefix="${prefix}"]`)).toHaveCount(0);
    expect(await storedData(visitorKey), "the record is gone from the store").toBeUndefined();
    await page.reload();
    await expect(page.locator("#admin-notice"), "the notice shows once").toHaveCount(0);

    // The visitor's next page: an empty cart, and the old key is dropped.
    await other.page.goto("/cart/");
    await expect(other.page.locator("#cart-empty")).toHaveText("Your cart is empty.");
    expect((await sessionCookie(other.context))?.value, "the ended key is not used again").not.toBe(visitorKey);
  });

  test("a logged-in user who is not staff gets the 403 page and no Admin link", async ({ page }, testInfo) => {
    const username = await newUser(testInfo);
    await page.goto("/login/");
    await submitLogin(page, username);
    await expect(page).toHaveURL("/account/");
    await expect(page.locator("#nav-admin")).toHaveCount(0);
    const response = await page.goto(LIST);
    expect(response?.status()).toBe(403);
    await expect(page.locator("#error-heading")).toHaveText("Forbidden (403)");
    await expect(page.locator("#error-message")).toHaveText("This page is for staff only.");
    await expect(page.locator("#stored-sessions")).toHaveCount(0);
  });

  test("an anonymous visitor is sent to the login page", async ({ page }) => {
    await page.goto(LIST);
    await expect(page).toHaveURL(LOGIN_FOR_ADMIN);
    await expect(page.locator("h1")).toHaveText("Log in");
    await expect(page.locator("#nav-admin")).toHaveCount(0);
    await expect(page.locator("#stored-sessions")).toHaveCount(0);
  });
});
