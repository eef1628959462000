import Fastify, { type FastifyInstance } from "fastify";
import { createSessionEngine, MemoryCache, sessions } from "fastify-django-sessions";
import "./session-types.js";

export async function buildApp(): Promise<FastifyInstance> {
  const engine = await createSessionEngine(
    { SECRET_KEY: process.env.SECRET_KEY ?? "a long random secret, at least 32 characters", SESSION_ENGINE: "cache" },
    { caches: { default: new MemoryCache() } },
  );
  const app = Fastify();
  await app.register(sessions, { engine });

  // set: a read-modify-write, so one request of the session at a time.
  app.post<{ Body: { item: string } }>("/cart", { config: { session: { lock: true } } }, async (request) => {
    request.session.set("cart", [...request.session.get("cart", []), request.body.item]);
    return { cart: request.session.get("cart") };
  });

  // read
  app.get("/cart", async (request) => ({ cart: request.session.get("cart", []) }));

  // flush: the data and the key go, the cookie is deleted.
  app.post("/forget", async (request) => {
    await request.session.flush();
    return { ok: true };
  });

  // login: a new key against session fixation; the data (the cart) is kept.
  app.post<{ Body: { userId: number } }>("/login", async (request) => {
    await request.session.cycleKey();
    request.session.set("userId", request.body.userId);
    return { ok: true };
  });

  // logout: Django's logout() is a flush.
  app.post("/logout", async (request) => {
    await request.session.flush();
    return { ok: true };
  });

  return app;
}
