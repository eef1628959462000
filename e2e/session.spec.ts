import { expect } from "@playwright/test";
import {
  SESSION_COOKIE,
  SESSION_KEY_PATTERN,
  isServerSide,
  keptKey,
  panelData,
  panelKey,
  requireSessionCookie,
  sessionCookie,
  sessionJson,
  sessionKeyPattern,
  storedData,
  test,
} from "./support.js";

test.describe("set, get, delete and flush", () => {
  test("set through the form, then get it back", async ({ page, context }) => {
    await page.goto("/session/set/");
    await page.locator("#key").fill("color");
    await page.locator("#value").fill("blue");
    await page.locator("#set-button").click();

    await expect(page).toHaveURL("/session/set/?key=color&value=blue");
    await expect(page.locator("#result")).toHaveText("Stored color = blue.");
    await expect(page.locator("#session-data")).toContainText('"color": "blue"');
    const cookie = await requireSessionCookie(context);
    expect(cookie.value).toMatch(sessionKeyPattern());

    await page.goto("/session/get/?key=color");
    await expect(page.locator("#value")).toHaveText('"blue"');
    await expect(page.locator("#not-set")).toHaveCount(0);
    // Reading changes nothing, so the panel shows the cookie's value as the key on every engine.
    expect(await panelKey(page)).toBe(cookie.value);
    expect(await panelData(page)).toEqual({ color: "blue" });
    expect(await storedData(cookie.value)).toEqual({ color: "blue" });
  });

  test("set through the URL, then look it up with the get form", async ({ page, context }) => {
    await page.goto("/session/set/?key=fruit&value=kiwi");
    await expect(page.locator("#stored-key")).toHaveText("fruit");
    await expect(page.locator("#stored-value")).toHaveText("kiwi");
    const key = (await requireSessionCookie(context)).value;

    await page.goto("/session/get/");
    await page.locator("#key").fill("fruit");
    await page.locator("#get-button").click();
    await expect(page).toHaveURL("/session/get/?key=fruit");
    await expect(page.locator("#value")).toHaveText('"kiwi"');

    expect(await sessionJson(page)).toEqual({ session_key: key, session: { fruit: "kiwi" } });
  });

  test("getting a missing key says it is not set", async ({ page, context }) => {
    await page.goto("/session/get/?key=nothing-here");
    await expect(page.locator("#not-set")).toBeVisible();
    await expect(page.locator("#not-set")).toContainText("nothing-here is not set in your session.");
    await expect(page.locator("#value")).toHaveCount(0);
    await expect(page.locator("#delete-button")).toHaveCount(0);
    // Reading stores nothing.
    expect(await sessionCookie(context)).toBeUndefined();
  });

  test("the delete button removes the value", async ({ page, context }) => {
    await page.goto("/session/set/?key=keep&value=1");
    await page.goto("/session/set/?key=drop&value=2");
    const key = (await requireSessionCookie(context)).value;

    await page.goto("/session/get/?key=drop");
    await expect(page.locator("#value")).toHaveText('"2"');
    await expect(page.locator("#delete-button")).toHaveText("Delete drop");
    await page.locator("#delete-button").click();

    await expect(page).toHaveURL("/session/get/?key=drop");
    await expect(page.locator("#not-set")).toContainText("drop is not set in your session.");
    expect(await panelData(page)).toEqual({ keep: "1" });
    const after = await keptKey(context, key);
    expect(await storedData(after)).toEqual({ keep: "1" });
    expect(await sessionJson(page)).toEqual({ session_key: after, session: { keep: "1" } });
  });

  test("flush removes the cookie and the stored session; the next write gets a new key", async ({ page, context }) => {
    await page.goto("/session/set/?key=secret&value=42");
    await page.goto("/counter/");
    // A page that only reads, so the panel's key is the cookie's value on every engine (a page
    // that writes renders with the key the browser sent, which signed_cookies then re-signs).
    await page.goto("/session/get/?key=secret");
    const oldKey = (await requireSessionCookie(context)).value;
    expect(await panelKey(page)).toBe(oldKey);
    expect(await storedData(oldKey)).toEqual({ secret: "42", visits: 1 });

    await page.locator("#flush-button").click();
    await expect(page).toHaveURL("/session/set/");
    await expect(page.locator("#session-data")).toHaveText("{}");
    await expect(page.locator("#session-key")).toHaveText("none");
    expect(await panelKey(page)).toBe("");
    // Every engine removes the cookie on flush, signed_cookies included (docs/django-sessions.md#signed_cookies).
    expect(await sessionCookie(context)).toBeUndefined();
    if (isServerSide()) {
      expect(await storedData(oldKey), "the flushed session is deleted from the store").toBeUndefined();
    }
    expect(await sessionJson(page)).toEqual({ session_key: null, session: {} });

    await page.locator("#key").fill("again");
    await page.locator("#value").fill("yes");
    await page.locator("#set-button").click();
    await expect(page.locator("#result")).toHaveText("Stored again = yes.");
    const newKey = (await requireSessionCookie(context)).value;
    expect(newKey).toMatch(sessionKeyPattern());
    expect(newKey).not.toBe(oldKey);
    expect(await storedData(newKey)).toEqual({ again: "yes" });
    if (isServerSide()) expect(await storedData(oldKey)).toBeUndefined();

    await page.goto("/session/get/?key=secret");
    await expect(page.locator("#not-set")).toBeVisible();
    expect(await panelKey(page)).toBe(newKey);
  });

  test("/session/json/ returns the current key and data", async ({ page, context }) => {
    const empty = await page.goto("/session/json/");
    expect(await empty?.json()).toEqual({ session_key: null, session: {} });

    await page.goto("/session/set/?key=a&value=1");
    await page.goto("/counter/");
    const key = (await requireSessionCookie(context)).value;

    const response = await page.goto("/session/json/");
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-type"]).toContain("application/json");
    expect(await response?.json()).toEqual({ session_key: key, session: { a: "1", visits: 1 } });
  });

  test("a cookie from before a flush: gone on server-side engines, still valid on signed_cookies", async ({
    page,
    context,
    baseURL,
  }) => {
    await page.goto("/session/set/?key=token&value=abc");
    const copied = (await requireSessionCookie(context)).value;
    await page.locator("#flush-button").click();
    await expect(page).toHaveURL("/session/set/");
    expect(await sessionCookie(context)).toBeUndefined();

    // Someone kept a copy of the cookie and sends it again.
    await context.addCookies([{ name: SESSION_COOKIE, value: copied, url: baseURL! }]);
    await page.goto("/session/get/?key=token");
    if (isServerSide()) {
      // The stored session was deleted: the key is unknown, the data is gone and the browser is
      // told to drop the cookie.
      await expect(page.locator("#not-set")).toContainText("token is not set in your session.");
      expect(await panelData(page)).toEqual({});
      expect(await sessionCookie(context)).toBeUndefined();
    } else {
      // The documented limitation of signed cookies: nothing server-side to delete, so logout
      // cannot revoke a copied cookie before SESSION_COOKIE_AGE runs out.
      await expect(page.locator("#value")).toHaveText('"abc"');
      expect((await requireSessionCookie(context)).value).toBe(copied);
    }
  });

  test("an unknown session cookie: a delete cookie, or a fresh empty signed cookie on signed_cookies", async ({
    page,
    context,
    baseURL,
  }) => {
    // Well-formed for every engine's key check, but never issued by this server.
    const unknown = "abcdefghijklmnopqrstuvwxyz012345";
    expect(unknown).toMatch(SESSION_KEY_PATTERN);
    await context.addCookies([{ name: SESSION_COOKIE, value: unknown, url: baseURL! }]);

    await page.goto("/session/get/?key=anything");
    await expect(page.locator("#not-set")).toBeVisible();
    expect(await panelData(page)).toEqual({});
    await expect(page.locator("#session-cookie-sent")).toHaveText(`${unknown.slice(0, 8)}…`);
    if (isServerSide()) {
      expect(await sessionCookie(context), "the delete cookie removed it").toBeUndefined();
      expect(await storedData(unknown)).toBeUndefined();
    } else {
      // The bad cookie is replaced by a freshly signed empty dict, payload e30 (docs/django-sessions.md#signed_cookies).
      const cookie = await requireSessionCookie(context);
      expect(cookie.value).toMatch(/^e30:/);
      expect(await storedData(cookie.value)).toEqual({});
    }
  });
});
