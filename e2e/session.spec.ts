import { expect, test } from "@playwright/test";
import {
  SESSION_KEY_PATTERN,
  decodeSessionData,
  panelData,
  panelKey,
  requireSessionCookie,
  sessionCookie,
  sessionJson,
  sessionRow,
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
    expect(cookie.value).toMatch(SESSION_KEY_PATTERN);

    await page.goto("/session/get/?key=color");
    await expect(page.locator("#value")).toHaveText('"blue"');
    await expect(page.locator("#not-set")).toHaveCount(0);
    expect(await panelKey(page)).toBe(cookie.value);
    expect(await panelData(page)).toEqual({ color: "blue" });
    expect(decodeSessionData(sessionRow(cookie.value)!.session_data)).toEqual({ color: "blue" });
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
    expect((await requireSessionCookie(context)).value).toBe(key);
    expect(decodeSessionData(sessionRow(key)!.session_data)).toEqual({ keep: "1" });
    expect(await sessionJson(page)).toEqual({ session_key: key, session: { keep: "1" } });
  });

  test("flush removes the cookie and the row; the next write gets a new key", async ({ page, context }) => {
    await page.goto("/session/set/?key=secret&value=42");
    await page.goto("/counter/");
    const oldKey = (await requireSessionCookie(context)).value;
    expect(await panelKey(page)).toBe(oldKey);
    expect(sessionRow(oldKey)).toBeDefined();

    await page.locator("#flush-button").click();
    await expect(page).toHaveURL("/session/set/");
    await expect(page.locator("#session-data")).toHaveText("{}");
    await expect(page.locator("#session-key")).toHaveText("none");
    expect(await panelKey(page)).toBe("");
    expect(await sessionCookie(context)).toBeUndefined();
    expect(sessionRow(oldKey), "the flushed session's row is deleted").toBeUndefined();
    expect(await sessionJson(page)).toEqual({ session_key: null, session: {} });

    await page.locator("#key").fill("again");
    await page.locator("#value").fill("yes");
    await page.locator("#set-button").click();
    await expect(page.locator("#result")).toHaveText("Stored again = yes.");
    const newKey = (await requireSessionCookie(context)).value;
    expect(newKey).toMatch(SESSION_KEY_PATTERN);
    expect(newKey).not.toBe(oldKey);
    expect(decodeSessionData(sessionRow(newKey)!.session_data)).toEqual({ again: "yes" });
    expect(sessionRow(oldKey)).toBeUndefined();

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
});
