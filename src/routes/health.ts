/**
 * GET /healthz for load balancers and orchestrators: does the database answer, and Redis where
 * the session cache is Redis. 200 `{"status":"ok","checks":{...}}`, or 503 with
 * `"status":"unavailable"` and each failing check's short reason (never a stack trace), logged
 * as a warning. Every check gives up after a short timeout, so a hung service cannot hang the
 * probe. The route never touches the session and logs nothing while all is well.
 */
import type { FastifyPluginAsync } from "fastify";
import { sql, type Kysely } from "kysely";
import type { Database } from "../db/database.js";
import { CacheUnavailable, RedisCache, type SessionCache } from "fastify-django-sessions";

export interface HealthOptions {
  db: Kysely<Database>;
  /** The runtime's caches; the Redis ones are checked. */
  caches?: Record<string, SessionCache>;
  /** How long one check may take, in ms. */
  timeoutMs?: number;
}

export type CheckResult = "ok" | `unavailable: ${string}`;

const MAX_REASON = 200;

/** The first line of an error's message, shortened; the cause's for a CacheUnavailable. */
export function shortReason(error: unknown): string {
  let cause = error instanceof CacheUnavailable && error.cause !== undefined ? error.cause : error;
  // pg reports a refused connection to a host with several addresses as an AggregateError.
  if (cause instanceof AggregateError && !cause.message && cause.errors.length > 0) cause = cause.errors[0];
  const text =
    cause instanceof Error ? cause.message || (cause as { code?: string }).code || cause.name : String(cause);
  const line = text.split("\n")[0]!.trim() || "unknown error";
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line;
}

class CheckTimedOut extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

async function check(run: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckTimedOut(timeoutMs)), timeoutMs);
  });
  try {
    // A check still running after the timeout is left to fail or finish on its own.
    await Promise.race([Promise.resolve().then(run), timeout]);
    return "ok";
  } catch (error) {
    return `unavailable: ${shortReason(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { db, caches = {}, timeoutMs = 2000 }) => {
  const checks: Record<string, () => Promise<unknown>> = { database: () => sql`select 1`.execute(db) };
  for (const [alias, cache] of Object.entries(caches)) {
    // Only Redis is outside the process; the in-process cache always answers.
    if (cache instanceof RedisCache) checks[alias === "default" ? "redis" : `redis:${alias}`] = () => cache.ping();
  }

  app.get(
    "/healthz",
    // No session read or cookie, and no request log lines for every probe: warnings only.
    { config: { session: false }, logLevel: "warn" },
    async (request, reply) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => check(checks[name]!, timeoutMs)));
      const report = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
      const failing = names.filter((name) => report[name] !== "ok");
      reply.header("cache-control", "no-store");
      if (failing.length === 0) return { status: "ok", checks: report };
      request.log.warn(
        { checks: report },
        `health check failed: ${failing.map((name) => `${name} ${report[name]}`).join("; ")}`,
      );
      return reply.code(503).send({ status: "unavailable", checks: report });
    },
  );
};
