/**
 * Every action says what it did, once: shown on the page after the action, gone on reload.
 * Flush, expiry (a number, 0, a negative number), counter reset, cart, log out from the
 * navigation, and (server-side engines) a browser signed out from another one.
 */
import { expect, type Page } from "@playwright/test";
import { isServerSide, newUser, panelKey, requireSessionCookie, sessionCookie, submitLogin, test } from "./support.js";

const PASSWORD = "correct horse battery";

/** The notice is on the page now, and gone after a reload. */
async function shownOnce(page: Page, text: string | RegExp): Promise<void> {
  await expect(page.locator("#notice")).toHaveText(text);
  await expect(page.locator("#notice")).toHaveAttribute("role", "status");
  await page.reload();
  await expect(page.locator("#notice"), "the notice shows once").toHaveCount(0);
}

test("flush says what it removed, once, and leaves no session behind", async ({ page, context }) => {
  await page.goto("/session/set/?key=colour&value=blue");
  // The key from the cookie: the page that stores the first value is rendered before the key is made.
  const key = (await requireSessionCookie(context)).value;
  await page.locator("#flush-button").click();
  await expect(page).toHaveURL("/session/set/");
  await shownOnce(
    page,
    isServerSide()
      ? `Session flushed: its data was removed (1 key of yours), the stored record of ${key.slice(0, 8)}… was deleted and the browser was told to delete the sessionid cookie. The next value you store gets a new key.`
      : /^Session flushed: its data was removed \(1 key of yours\), the browser was told to delete the sessionid cookie, which held all of it/,
  );
  expect(await sessionCookie(context)).toBeUndefined();
  expect(await panelKey(page)).toBe("");
});

test("expiry: the value applied, 0 explained, a negative number ends the session and says so", async ({
  page,
  context,
}) => {
  await page.goto("/session/set/?key=colour&value=blue");
  await page.goto("/expiry/");
  await page.locator("#seconds").fill("300");
  await page.locator("#expiry-button").click();
  await shownOnce(page, /^setExpiry\(300\): the session now ends 300 s after its last save/);

  await page.locator("#seconds").fill("0");
  await page.locator("#expiry-button").click();
  await expect(page.locator("#notice")).toContainText("getExpiryAge() still says 1209600 s");
  await expect(page.locator("#expiry-age")).toHaveText("1209600 seconds");
  await expect(page.locator("#expire-at-browser-close")).toHaveText("true");
  await shownOnce(page, /exactly as Django's get_expiry_age\(\) does/);

  await page.locator("#seconds").fill("-1");
  await page.locator("#expiry-button").click();
  await expect(page.locator("#notice")).toContainText(
    "a negative number puts the expiry in the past, so the session ended now",
  );
  expect(await sessionCookie(context), "the browser dropped the cookie").toBeUndefined();
  await expect(page.locator("#session-data")).toHaveText("{}");
  await page.reload();
  await expect(page.locator("#notice")).toHaveCount(0);
});

test("counter reset and cart actions", async ({ page }) => {
  await page.goto("/counter/");
  await page.reload();
  await page.locator("#reset-button").click();
  await expect(page.locator("#visits")).toHaveText("1");
  await shownOnce(
    page,
    "Counter reset: “visits” (2) was removed from your session with pop, so this visit counts as 1 again.",
  );

  await page.goto("/cart/");
  await page.locator("#item").fill("apple");
  await page.locator("#add-button").click();
  await shownOnce(
    page,
    "Added “apple”: a new list was assigned to “cart”, so the session is marked modified and saved.",
  );
  await page.locator(".remove-button").first().click();
  await shownOnce(page, "Removed “apple” from your cart.");
});

test("log out from the navigation, with a word of what it did", async ({ page, context }, testInfo) => {
  const username = await newUser(testInfo, PASSWORD);
  await page.goto("/login/");
  await submitLogin(page, username, PASSWORD);
  await expect(page.locator("#notice")).toContainText(`Logged in as ${username}.`);
  await page.goto("/counter/");
  await page.locator("#nav-logout").click();
  await expect(page).toHaveURL("/");
  await shownOnce(page, /^You are logged out: logout\(\) flushed the session/);
  await expect(page.locator("#nav-login")).toBeVisible();
  await expect(page.locator("#nav-logout")).toHaveCount(0);
  expect(await sessionCookie(context)).toBeUndefined();
});

test("signed out by another browser: the login page says why, once", async ({ page, other }, testInfo) => {
  test.skip(!isServerSide(), "signed_cookies cannot end another browser's session (the account page says so)");
  const username = await newUser(testInfo, PASSWORD);
  for (const p of [page, other.page]) {
    await p.goto("/login/");
    await submitLogin(p, username, PASSWORD);
    await expect(p).toHaveURL("/account/");
  }
  await page.goto("/account/");
  await page.locator("#end-others-button").click();
  await expect(page.locator("#account-notice")).toHaveText("Signed out 1 other session.");

  await other.page.goto("/cart/");
  await expect(other.page).toHaveURL("/login/?next=%2Fcart%2F");
  await shownOnce(
    other.page,
    "You were signed out: “Sign out everywhere else” was used in another browser logged in to your account, and it ended this session. Log in again to continue.",
  );
});
