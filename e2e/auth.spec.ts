/**
 * Logging in and out in a real browser: the login form, the account page, a password change and
 * "sign out everywhere else", with users made by the createuser CLI. Run on db, cached_db and
 * signed_cookies; cache and file are covered over HTTP by test/routes/auth.test.ts.
 */
import path from "node:path";
import { expect, type Page } from "@playwright/test";
import {
  OUTPUT_DIR,
  newUser,
  submitLogin,
  test,
  engineOf,
  isServerSide,
  panelKey,
  requireSessionCookie,
  sessionCookie,
  sessionKeyPattern,
  storedData,
  type Engine,
} from "./support.js";

/** Django's AuthenticationForm message for a failed login. */
const LOGIN_FAILED = "Please enter a correct username and password. Note that both fields may be case-sensitive.";
/** Where /account/ sends an anonymous visitor. */
const LOGIN_FOR_ACCOUNT = "/login/?next=%2Faccount%2F";
const PASSWORD = "correct horse battery";
const NEW_PASSWORD = "tr0ub4dor & 3";

const BROWSER_TESTED: ReadonlySet<Engine> = new Set(["db", "cached_db", "signed_cookies"]);
test.skip(
  () => !BROWSER_TESTED.has(engineOf()),
  "login in the browser runs on db, cached_db and signed_cookies; cache and file are covered by the HTTP tests in test/routes/auth.test.ts",
);

/** Logs in through /login/ (with `next` when given) and checks where it lands and the nav. */
async function logIn(page: Page, username: string, password = PASSWORD, next?: string): Promise<void> {
  await page.goto(next === undefined ? "/login/" : `/login/?next=${encodeURIComponent(next)}`);
  await submitLogin(page, username, password);
  await expect(page).toHaveURL(next ?? "/account/");
  await expect(page.locator("#nav-user")).toHaveText(`Account: ${username}`);
  await expect(page.locator("#nav-login")).toHaveCount(0);
}

/** The page is the login page for /account/, and the visitor is anonymous. */
async function expectLoginForAccount(page: Page): Promise<void> {
  await expect(page).toHaveURL(LOGIN_FOR_ACCOUNT);
  await expect(page.locator("h1")).toHaveText("Log in");
  await expect(page.locator("#nav-login")).toBeVisible();
  await expect(page.locator("#nav-user")).toHaveCount(0);
}

