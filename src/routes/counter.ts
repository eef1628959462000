/** A visit counter: the simplest thing a session remembers. */
import type { FastifyPluginAsync } from "fastify";
import { renderPage } from "./render.js";

export const counterRoutes: FastifyPluginAsync = async (app) => {
  app.get("/counter/", (request, reply) => {
    const visits = request.session.get("visits", 0) + 1;
    request.session.set("visits", visits);
    return renderPage(request, reply, "counter.ejs", { title: "Visit counter", visits });
  });

  app.post("/counter/reset/", (request, reply) => {
    request.session.pop("visits", null);
    return reply.redirect("/counter/", 303);
  });
};
