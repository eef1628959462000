/// <reference lib="dom" />
/**
 * Accessibility checks the browser specs share: axe-core run in the page, and how far a page
 * scrolls sideways. The widths every page is checked at.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { AxeResults, RunOptions } from "axe-core";
import { expect, type Page } from "@playwright/test";

export const WIDTHS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

/**
 * axe-core, the copy @axe-core/playwright runs. Its AxeBuilder injects the whole script into the
 * page twice per scan and opens a blank page for `finishRun` each time, most of a scan's cost;
 * these pages have no frames (checked below), so `axe.run` in the page itself (what AxeBuilder's
 * legacy mode does) finds the same violations, and one injection serves both widths.
 */
const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(
  require.resolve("axe-core/axe.min.js", { paths: [path.dirname(require.resolve("@axe-core/playwright"))] }),
  "utf8",
);

/** Loads axe-core into the page's current document (once per navigation). */
export async function injectAxe(page: Page): Promise<void> {
  expect(page.frames(), "a page without frames (axe runs in the main document only)").toHaveLength(1);
  await page.evaluate(AXE_SOURCE);
}

/** Serious and critical violations on the page as it is now (axe loaded by injectAxe), one line each. */
export async function violations(page: Page): Promise<string[]> {
  // Only violations are read: `resultTypes` keeps axe from collecting every passing node too
  // (the violations it reports are the same).
  const results = await page.evaluate(() =>
    (window as unknown as { axe: { run(options: RunOptions): Promise<AxeResults> } }).axe.run({
      resultTypes: ["violations"],
    }),
  );
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help} (${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")})`,
    );
}

/** How far the page reaches past the viewport's width (0 = no sideways scrolling). */
export function overflow(page: Page): Promise<number> {
  return page.evaluate(
    () => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth,
  );
}
