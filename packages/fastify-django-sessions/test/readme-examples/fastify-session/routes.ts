import Fastify, { type FastifyInstance } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifySession from "@fastify/session";

declare module "fastify" {
  interface Session {
    cart?: string[];
    userId?: number;
  }
}

export async function buildApp(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: process.env.SECRET_KEY ?? "a long random secret, at least 32 characters",
    saveUninitialized: false,
    cookie: { secure: "auto" },
  });

  // set: no lock; two of these at once keep one item.
  app.post<{ Body: { item: string } }>("/cart", async (request) => {
    request.session.set("cart", [...(request.session.get("cart") ?? []), request.body.item]);
    return { cart: request.session.get("cart") };
  });

  // read
  app.get("/cart", async (request) => ({ cart: request.session.get("cart") ?? [] }));

  // flush
  app.post("/forget", async (request) => {
    await request.session.destroy();
    return { ok: true };
  });

  // login: regenerate() starts an empty session; fields to keep are named.
  app.post<{ Body: { userId: number } }>("/login", async (request) => {
    await request.session.regenerate(["cart"]);
    request.session.set("userId", request.body.userId);
    return { ok: true };
  });

  // logout
  app.post("/logout", async (request) => {
    await request.session.destroy();
    return { ok: true };
  });

  return app;
}
