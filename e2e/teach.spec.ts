/**
 * The teaching panels in a real browser, on every engine: the exchange panel shows the
 * Set-Cookie the browser really received (for the page and for the redirect before it), the
 * stored record shown is the one in the store, and every demo page has Django's code beside ours.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, type Locator, type Page, type Response } from "@playwright/test";
import {
  SESSION_COOKIE,
  isServerSide,
  newUser,
  projectOf,
  requireSessionCookie,
  sessionRow,
  storedData,
  submitLogin,
  test,
} from "./support.js";

/** The response's Set-Cookie lines for the session cookie, as the browser received them. */
async function sessionSetCookies(response: Response | null): Promise<string[]> {
  expect(response, "a response").not.toBeNull();
  return (await response!.headerValues("set-cookie")).filter((line) => line.startsWith(`${SESSION_COOKIE}=`));
}

async function shownSetCookies(step: Locator): Promise<string[]> {
  return step.locator('[data-role="set-cookie"]').allTextContents();
}

/** Clicks `button` and returns the POST's own response (the redirect) once the next page has loaded. */
async function postFrom(page: Page, button: Locator, pathname: string): Promise<Response> {
  const [post] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === pathname),
    button.click(),
  ]);
  await page.waitForLoadState("load");
  return post;
}

test.describe("what just happened", () => {
  test("the first write: the panel shows the new key's Set-Cookie exactly as the browser got it", async ({ page }) => {
    const response = await page.goto("/counter/");
    const sent = await sessionSetCookies(response);
    expect(sent).toHaveLength(1);
    const step = page.locator("#exchange-this");
    expect(await shownSetCookies(step)).toEqual(sent);
    await expect(step.locator('[data-role="cookie-sent"]')).toHaveText("none");
    await expect(step.locator('[data-role="store"]')).toHaveText("written");
    await expect(step.locator('[data-role="vary"]')).toContainText("added");
    if (isServerSide()) await expect(step).toContainText("A new key");

    // A reload reads and writes again, with the key the browser now sends.
    const cookie = await requireSessionCookie(page.context());
    const again = await page.reload();
    expect(await shownSetCookies(step)).toEqual(await sessionSetCookies(again));
    await expect(step.locator('[data-role="cookie-sent"]')).toHaveText(`${SESSION_COOKIE}=${cookie.value}`);
  });

  test("a flush: the deletion cookie of the redirect is shown on the page it leads to", async ({ page }) => {
    await page.goto("/session/set/?key=a&value=1");
    const post = await postFrom(page, page.locator("#flush-button"), "/session/flush/");
    const sent = await sessionSetCookies(post);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^sessionid=""; Max-Age=0/);
    const before = page.locator('.teach-step[data-step="previous"]');
    await expect(before).toContainText("POST /session/flush/ → 303");
    expect(await shownSetCookies(before)).toEqual(sent);
    await expect(before).toContainText("deletion cookie");
    await expect(page.locator('#exchange-this [data-role="cookie-sent"]')).toHaveText("none");
  });

  test("set_expiry(0): the cookie sent has no Expires or Max-Age, and the page points it out", async ({ page }) => {
    await page.goto("/expiry/");
    await page.locator("#seconds").fill("0");
    const post = await postFrom(page, page.locator("#expiry-button"), "/expiry/");
    const sent = await sessionSetCookies(post);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toMatch(/Max-Age|Expires/);
    const before = page.locator('.teach-step[data-step="previous"]');
    expect(await shownSetCookies(before)).toEqual(sent);
    await expect(before).toContainText("No Expires and no Max-Age");
    // Only the branch that ran is highlighted: set_expiry(0), not set_expiry(None) or int(seconds).
    await expect(page.locator("#snippet-post-expiry mark.ran")).toHaveText([
      /request\.session\.set_expiry\(0\)/,
      /session\.setExpiry\(value\)/,
    ]);
  });

  test("login: the new key is the one the browser received, and the key change is pointed out", async ({
    page,
  }, testInfo) => {
    const password = "teach-password-1";
    const user = await newUser(testInfo, password);
    await page.goto("/cart/");
    await page.locator("#item").fill("apple");
    await postFrom(page, page.locator("#add-button"), "/cart/add/");
    const anonymous = (await requireSessionCookie(page.context())).value;
    await page.goto("/login/?next=/account/");
    const [post] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/login/"),
      submitLogin(page, user, password),
    ]);
    await expect(page).toHaveURL("/account/");
    const sent = await sessionSetCookies(post);
    expect(sent).toHaveLength(1);
    const before = page.locator('.teach-step[data-step="previous"]');
    expect(await shownSetCookies(before)).toEqual(sent);
    await expect(before.locator('[data-role="cookie-sent"]')).toHaveText(`${SESSION_COOKIE}=${anonymous}`);
    const loggedIn = (await requireSessionCookie(page.context())).value;
    expect(sent[0]).toContain(`${SESSION_COOKIE}=${loggedIn};`);
    if (isServerSide()) {
      expect(loggedIn).not.toBe(anonymous);
      await expect(before).toContainText(`The key changed from ${anonymous.slice(0, 8)}… to ${loggedIn.slice(0, 8)}…`);
    }
    await expect(page.locator("#snippet-post-login mark.ran").first()).toBeVisible();
  });
});

