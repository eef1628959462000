import { expect, test } from "@playwright/test";
import {
  AppServer,
  SESSION_KEY_PATTERN,
  TWO_WEEKS,
  decodeSessionData,
  expireDateMs,
  freePort,
  panelKey,
  requireSessionCookie,
  secondsUntil,
  sessionRow,
} from "./support.js";

test.describe("visit counter", () => {
  test("climbs across reloads and is a row in the sessions table", async ({ page, context }) => {
    await page.goto("/counter/");
    await expect(page.locator("#visits")).toHaveText("1");
    await expect(page.locator(".big")).toContainText("visited this page 1 time.");

    // The first visit stores something, so the browser now holds the session cookie.
    const cookie = await requireSessionCookie(context);
    expect(cookie.value).toMatch(SESSION_KEY_PATTERN);
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    expect(cookie.path).toBe("/");
    expect(cookie.secure).toBe(false);
    expect(secondsUntil(cookie)).toBeGreaterThan(TWO_WEEKS - 120);
    expect(secondsUntil(cookie)).toBeLessThan(TWO_WEEKS + 120);

    await page.reload();
    await expect(page.locator("#visits")).toHaveText("2");
    await expect(page.locator(".big")).toContainText("visited this page 2 times.");
    await page.reload();
    await expect(page.locator("#visits")).toHaveText("3");

    // Same key all along: the panel shows it and the cookie still carries it.
    expect(await panelKey(page)).toBe(cookie.value);
    await expect(page.locator("#session-cookie-sent")).toHaveText(`${cookie.value.slice(0, 8)}…`);
    expect((await requireSessionCookie(context)).value).toBe(cookie.value);

    const row = sessionRow(cookie.value);
    expect(row, "a sessions row for the cookie's key").toBeDefined();
    expect(decodeSessionData(row!.session_data)).toEqual({ visits: 3 });
    const rowAge = (expireDateMs(row!) - Date.now()) / 1000;
    expect(rowAge).toBeGreaterThan(TWO_WEEKS - 120);
    expect(rowAge).toBeLessThan(TWO_WEEKS + 120);
  });

  test("reset starts the count again", async ({ page, context }) => {
    await page.goto("/counter/");
    await page.reload();
    await page.reload();
    await expect(page.locator("#visits")).toHaveText("3");
    const key = (await requireSessionCookie(context)).value;

    await page.locator("#reset-button").click();
    // Reset removes the count and redirects to the counter, which counts that visit.
    await expect(page).toHaveURL("/counter/");
    await expect(page.locator("#visits")).toHaveText("1");
    await page.reload();
    await expect(page.locator("#visits")).toHaveText("2");

    expect((await requireSessionCookie(context)).value).toBe(key);
    expect(decodeSessionData(sessionRow(key)!.session_data)).toEqual({ visits: 2 });
  });

  test("survives a server restart", async ({ page, context }) => {
    const server = new AppServer({
      databasePath: AppServer.databaseFor("counter-restart"),
      port: await freePort(3101),
      secretKey: "e2e-restart-secret",
    });
    try {
      await server.start();
      await page.goto(`${server.url}/counter/`);
      await expect(page.locator("#visits")).toHaveText("1");
      await page.reload();
      await expect(page.locator("#visits")).toHaveText("2");
      const key = (await requireSessionCookie(context)).value;
      expect(key).toMatch(SESSION_KEY_PATTERN);

      const firstPid = server.pid;
      const stopped = await server.stop();
      expect(stopped, `clean shutdown on SIGTERM; server output:\n${server.log}`).toEqual({ code: 0, signal: null });
      expect(server.running).toBe(false);
      // While it is down the page really is gone.
      await expect(page.goto(`${server.url}/counter/`)).rejects.toThrow();

      await server.start();
      expect(server.pid).not.toBe(firstPid);
      await page.goto(`${server.url}/counter/`);
      await expect(page.locator("#visits")).toHaveText("3");
      expect((await requireSessionCookie(context)).value).toBe(key);
      expect(await panelKey(page)).toBe(key);
      expect(decodeSessionData(sessionRow(key, server.options.databasePath)!.session_data)).toEqual({ visits: 3 });
    } finally {
      await server.stop();
    }
  });
});
