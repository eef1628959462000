/// <reference lib="dom" />
import { expect, type Page } from "@playwright/test";
import { CSRF_COOKIE, engineOf, requireSessionCookie, sessionJson, test } from "./support.js";

/** Waits for the POST to `path` that the next action sends. */
function nextPost(page: Page, path: string) {
  return page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === path);
}

async function expectForbiddenPage(page: Page): Promise<void> {
  await expect(page.locator("#error-heading")).toContainText("403");
  await expect(page.locator("#error-heading")).toHaveText("Forbidden (403)");
  await expect(page.locator("#error-message")).toContainText("CSRF verification failed");
  await expect(page.locator("#error-page")).toHaveAttribute("data-status", "403");
}

test.describe("CSRF protection", () => {
  test("every form carries a token and the browser holds the csrftoken cookie", async ({ page, context }) => {
    test.skip(
      engineOf() !== "db",
      "the CSRF cookie and the forms' tokens do not depend on the engine: checked on db only",
    );
    await page.goto("/cart/");
    const tokens = page.locator('form[method="post"] input[type="hidden"][name="_csrf"]');
    // add, checkout and the panel's flush
    await expect(tokens).toHaveCount(3);
    expect(await tokens.first().inputValue()).not.toBe("");
    const csrf = (await context.cookies()).find((c) => c.name === CSRF_COOKIE);
    expect(csrf?.httpOnly).toBe(true);
    expect(csrf?.sameSite).toBe("Lax");
  });

  test("a form posted without its token is refused with 403 and the session is unchanged", async ({
    page,
    context,
  }) => {
    await page.goto("/cart/");
    await page.locator("#item").fill("apple");
    await page.locator("#add-button").click();
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple"]);
    const key = (await requireSessionCookie(context)).value;

    // Remove the hidden token from the "add" form, then submit it.
    await page.locator("#item").fill("banana");
    await page.evaluate(() => {
      document.querySelector('form[action="/cart/add/"] input[name="_csrf"]')?.remove();
    });
    await expect(page.locator('form[action="/cart/add/"] input[name="_csrf"]')).toHaveCount(0);
    const refused = nextPost(page, "/cart/add/");
    await page.locator("#add-button").click();
    expect((await refused).status()).toBe(403);
    await expectForbiddenPage(page);

    expect(await sessionJson(page)).toEqual({ session_key: key, session: { cart: ["apple"] } });
    await page.goto("/cart/");
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple"]);
  });

  test("a form posted with a wrong token is refused with 403", async ({ page, context }) => {
    await page.goto("/counter/");
    await page.reload();
    await expect(page.locator("#visits")).toHaveText("2");
    const key = (await requireSessionCookie(context)).value;

    await page.locator('form[action="/counter/reset/"] input[name="_csrf"]').evaluate((input) => {
      (input as HTMLInputElement).value = "not-the-token";
    });
    const refused = nextPost(page, "/counter/reset/");
    await page.locator("#reset-button").click();
    expect((await refused).status()).toBe(403);
    await expectForbiddenPage(page);

    // The count was not reset: the next visit is the third.
    expect(await sessionJson(page)).toEqual({ session_key: key, session: { visits: 2 } });
    await page.goto("/counter/");
    await expect(page.locator("#visits")).toHaveText("3");
  });

  test("the flush button without its token does not flush", async ({ page, context }) => {
    await page.goto("/session/set/?key=stay&value=here");
    const key = (await requireSessionCookie(context)).value;
    await page.evaluate(() => {
      document.querySelector('form[action="/session/flush/"] input[name="_csrf"]')?.remove();
    });
    const refused = nextPost(page, "/session/flush/");
    await page.locator("#flush-button").click();
    expect((await refused).status()).toBe(403);
    await expectForbiddenPage(page);
    expect((await requireSessionCookie(context)).value).toBe(key);
    expect(await sessionJson(page)).toEqual({ session_key: key, session: { stay: "here" } });
  });

  test("a direct POST without a token, or with a wrong one, gets the 403 page", async ({ page, context }) => {
    await page.goto("/session/set/?key=color&value=red");
    const key = (await requireSessionCookie(context)).value;

    const noToken = await page.request.post("/session/delete/", { form: { key: "color" } });
    expect(noToken.status()).toBe(403);
    expect(noToken.headers()["content-type"]).toContain("text/html");
    expect(await noToken.text()).toContain('<h1 id="error-heading">Forbidden (403)</h1>');

    const wrongToken = await page.request.post("/session/delete/", { form: { key: "color", _csrf: "wrong" } });
    expect(wrongToken.status()).toBe(403);
    expect(await wrongToken.text()).toContain("Forbidden (403)");

    expect(await sessionJson(page)).toEqual({ session_key: key, session: { color: "red" } });
    await page.goto("/session/get/?key=color");
    await expect(page.locator("#value")).toHaveText('"red"');
  });
});

test.describe("not found", () => {
  test("an unknown URL gets the 404 page", async ({ page }) => {
    test.skip(engineOf() !== "db", "the 404 page does not touch the session: checked on db only");
    const response = await page.goto("/no/such/page/?x=1");
    expect(response?.status()).toBe(404);
    await expect(page.locator("#error-heading")).toHaveText("Not Found (404)");
    await expect(page.locator("#error-message")).toHaveText("There is no page at /no/such/page/.");
    await expect(page.locator("#error-page")).toHaveAttribute("data-status", "404");
    await page.getByRole("link", { name: "Back to the start page" }).click();
    await expect(page).toHaveURL("/");
  });
});
