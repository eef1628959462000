import { expect } from "@playwright/test";
import { E2E_SECRET_KEY, engineOf, projectOf, sessionCookie, test } from "./support.js";

test.describe("settings page", () => {
  test("names the project's engine and never shows the SECRET_KEY in clear", async ({ page, context }) => {
    const response = await page.goto("/settings/");
    expect(response?.status()).toBe(200);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
    await expect(page.locator("#engine-name")).toHaveText(engineOf());

    // The secret is masked in its row, and appears nowhere in the page.
    const secretRow = page.locator('#settings-table tr[data-setting="SECRET_KEY"]');
    await expect(secretRow).toContainText("(masked)");
    await expect(secretRow).not.toContainText(E2E_SECRET_KEY);
    expect(await page.content()).not.toContain(E2E_SECRET_KEY);
    await expect(page.locator('#settings-table tr[data-setting="SECRET_KEY_FALLBACKS"]')).toContainText("(masked)");

    // Where the engine keeps sessions.
    const project = projectOf();
    const storage = page.locator("#storage");
    if (project.engine === "file") await expect(storage).toContainText(project.sessionFilePath!);
    if (project.engine === "signed_cookies") await expect(storage).toContainText("in the cookie itself");
    if (project.cacheBackend === "redis") await expect(storage).toContainText("Redis at");

    // Looking at the settings stores nothing.
    expect(await sessionCookie(context)).toBeUndefined();
  });
});
