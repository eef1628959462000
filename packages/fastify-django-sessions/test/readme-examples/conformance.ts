// my-engine.test.ts: the store contract every built-in engine passes, as node:test tests.
import { createSessionEngine } from "fastify-django-sessions";
import { describeSessionEngine } from "fastify-django-sessions/conformance";

describeSessionEngine(
  "my engine",
  async (clock, hooks) => ({
    engine: await createSessionEngine(
      { SECRET_KEY: "a test secret", SESSION_ENGINE: "./my-engine.ts" },
      {},
      { now: clock.now, hooks },
    ),
  }),
  // This store has no listSessions() and no recordExpiryDate(): those tests are reported as skipped.
  { noListing: true, noRecordExpiry: true },
);
