/** Per-session expiry: setExpiry(seconds | 0 | null) and what the session reports back. */
import type { FastifyPluginAsync } from "fastify";
import { renderPage } from "./render.js";

export const expiryRoutes: FastifyPluginAsync = async (app) => {
  app.get("/expiry/", (request, reply) => {
    const session = request.session;
    return renderPage(request, reply, "expiry.ejs", {
      title: "Session expiry",
      expiryAge: session.getExpiryAge(),
      expiryDate: session.getExpiryDate().toISOString(),
      browserClose: session.getExpireAtBrowserClose(),
      cookieAge: session.getSessionCookieAge(),
    });
  });

  app.post<{ Body: { seconds: string } }>(
    "/expiry/",
    {
      schema: {
        body: {
          type: "object",
          required: ["seconds"],
          // "" = the global policy, 0 = until the browser closes, otherwise whole seconds.
          properties: { seconds: { type: "string", pattern: "^(|-?\\d{1,10})$" } },
        },
      },
    },
    (request, reply) => {
      const { seconds } = request.body;
      request.session.setExpiry(seconds === "" ? null : Number(seconds));
      return reply.redirect("/expiry/", 303);
    },
  );
};
