/// <reference lib="dom" />
/**
 * /learn/ in a browser: lesson 1's quiz taken with the mouse (no JavaScript on the page), a wrong
 * answer showing the solution and hint, the score on /learn/, progress kept across a reload and
 * gone after the Flush button; /learn/ and a lesson with no serious axe violations and no
 * sideways scrolling at 390 px (as e2e/a11y.spec.ts checks the other pages).
 */
import { expect, type Page } from "@playwright/test";
import { LESSONS } from "../src/learn/lessons/index.js";
import { injectAxe, overflow, violations, WIDTHS } from "./axe.js";
import { panelData, test } from "./support.js";

const lesson = LESSONS[0]!;
const url = `/learn/${lesson.slug}/`;

/** Answers question `index` of lesson 1 with `choiceId`, by clicking, and waits for the page to come back. */
async function answer(page: Page, index: number, choiceId: string): Promise<void> {
  const question = lesson.quiz[index]!;
  const article = page.locator(`article#${question.id}`);
  await article.locator(`#${question.id}-${choiceId}`).check();
  await article.locator(`#${question.id}-submit`).click();
  await expect(page).toHaveURL(`${url}#${question.id}`);
}

const wrongChoice = (index: number) => {
  const question = lesson.quiz[index]!;
  return question.choices.find((c) => c.id !== question.answer)!.id;
};

test.describe("learn", () => {
  test("take lesson 1's quiz: a wrong answer explains, the score adds up, a reload keeps it, a flush ends it", async ({
    page,
  }) => {
    await page.goto("/learn/");
    await expect(page.locator("#no-progress")).toBeVisible();
    await page.getByRole("link", { name: lesson.title }).click();
    await expect(page).toHaveURL(url);
    await expect(page.locator("h1")).toHaveText(`Lesson 1: ${lesson.title}`);

    // A wrong answer: marked wrong, with the hint, the worked solution and why people pick it.
    const first = lesson.quiz[0]!;
    await answer(page, 0, wrongChoice(0));
    const result = page.locator(`#${first.id}-result`);
    await expect(page.locator(`article#${first.id}`)).toHaveAttribute("data-result", "wrong");
    await expect(result).toContainText("Not this one.");
    await expect(result).toContainText("Hint:");
    await expect(result.locator("ol.solution li")).toHaveCount(first.solution.length);
    await expect(result.locator("ul.why-picked li.picked")).toContainText("(your answer)");
    await expect(page.locator(`#${first.id}-${wrongChoice(0)}`)).toBeChecked();

    // Two right answers.
    await answer(page, 1, lesson.quiz[1]!.answer);
    await expect(page.locator(`article#${lesson.quiz[1]!.id}`)).toHaveAttribute("data-result", "right");
    await answer(page, 2, lesson.quiz[2]!.answer);
    await expect(page.locator("#lesson-score")).toHaveAttribute("data-score", "2/3/10");
    // The answers are in the session, under `learn`, as the panel shows.
    expect(Object.keys((await panelData(page)).learn as Record<string, string>)).toHaveLength(3);

    await page.reload();
    await expect(page.locator("#lesson-score")).toHaveAttribute("data-score", "2/3/10");

    await page.locator("#nav-learn").click();
    await expect(page.locator("#total-right")).toHaveText("2");
    await expect(page.locator("#total-answered")).toHaveText("3");
    await expect(page.locator("#lesson-1 [data-score]")).toHaveAttribute("data-score", "2/3/10");

    await page.locator("#flush-button").click();
    await page.goto("/learn/");
    await expect(page.locator("#no-progress")).toBeVisible();
    await expect(page.locator("#lesson-1 [data-score]")).toHaveAttribute("data-score", "0/0/10");
  });
});

// ---- axe at desktop and phone width ------------------------------------------------------------

test("/learn/ and a lesson with graded answers: no serious axe violations, no sideways scrolling at 390 px", async ({
  page,
}) => {
  await page.goto(url);
  await answer(page, 0, wrongChoice(0));
  await answer(page, 1, lesson.quiz[1]!.answer);
  const problems: string[] = [];
  for (const target of ["/learn/", url]) {
    await page.setViewportSize({ width: WIDTHS[0].width, height: WIDTHS[0].height });
    await page.goto(target);
    await injectAxe(page);
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const v of await violations(page)) problems.push(`${size.name} ${target}: ${v}`);
      if (size.name === "phone") {
        const extra = await overflow(page);
        if (extra > 0) problems.push(`phone ${target}: ${extra} px wider than the screen`);
      }
    }
  }
  expect(problems).toEqual([]);
  await expect(page.locator("#nav-learn")).toHaveAttribute("aria-current", "page");
});
