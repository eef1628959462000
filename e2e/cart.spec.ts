import path from "node:path";
import { expect, type Page } from "@playwright/test";
import {
  OUTPUT_DIR,
  engineOf,
  isServerSide,
  keptKey,
  requireSessionCookie,
  sessionJson,
  storedData,
  test,
} from "./support.js";

async function addItem(page: Page, item: string, button: "#add-button" | "#add-inplace-button" = "#add-button") {
  await page.locator("#item").fill(item);
  await page.locator(button).click();
  await expect(page).toHaveURL("/cart/");
  await expect(page.locator("#cart-items .cart-item").last()).toHaveText(item);
}

test.describe("shopping cart", () => {
  test("two tabs adding to the cart at the same moment keep both items", async ({ context }) => {
    test.skip(
      !isServerSide(),
      "signed_cookies: each response carries the whole cart, the browser keeps the last (the page says so)",
    );
    const [first, second] = [await context.newPage(), await context.newPage()];
    await first.goto("/cart/");
    await addItem(first, "apple");
    await second.goto("/cart/");
    await first.locator("#item").fill("pear");
    await second.locator("#item").fill("plum");
    await Promise.all([first.locator("#add-button").click(), second.locator("#add-button").click()]);
    await Promise.all([expect(first).toHaveURL("/cart/"), expect(second).toHaveURL("/cart/")]);
    await first.reload();
    const items = await first.locator("#cart-items .cart-item").allTextContents();
    expect(items.sort()).toEqual(["apple", "pear", "plum"]);
    const key = (await requireSessionCookie(context)).value;
    expect(((await storedData(key)) as { cart: string[] }).cart.sort()).toEqual(["apple", "pear", "plum"]);
  });

  test("the page says what concurrent requests do on this engine", async ({ page }) => {
    await page.goto("/cart/");
    const note = page.locator("#concurrency-note");
    if (isServerSide()) await expect(note).toContainText("one at a time per session");
    else await expect(note).toContainText("can lose an item");
  });

  test("starts empty", async ({ page }) => {
    await page.goto("/cart/");
    await expect(page.locator("#cart-empty")).toHaveText("Your cart is empty.");
    await expect(page.locator("#cart-items")).toHaveCount(0);
    await expect(page.locator("#flash")).toHaveCount(0);
  });

  test("add two items, remove one", async ({ page, context }) => {
    await page.goto("/cart/");
    await addItem(page, "apple");
    await addItem(page, "banana");
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["apple", "banana"]);
    await expect(page.locator("#cart-empty")).toHaveCount(0);

    await page.locator("#cart-items li").filter({ hasText: "apple" }).getByRole("button", { name: "Remove" }).click();
    await expect(page).toHaveURL("/cart/");
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["banana"]);

    await page.reload();
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["banana"]);
    const key = (await requireSessionCookie(context)).value;
    expect(await storedData(key)).toEqual({ cart: ["banana"] });
  });

  test("add in place is detected and saved", async ({ page, context }) => {
    await page.goto("/cart/");
    // The very first item: setdefault() creates the list, then it is pushed to in place.
    await addItem(page, "pear", "#add-inplace-button");
    await addItem(page, "plum", "#add-button");
    // And in place onto a list that already exists in the store.
    await addItem(page, "fig", "#add-inplace-button");
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["pear", "plum", "fig"]);

    await page.reload();
    await expect(page.locator("#cart-items .cart-item")).toHaveText(["pear", "plum", "fig"]);
    const key = (await requireSessionCookie(context)).value;
    expect(await storedData(key)).toEqual({ cart: ["pear", "plum", "fig"] });
    expect((await sessionJson(page)).session).toEqual({ cart: ["pear", "plum", "fig"] });
  });

  test("checkout empties the cart and shows the message exactly once", async ({ page, context }) => {
    // Something else in the session too, so it stays non-empty (and keeps its cookie) after checkout.
    await page.goto("/session/set/?key=name&value=Ada");
    await page.goto("/cart/");
    await addItem(page, "apple");
    await addItem(page, "banana");
    const key = (await requireSessionCookie(context)).value;

    await page.locator("#checkout-button").click();
    await expect(page).toHaveURL("/cart/");
    await expect(page.locator("#flash")).toHaveText("Thank you! You checked out 2 items: apple, banana.");
    await expect(page.locator("#flash")).toHaveAttribute("role", "status");
    await expect(page.locator("#cart-empty")).toBeVisible();
    await expect(page.locator("#cart-items")).toHaveCount(0);
    await page.screenshot({
      path: path.join(OUTPUT_DIR, "screenshots", `cart-after-checkout-${engineOf()}.png`),
      fullPage: true,
    });

    // The message was popped while the page rendered, and that change was saved.
    const afterCheckout = await keptKey(context, key);
    expect(await storedData(afterCheckout)).toEqual({ name: "Ada" });

    await page.reload();
    await expect(page.locator("#cart-empty")).toBeVisible();
    await expect(page.locator("#flash")).toHaveCount(0);
    await page.reload();
    await expect(page.locator("#flash")).toHaveCount(0);
    await expect(page.locator("#session-data")).toContainText('"name": "Ada"');
    // Only reads since: the cookie is the one the checkout left.
    expect((await requireSessionCookie(context)).value).toBe(afterCheckout);
  });

  test("when checkout leaves no data the message still shows once and the key stays", async ({ page, context }) => {
    await page.goto("/cart/");
    await addItem(page, "tea");
    const key = (await requireSessionCookie(context)).value;
    await page.locator("#checkout-button").click();
    await expect(page.locator("#flash")).toHaveText("Thank you! You checked out 1 item: tea.");
    // Popping the message left no data, but the session still has its key (Django's is_empty()
    // is false while there is a key), so the empty data is saved under the same key (on
    // signed_cookies: the cookie is re-signed holding {}, not deleted).
    const after = await keptKey(context, key);
    expect(await storedData(after)).toEqual({});
    await page.reload();
    await expect(page.locator("#flash")).toHaveCount(0);
    await expect(page.locator("#cart-empty")).toBeVisible();
    await expect(page.locator("#session-data")).toHaveText("{}");
  });

  test("checking out an empty cart says so", async ({ page }) => {
    await page.goto("/cart/");
    await page.locator("#checkout-button").click();
    await expect(page.locator("#flash")).toHaveText("Your cart is empty: there was nothing to check out.");
    await page.reload();
    await expect(page.locator("#flash")).toHaveCount(0);
  });
});
