import { expect } from "@playwright/test";
import { engineOf, panelKey, sessionCookie, test } from "./support.js";

const DEMOS = [
  { link: "Set a value", path: "/session/set/", heading: "Set a value" },
  { link: "get it back", path: "/session/get/", heading: "Get a value" },
  { link: "Visit counter", path: "/counter/", heading: "Visit counter" },
  { link: "Shopping cart", path: "/cart/", heading: "Shopping cart" },
  { link: "Expiry", path: "/expiry/", heading: "Session expiry" },
  { link: "Session as JSON", path: "/session/", heading: "Your session as JSON" },
  { link: "Log in", path: "/login/", heading: "Log in" },
  { link: "Settings", path: "/settings/", heading: "Settings" },
] as const;

/** Demos that need a login: the link is there, and an anonymous visitor is sent to log in. */
const LOGIN_DEMOS = [
  { link: "Your account", path: "/account/" },
  { link: "Stored sessions", path: "/admin/sessions/" },
] as const;

/** Links and headings are the same HTML on every engine: one project checks them. */
const ONE_ENGINE = "navigation does not depend on the engine: checked on db only";

test.describe("home page", () => {
  test("lists the demos and stores nothing", async ({ page, context }) => {
    const response = await page.goto("/");
    expect(response?.status()).toBe(200);
    await expect(page).toHaveTitle(/Sessions, the Django way/);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sessions, the Django way");

    const demos = page.locator("#demo-list > li");
    await expect(demos).toHaveCount(9);
    for (const demo of [...DEMOS, ...LOGIN_DEMOS]) {
      await expect(page.locator("#demo-list").getByRole("link", { name: demo.link, exact: true })).toHaveAttribute(
        "href",
        demo.path,
      );
    }

    // Nothing is stored until a page writes something: no key, no session cookie. The one
    // cookie the first page sets is csrftoken, as the page says.
    await expect(page.locator("#session-panel")).toBeVisible();
    expect(await panelKey(page)).toBe("");
    await expect(page.locator("#session-key")).toHaveText("none");
    await expect(page.locator("#session-data")).toHaveText("{}");
    expect(await sessionCookie(context)).toBeUndefined();
    const cookies = await context.cookies();
    expect(cookies.map((c) => c.name)).toEqual(["csrftoken"]);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Lax", expires: -1 });
    await expect(page.locator(".content")).toContainText("The first page you open already sets one cookie, csrftoken");
  });

  for (const demo of LOGIN_DEMOS) {
    test(`the "${demo.link}" link asks an anonymous visitor to log in first`, async ({ page }) => {
      await page.goto("/");
      await page.locator("#demo-list").getByRole("link", { name: demo.link, exact: true }).click();
      await expect(page).toHaveURL(`/login/?next=${encodeURIComponent(demo.path)}`);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Log in");
    });
  }

  for (const demo of DEMOS) {
    test(`the "${demo.link}" link opens ${demo.path}`, async ({ page }) => {
      test.skip(engineOf() !== "db", ONE_ENGINE);
      await page.goto("/");
      await page.locator("#demo-list").getByRole("link", { name: demo.link, exact: true }).click();
      await expect(page).toHaveURL(demo.path);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(demo.heading);
      await expect(page.locator("#session-panel")).toBeVisible();
    });
  }

  test("the JSON page shows the session formatted and links to the raw JSON, which stays JSON", async ({ page }) => {
    await page.goto("/session/set/?key=colour&value=blue");
    await page.locator("header.site nav").getByRole("link", { name: "JSON", exact: true }).click();
    await expect(page).toHaveURL("/session/");
    const shown = JSON.parse((await page.locator("#session-json").textContent()) ?? "null") as {
      session_key: string;
      session: object;
    };
    expect(shown.session).toEqual({ colour: "blue" });
    expect(shown.session_key).toBe(await panelKey(page));
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/session/json/")),
      page.locator("#raw-json-link").click(),
    ]);
    await expect(page).toHaveURL("/session/json/");
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("application/json");
    expect(await response.json()).toEqual(shown);
  });

  test("the header navigation reaches every page", async ({ page }) => {
    test.skip(engineOf() !== "db", ONE_ENGINE);
    await page.goto("/counter/");
    const nav = page.locator("header.site nav");
    for (const [name, path, heading] of [
      ["Set", "/session/set/", "Set a value"],
      ["Get", "/session/get/", "Get a value"],
      ["Counter", "/counter/", "Visit counter"],
      ["Cart", "/cart/", "Shopping cart"],
      ["Expiry", "/expiry/", "Session expiry"],
      ["JSON", "/session/", "Your session as JSON"],
      ["Settings", "/settings/", "Settings"],
      ["Log in", "/login/", "Log in"],
    ] as const) {
      await nav.getByRole("link", { name, exact: true }).click();
      await expect(page).toHaveURL(path);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
      // The current page is marked, and only it.
      await expect(nav.getByRole("link", { name, exact: true })).toHaveAttribute("aria-current", "page");
      await expect(nav.locator('[aria-current="page"]')).toHaveCount(1);
    }
    await page.getByRole("link", { name: "Sessions demo" }).click();
    await expect(page).toHaveURL("/");
    await expect(page.locator("#demo-list")).toBeVisible();
  });
});