test.describe("login and the account page", () => {
  test("logging in keeps the cart and changes the session key", async ({ page, context }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await page.goto("/cart/");
    await page.locator("#item").fill("apple");
    await page.locator("#add-button").click();
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple"]);
    await expect(page.locator("#nav-login")).toBeVisible();
    const anonymous = (await requireSessionCookie(context)).value;
    expect(await storedData(anonymous)).toEqual({ cart: ["apple"] });

    await logIn(page, username, PASSWORD, "/cart/");
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple"]);

    const loggedIn = (await requireSessionCookie(context)).value;
    expect(loggedIn, "login gives the session a new key").not.toBe(anonymous);
    expect(loggedIn).toMatch(sessionKeyPattern());
    // The same data under the new key, now with the user in it.
    expect(await storedData(loggedIn)).toEqual({
      cart: ["apple"],
      _auth_user_id: expect.stringMatching(/^\d+$/),
      _auth_user_backend: "django.contrib.auth.backends.ModelBackend",
      _auth_user_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    if (isServerSide()) {
      expect(await panelKey(page), "the panel shows the new key").toBe(loggedIn);
      expect(await storedData(anonymous), "the anonymous key's record is gone from the store").toBeUndefined();
    }

    // Still there on the next page load.
    await page.reload();
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple"]);
    await expect(page.locator("#nav-user")).toHaveText(`Account: ${username}`);
  });

  test("logout forgets the user and deletes the session cookie", async ({ page, context }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await logIn(page, username);
    await expect(page.locator("#account-username")).toHaveText(username);
    const key = (await requireSessionCookie(context)).value;

    await page.locator("#logout-button").click();
    await expect(page).toHaveURL("/");
    await expect(page.locator("#nav-login")).toBeVisible();
    await expect(page.locator("#nav-user")).toHaveCount(0);
    await expect.poll(() => sessionCookie(context), { message: "the session cookie is deleted" }).toBeUndefined();
    if (isServerSide()) expect(await storedData(key), "the record is deleted from the store").toBeUndefined();

    await page.goto("/account/");
    await expectLoginForAccount(page);
  });

  test("/account/ sends a logged-out visitor to the login page, which brings them back", async ({ page }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await page.goto("/account/");
    await expectLoginForAccount(page);
    await expect(page.locator('input[name="next"]')).toHaveValue("/account/");

    await submitLogin(page, username, PASSWORD);
    await expect(page).toHaveURL("/account/");
    await expect(page.locator("h1")).toHaveText("Your account");
    await expect(page.locator("#account-username")).toHaveText(username);
    await expect(page.locator("#nav-user")).toHaveText(`Account: ${username}`);
  });

  test("changing the password keeps this browser logged in and logs the other one out", async ({
    page,
    context,
    other,
  }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await logIn(page, username);
    await logIn(other.page, username);
    const before = (await requireSessionCookie(context)).value;
    const otherKey = (await requireSessionCookie(other.context)).value;

    await page.goto("/account/");
    await page.locator("#old-password").fill(PASSWORD);
    await page.locator("#new-password1").fill(NEW_PASSWORD);
    await page.locator("#new-password2").fill(NEW_PASSWORD);
    await page.locator("#change-password-button").click();

    await expect(page).toHaveURL("/account/");
    await expect(page.locator("#password-errors")).toHaveCount(0);
    await expect(page.locator("#account-notice")).toHaveText(
      isServerSide()
        ? "Password changed. Signed out 1 other session."
        : "Password changed. Other browsers are logged out at their next request.",
    );
    await expect(page.locator("#account-username")).toHaveText(username);
    await expect(page.locator("#nav-user")).toHaveText(`Account: ${username}`);
    const after = (await requireSessionCookie(context)).value;
    expect(after, "this browser's session has a new key").not.toBe(before);
    expect(after).toMatch(sessionKeyPattern());
    if (isServerSide()) {
      expect(await panelKey(page)).toBe(after);
      expect(await storedData(before), "the old key's record is gone").toBeUndefined();
      expect(await storedData(otherKey), "the other browser's record is deleted").toBeUndefined();
      await expect(page.locator("#user-sessions tr.user-session")).toHaveCount(1);
      await expect(page.locator("#user-sessions tr.user-session.current")).toHaveAttribute(
        "data-key-prefix",
        after.slice(0, 8),
      );
    }

    // The other browser still sends its old cookie (on signed_cookies a validly signed one): the
    // server no longer accepts it as logged in.
    expect((await requireSessionCookie(other.context)).value).toBe(otherKey);
    await other.page.goto("/account/");
    await expectLoginForAccount(other.page);

    // The old password is refused there, the new one works.
    await submitLogin(other.page, username, PASSWORD);
    await expect(other.page.locator("#login-error")).toHaveText(LOGIN_FAILED);
    await submitLogin(other.page, username, NEW_PASSWORD);
    await expect(other.page).toHaveURL("/account/");
    await expect(other.page.locator("#account-username")).toHaveText(username);

    // And this browser is still logged in on its next page load.
    await page.reload();
    await expect(page.locator("#account-username")).toHaveText(username);
    await expect(page.locator("#account-notice"), "the notice shows once").toHaveCount(0);
  });

  test("sign out everywhere else", async ({ page, context, other }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await logIn(page, username);

    if (!isServerSide()) {
      // Nothing on the server to list or end: the page says so and offers no button.
      await expect(page.locator("#sessions-unlisted")).toContainText("signed_cookies");
      await expect(page.locator("#sessions-unlisted")).toContainText("cannot list your sessions or end one");
      await expect(page.locator("#sessions-unlisted")).toContainText("A copied cookie stays valid until it expires.");
      await expect(page.locator("#user-sessions")).toHaveCount(0);
      await expect(page.locator("#end-others-button")).toHaveCount(0);
      return;
    }

    await logIn(other.page, username);
    const mine = (await requireSessionCookie(context)).value;
    const theirs = (await requireSessionCookie(other.context)).value;
    await page.reload();
    const rows = page.locator("#user-sessions tr.user-session");
    await expect(rows).toHaveCount(2);
    await expect(rows.and(page.locator(".current"))).toHaveCount(1);
    await expect(page.locator("tr.user-session.current")).toHaveAttribute("data-key-prefix", mine.slice(0, 8));
    await expect(page.locator("tr.user-session:not(.current)")).toHaveAttribute("data-key-prefix", theirs.slice(0, 8));
    await expect(page.locator("tr.user-session.current")).toContainText("this browser");
    await expect(page.locator("#end-others-button")).toBeEnabled();
    if (engineOf() === "db") {
      await page.screenshot({ path: path.join(OUTPUT_DIR, "account.png"), fullPage: true });
    }

    await page.locator("#end-others-button").click();
    await expect(page).toHaveURL("/account/");
    await expect(page.locator("#account-notice")).toHaveText("Signed out 1 other session.");
    await expect(rows).toHaveCount(1);
    await expect(page.locator("tr.user-session.current")).toHaveAttribute("data-key-prefix", mine.slice(0, 8));
    await expect(page.locator("#end-others-button"), "nothing else to sign out").toBeDisabled();
    expect((await requireSessionCookie(context)).value, "this browser keeps its session").toBe(mine);
    expect(await storedData(theirs), "the other session's record is deleted").toBeUndefined();

    await other.page.reload();
    await expectLoginForAccount(other.page);

    await page.reload();
    await expect(page.locator("#account-username")).toHaveText(username);
    await expect(rows).toHaveCount(1);
  });

  test("a wrong password shows an error and keeps the visitor anonymous", async ({ page, context }, testInfo) => {
    const username = await newUser(testInfo, PASSWORD);
    await page.goto("/login/");
    await submitLogin(page, username, "not the password");

    await expect(page.locator("#login-error")).toHaveText(LOGIN_FAILED);
    await expect(page).toHaveURL("/login/");
    await expect(page.locator("#username"), "the name is kept").toHaveValue(username);
    await expect(page.locator("#password"), "the password is not sent back").toHaveValue("");
    await expect(page.locator("#nav-login")).toBeVisible();
    await expect(page.locator("#nav-user")).toHaveCount(0);
    const cookie = await sessionCookie(context);
    if (cookie) expect(await storedData(cookie.value)).not.toHaveProperty("_auth_user_id");

    await page.goto("/account/");
    await expectLoginForAccount(page);
  });
});
