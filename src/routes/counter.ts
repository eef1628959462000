/** A visit counter: the simplest thing a session remembers, and the simplest lost update. */
import type { FastifyPluginAsync } from "fastify";
import { leaveNotice } from "../notices.js";
import { renderPage } from "./render.js";

/**
 * Read, add one, write back: two requests at once would both read N and both store N + 1.
 * The lock runs this session's requests on these routes one at a time (the session plugin).
 */
const oneAtATime = { session: { lock: true } };

export const counterRoutes: FastifyPluginAsync<{ clientSide: boolean }> = async (app, { clientSide }) => {
  app.get("/counter/", { config: oneAtATime }, (request, reply) => {
    const visits = request.session.get("visits", 0) + 1;
    request.session.set("visits", visits);
    return renderPage(request, reply, "counter.ejs", { title: "Visit counter", visits, clientSide });
  });

  app.post("/counter/reset/", { config: oneAtATime }, (request, reply) => {
    const visits = request.session.pop("visits", null);
    leaveNotice(
      reply,
      visits === null
        ? "Nothing to reset: “visits” was not in your session. This visit counts as 1."
        : `Counter reset: “visits” (${visits}) was removed from your session with pop, so this visit counts as 1 again.`,
    );
    return reply.redirect("/counter/", 303);
  });
};
