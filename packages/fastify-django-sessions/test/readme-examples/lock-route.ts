import type { FastifyInstance } from "fastify";
import "./session-types.js";

export function counterRoutes(app: FastifyInstance): void {
  // Reads a value and writes back something computed from it: one request of a session at a time.
  app.post("/counter/", { config: { session: { lock: true } } }, async (request) => {
    const visits = request.session.get("visits", 0) + 1;
    request.session.set("visits", visits);
    return { visits };
  });

  // The defaults, spelled out: wait up to 10 s for the lock (then a 503), a lease of 10 s.
  app.post(
    "/counter/slow/",
    { config: { session: { lock: { waitSeconds: 10, leaseSeconds: 10 } } } },
    async () => ({}),
  );

  // A route that never needs the session: no read ahead, no cookie.
  app.get("/healthz", { config: { session: false } }, async () => ({ status: "ok" }));
}