test.describe("the stored record", () => {
  test("what the page shows is what the store holds after the response", async ({ page }) => {
    const project = projectOf();
    for (const visits of [1, 2]) {
      await page.goto("/counter/");
      const key = (await requireSessionCookie(page.context())).value;
      const panel = page.locator("#record-panel");
      switch (project.engine) {
        case "db":
        case "cached_db": {
          const row = sessionRow(key, project.databasePath);
          expect(row, "a row in the store").toBeDefined();
          await expect(panel.locator('[data-column="session_key"]')).toHaveText(row!.session_key);
          await expect(panel.locator('[data-column="session_data"]')).toHaveText(row!.session_data);
          await expect(panel.locator('[data-column="expire_date"]')).toHaveText(row!.expire_date);
          await expect(panel.locator("pre.query")).toHaveText(
            `SELECT session_key, session_data, expire_date FROM sessions WHERE session_key = '${key}';`,
          );
          break;
        }
        case "cache": {
          await expect(panel.locator('[data-role="cache-key"]')).toHaveText(
            `${project.cacheKeyPrefix}:1:django.contrib.sessions.cache${key}`,
          );
          const shown = JSON.parse(
            (await panel.locator('[data-role="cache-value"]').textContent()) ?? "null",
          ) as unknown;
          expect(shown).toEqual(await storedData(key));
          break;
        }
        case "file": {
          const file = path.join(project.sessionFilePath!, `${SESSION_COOKIE}${key}`);
          await expect(panel.locator('[data-role="file-path"]')).toHaveText(file);
          await expect(panel.locator('[data-role="file-contents"]')).toHaveText(readFileSync(file, "latin1"));
          break;
        }
        case "signed_cookies":
          await expect(panel.locator('[data-role="cookie-value"]')).toHaveText(key);
          break;
      }
      if (project.engine !== "cache") {
        await expect(panel.locator('[data-role="verified"]')).toHaveText("verifies with SECRET_KEY");
        expect(JSON.parse((await panel.locator('[data-role="json"]').textContent()) ?? "null")).toEqual({ visits });
      }
      expect(await storedData(key)).toEqual({ visits });
    }
  });
});

test.describe("Django's code beside ours", () => {
  const pages: { url: string; route: string; python: string }[] = [
    { url: "/", route: "GET /", python: "django.contrib.sessions.middleware.SessionMiddleware" },
    { url: "/session/set/?key=k&value=v", route: "GET /session/set/", python: "request.session[key] = value" },
    { url: "/session/get/?key=k", route: "GET /session/get/", python: "request.session.get(key)" },
    { url: "/counter/", route: "GET /counter/", python: 'request.session["visits"] = visits' },
    { url: "/cart/", route: "GET /cart/", python: 'request.session.pop("flash", None)' },
    { url: "/expiry/", route: "GET /expiry/", python: "request.session.get_expiry_age()" },
    { url: "/login/", route: "POST /login/", python: "login(request, user)" },
    { url: "/settings/", route: "GET /settings/", python: 'SESSION_ENGINE = "django.contrib.sessions.backends.' },
  ];
  for (const { url, route, python } of pages) {
    test(`${url} shows the Django view next to ours`, async ({ page }) => {
      await page.goto(url);
      const region = page.getByRole("region", { name: "Django's code beside ours" });
      const snippet = region.locator(`details.snippet[data-route="${route}"]`);
      await expect(snippet).toHaveCount(1);
      await expect(snippet.locator('[data-side="django"] pre.lang-python').first()).toContainText(python);
      await expect(snippet.locator('[data-side="ours"] pre').first()).not.toBeEmpty();
      if (route.startsWith("GET ")) {
        await expect(snippet).toHaveAttribute("data-ran", "this");
        await expect(snippet.locator("mark.ran").first()).toBeVisible();
      }
    });
  }

  test("the cart's in-place pitfall and Django's modified = True", async ({ page }) => {
    await page.goto("/cart/");
    await page.locator("#item").fill("pear");
    await postFrom(page, page.locator("#add-inplace-button"), "/cart/add-inplace/");
    const snippet = page.locator('details.snippet[data-route="POST /cart/add-inplace/"]');
    await expect(snippet).toHaveAttribute("data-ran", "previous");
    await expect(snippet.locator("mark.ran")).toContainText(["request.session.modified = True"]);
    await expect(snippet.locator(".note")).toContainText("SESSION_DETECT_MUTATIONS is on");
  });
});

test("at phone width the stored record of this engine (a row, a Redis key, a file path, a cookie) never widens the page", async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/session/set/?key=colour&value=blue");
  for (const url of ["/counter/", "/cart/", "/expiry/", "/settings/"]) {
    await page.goto(url);
    await expect(page.locator("#record-panel")).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${url} at 390 px`).toBeLessThanOrEqual(390);
  }
});
