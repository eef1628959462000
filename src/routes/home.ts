import type { FastifyPluginAsync } from "fastify";
import { renderPage } from "./render.js";

export const homeRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", (request, reply) =>
    renderPage(request, reply, "index.ejs", {
      title: "Sessions, the Django way",
      cookieName: app.config.session.SESSION_COOKIE_NAME,
    }),
  );
};
