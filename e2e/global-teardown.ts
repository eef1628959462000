/**
 * After the run: remove this run's session entries from Redis (every key under the run's
 * `e2e-<run id>-` prefixes), so a shared Redis is not left with two weeks of test sessions.
 * SQLite files and session files stay under e2e/.output/ for inspection; the next run removes them.
 */
import { Redis } from "ioredis";

export default async function globalTeardown(): Promise<void> {
  const url = process.env.REDIS_URL?.trim();
  const runId = process.env.E2E_RUN_ID;
  if (!url || !runId) return;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `e2e-${runId}-*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } catch (error) {
    console.warn(`e2e: could not remove this run's keys from Redis: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
