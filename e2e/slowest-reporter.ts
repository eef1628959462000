/** A Playwright reporter that prints the ten slowest tests at the end (beside `list`). */
import type { Reporter, TestCase, TestResult } from "@playwright/test/reporter";

export default class SlowestReporter implements Reporter {
  private readonly runs: { title: string; duration: number }[] = [];

  onTestEnd(test: TestCase, result: TestResult): void {
    if (result.status === "skipped") return;
    const title = test.titlePath().filter(Boolean).join(" › ");
    this.runs.push({ title, duration: result.duration });
  }

  onEnd(): void {
    const slowest = this.runs.sort((a, b) => b.duration - a.duration).slice(0, 10);
    process.stdout.write(`\nThe 10 slowest browser tests:\n`);
    for (const run of slowest)
      process.stdout.write(`${`${(run.duration / 1000).toFixed(2)} s`.padStart(9)}  ${run.title}\n`);
  }

  printsToStdio(): boolean {
    return true;
  }
}
