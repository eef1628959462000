import { expect, type Page } from "@playwright/test";
import {
  TWO_WEEKS,
  keptKey,
  requireSessionCookie,
  secondsUntil,
  sessionCookie,
  storedData,
  storedExpirySeconds,
  test,
} from "./support.js";

async function setExpiry(page: Page, seconds: string): Promise<void> {
  await page.locator("#seconds").fill(seconds);
  await page.locator("#expiry-button").click();
  await expect(page).toHaveURL("/expiry/");
}

test.describe("session expiry", () => {
  test("shows the default policy before anything is set", async ({ page, context }) => {
    await page.goto("/expiry/");
    await expect(page.locator("#expiry-age")).toHaveText(`${TWO_WEEKS} seconds`);
    await expect(page.locator("#expire-at-browser-close")).toHaveText("false");
    await expect(page.locator("#session-browser-close")).toHaveText("no");
    expect(await sessionCookie(context)).toBeUndefined();
  });

  test("0 makes the cookie end with the browser", async ({ page, context }) => {
    await page.goto("/expiry/");
    await setExpiry(page, "0");

    await expect(page.locator("#expire-at-browser-close")).toHaveText("true");
    await expect(page.locator("#session-browser-close")).toHaveText("yes");
    const cookie = await requireSessionCookie(context);
    expect(cookie.expires, "a session cookie has no expiry").toBe(-1);
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    expect(await storedData(cookie.value)).toEqual({ _session_expiry: 0 });

    // Still a browser-session cookie when the session is saved again.
    await page.goto("/counter/");
    await expect(page.locator("#visits")).toHaveText("1");
    await expect(page.locator("#session-browser-close")).toHaveText("yes");
    const key = await keptKey(context, cookie.value);
    expect((await requireSessionCookie(context)).expires).toBe(-1);
    expect(await storedData(key)).toEqual({ _session_expiry: 0, visits: 1 });
  });

  test("a number of seconds sets the cookie's expiry; empty goes back to the default", async ({ page, context }) => {
    // A value of its own, so the session stays non-empty when the expiry is removed again.
    await page.goto("/session/set/?key=note&value=hello");
    await page.goto("/expiry/");
    const key = (await requireSessionCookie(context)).value;

    await setExpiry(page, "600");
    await expect(page.locator("#expiry-age")).toHaveText("600 seconds");
    await expect(page.locator("#session-expiry-age")).toHaveText("600");
    await expect(page.locator("#expire-at-browser-close")).toHaveText("false");
    await expect(page.locator("#session-browser-close")).toHaveText("no");
    let current = await keptKey(context, key);
    let cookie = await requireSessionCookie(context);
    expect(secondsUntil(cookie)).toBeGreaterThan(600 - 60);
    expect(secondsUntil(cookie)).toBeLessThan(600 + 60);
    expect(await storedData(current)).toEqual({ note: "hello", _session_expiry: 600 });
    // Where the store keeps its own expiry (a row's expire_date, a Redis TTL), it follows too.
    const storedAge = await storedExpirySeconds(current);
    if (storedAge !== undefined) {
      expect(storedAge).toBeGreaterThan(600 - 60);
      expect(storedAge).toBeLessThan(600 + 60);
    }

    await setExpiry(page, "");
    await expect(page.locator("#expiry-age")).toHaveText(`${TWO_WEEKS} seconds`);
    await expect(page.locator("#session-expiry-age")).toHaveText(String(TWO_WEEKS));
    await expect(page.locator("#expire-at-browser-close")).toHaveText("false");
    current = await keptKey(context, current);
    cookie = await requireSessionCookie(context);
    expect(secondsUntil(cookie)).toBeGreaterThan(TWO_WEEKS - 120);
    expect(secondsUntil(cookie)).toBeLessThan(TWO_WEEKS + 120);
    expect(await storedData(current)).toEqual({ note: "hello" });
  });

  test("from browser-close back to a fixed age", async ({ page, context }) => {
    await page.goto("/expiry/");
    await setExpiry(page, "0");
    expect((await requireSessionCookie(context)).expires).toBe(-1);

    await setExpiry(page, "600");
    await expect(page.locator("#expiry-age")).toHaveText("600 seconds");
    await expect(page.locator("#session-browser-close")).toHaveText("no");
    const cookie = await requireSessionCookie(context);
    expect(secondsUntil(cookie)).toBeGreaterThan(600 - 60);
    expect(secondsUntil(cookie)).toBeLessThan(600 + 60);
  });
});
