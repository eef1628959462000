import { expect } from "@playwright/test";
import {
  AppServer,
  TWO_WEEKS,
  freePort,
  keptKey,
  panelKey,
  projectOf,
  requireSessionCookie,
  secondsUntil,
  sessionJson,
  sessionKeyPattern,
  storedData,
  storedExpirySeconds,
  test,
} from "./support.js";

test.describe("visit counter", () => {
  test("climbs across reloads and is kept in the engine's store", async ({ page, context }) => {
    await page.goto("/counter/");
    await expect(page.locator("#visits")).toHaveText("1");
    await expect(page.locator(".big")).toContainText("visited this page 1 time.");

    // The first visit stores something, so the browser now holds the session cookie.
    const cookie = await requireSessionCookie(context);
    expect(cookie.value).toMatch(sessionKeyPattern());
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe("Lax");
    expect(cookie.path).toBe("/");
    expect(cookie.secure).toBe(false);
    expect(secondsUntil(cookie)).toBeGreaterThan(TWO_WEEKS - 120);
    expect(secondsUntil(cookie)).toBeLessThan(TWO_WEEKS + 120);

    await page.reload();
    await expect(page.locator("#visits")).toHaveText("2");
    await expect(page.locator(".big")).toContainText("visited this page 2 times.");
    const sent = await keptKey(context, cookie.value);
    await page.reload();
    await expect(page.locator("#visits")).toHaveText("3");

    // The panel shows the key the page was rendered with, the one the browser sent; server-side
    // engines keep that key all along (on signed_cookies the write re-signs the cookie).
    expect(await panelKey(page)).toBe(sent);
    await expect(page.locator("#session-cookie-sent")).toHaveText(`${sent.slice(0, 8)}…`);
    const key = await keptKey(context, sent);

    expect(await storedData(key), "the engine's store holds the count").toEqual({ visits: 3 });
    expect(await sessionJson(page)).toEqual({ session_key: key, session: { visits: 3 } });
    const storedAge = await storedExpirySeconds(key);
    if (storedAge !== undefined) {
      expect(storedAge).toBeGreaterThan(TWO_WEEKS - 120);
      expect(storedAge).toBeLessThan(TWO_WEEKS + 120);
    }
    expect(Number(await page.locator("#session-expiry-age").textContent())).toBe(TWO_WEEKS);
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

    const after = await keptKey(context, key);
    expect(await storedData(after)).toEqual({ visits: 2 });
  });

  test("survives a server restart", async ({ page, context }, testInfo) => {
    // Two start-ups of a server of its own (about 3 s of CPU each); with the machine busy that
    // alone can pass the default 30 s.
    test.setTimeout(60_000);
    const project = projectOf(testInfo);
    // Every project keeps sessions outside the app process (the cache project exists only with
    // Redis; cached_db on the in-process cache survives through its database).
    // A server of our own with fresh stores for this engine (SQLite file, session-file directory,
    // Redis key prefix), the same across the restart; cached_db on the in-process cache survives
    // through its database.
    const server = new AppServer({
      store: AppServer.storeFor("counter-restart", testInfo),
      port: await freePort(project.restartPortFrom),
      secretKey: "e2e-restart-secret",
    });
    try {
      await server.start();
      await page.goto(`${server.url}/counter/`);
      await expect(page.locator("#visits")).toHaveText("1");
      await page.reload();
      await expect(page.locator("#visits")).toHaveText("2");
      const key = (await requireSessionCookie(context)).value;
      expect(key).toMatch(sessionKeyPattern());

      const firstPid = server.pid;
      const stopped = await server.stop();
      expect(stopped, `clean shutdown on SIGTERM; server output:\n${server.log}`).toEqual({ code: 0, signal: null });
      expect(server.running).toBe(false);
      // While it is down the page really is gone. Asked outside the tab: a tab showing Chromium's
      // connection-error page reloads it by itself once the server is back, which would race
      // the navigation below.
      await expect(context.request.get(`${server.url}/counter/`)).rejects.toThrow();

      await server.start();
      expect(server.pid).not.toBe(firstPid);
      await page.goto(`${server.url}/counter/`);
      await expect(page.locator("#visits")).toHaveText("3");
      // Rendered with the key the browser kept across the restart.
      expect(await panelKey(page)).toBe(key);
      const after = await keptKey(context, key);
      expect(await storedData(after, server.options.store)).toEqual({ visits: 3 });
    } finally {
      await server.stop();
    }
  });
});
