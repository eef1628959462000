/** Set, get, delete and flush one session value; the session as JSON. */
import type { FastifyPluginAsync } from "fastify";
import { renderPage } from "./render.js";

// Keys starting with "_" are the framework's (_session_expiry, _auth_user_id, ...).
const KEY_PATTERN = "^[^_].{0,99}$";

interface SetQuery {
  key?: string;
  value?: string;
}

export const sessionRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: SetQuery }>(
    "/session/set/",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            key: { type: "string", pattern: KEY_PATTERN },
            value: { type: "string", maxLength: 2000 },
          },
        },
      },
    },
    (request, reply) => {
      const { key, value = "" } = request.query;
      if (key) request.session.set(key, value);
      return renderPage(request, reply, "session-set.ejs", { title: "Set a value", key: key ?? "", value, stored: Boolean(key) });
    },
  );

  app.get<{ Querystring: { key?: string } }>(
    "/session/get/",
    { schema: { querystring: { type: "object", properties: { key: { type: "string", maxLength: 100 } } } } },
    (request, reply) => {
      const key = request.query.key ?? "";
      const found = key !== "" && request.session.has(key);
      return renderPage(request, reply, "session-get.ejs", {
        title: "Get a value",
        key,
        found,
        value: found ? request.session.get(key) : undefined,
      });
    },
  );

  app.post<{ Body: { key: string } }>(
    "/session/delete/",
    {
      schema: {
        body: { type: "object", required: ["key"], properties: { key: { type: "string", pattern: KEY_PATTERN } } },
      },
    },
    (request, reply) => {
      const { key } = request.body;
      // pop with a default: deleting a key that is not there is not an error for a visitor.
      request.session.pop(key, null);
      return reply.redirect(`/session/get/?key=${encodeURIComponent(key)}`, 303);
    },
  );

  app.post("/session/flush/", async (request, reply) => {
    await request.session.flush();
    return reply.redirect("/session/set/", 303);
  });

  app.get("/session/json/", (request) => {
    // The data first: reading it drops a key the store does not know, which would otherwise be
    // echoed back here as if it were the session's.
    const session = Object.fromEntries(request.session.items());
    return { session_key: request.session.sessionKey, session };
  });
};
