import { expect, test } from "@playwright/test";
import { engineOf, panelKey, sessionCookie } from "./support.js";

const DEMOS = [
  { link: "Set a value", path: "/session/set/", heading: "Set a value" },
  { link: "get it back", path: "/session/get/", heading: "Get a value" },
  { link: "Visit counter", path: "/counter/", heading: "Visit counter" },
  { link: "Shopping cart", path: "/cart/", heading: "Shopping cart" },
  { link: "Expiry", path: "/expiry/", heading: "Session expiry" },
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
    await expect(demos).toHaveCount(5);
    for (const demo of DEMOS) {
      await expect(page.locator("#demo-list").getByRole("link", { name: demo.link, exact: true })).toHaveAttribute(
        "href",
        demo.path,
      );
    }
    await expect(page.locator("#demo-list").getByRole("link", { name: "Session as JSON" })).toHaveAttribute(
      "href",
      "/session/json/",
    );

    // Nothing is stored until a page writes something: no key, no cookie.
    await expect(page.locator("#session-panel")).toBeVisible();
    expect(await panelKey(page)).toBe("");
    await expect(page.locator("#session-key")).toHaveText("none");
    await expect(page.locator("#session-data")).toHaveText("{}");
    expect(await sessionCookie(context)).toBeUndefined();
  });

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

  test("the JSON link shows the session as JSON", async ({ page }) => {
    await page.goto("/");
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/session/json/")),
      page.locator("#demo-list").getByRole("link", { name: "Session as JSON" }).click(),
    ]);
    await expect(page).toHaveURL("/session/json/");
    expect(response.status()).toBe(200);
    expect(response.headers()["content-type"]).toContain("application/json");
    expect(await response.json()).toEqual({ session_key: null, session: {} });
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
    ] as const) {
      await nav.getByRole("link", { name, exact: true }).click();
      await expect(page).toHaveURL(path);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading);
    }
    await page.getByRole("link", { name: "Sessions demo" }).click();
    await expect(page).toHaveURL("/");
    await expect(page.locator("#demo-list")).toBeVisible();
  });
});
