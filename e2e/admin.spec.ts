/**
 * The staff-only admin page for sessions in a real browser: a staff user sees a visitor's session
 * (made in a second browser), opens it decoded, ends it, and the visitor starts afresh; a user who
 * is not staff gets the 403 page; an anonymous visitor is sent to log in. Screenshots of the list
 * and detail pages go to e2e/.output/ (not committed).
 */
import path from "node:path";
import { expect } from "@playwright/test";
import {
  OUTPUT_DIR,
  engineOf,
  newUser,
  requireSessionCookie,
  sessionCookie,
  storedData,
  submitLogin,
  test,
} from "./support.js";

const PASSWORD = "correct horse battery";
const LIST = "/admin/sessions/";
const LOGIN_FOR_ADMIN = "/login/?next=%2Fadmin%2Fsessions%2F";

test.skip(
  () => engineOf() !== "db",
  "the admin page is browser-tested on db; db, cached_db, file and signed_cookies are covered over HTTP by test/routes/admin.test.ts",
);

test.describe("the admin page for sessions", () => {
  test("staff see a visitor's session, open it decoded, and end it; the visitor starts afresh", async ({
    page,
    context,
    other,
  }, testInfo) => {
    const admin = await newUser(testInfo, PASSWORD, { staff: true });
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
    await submitLogin(page, admin, PASSWORD);
    await expect(page).toHaveURL(LIST);
    await expect(page.locator("h1")).toHaveText("Stored sessions");
    await expect(page.locator("#nav-admin")).toHaveAttribute("href", LIST);
    await expect(page.locator("#admin-count")).toHaveText(/^Showing 1–\d+ of [\d,]+ sessions?\.$/);

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
    await expect(page.locator("#admin-notice")).toHaveText(
      `Ended session ${prefix}…: its visitor starts afresh at their next request.`,
    );
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
    const username = await newUser(testInfo, PASSWORD);
    await page.goto("/login/");
    await submitLogin(page, username, PASSWORD);
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
