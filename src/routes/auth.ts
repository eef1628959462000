/** Log in, log out, and an account page that needs a logged-in user. */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { hashPassword, verifyPassword } from "../auth/passwords.js";
import { authenticatedUser, login, logout } from "../auth/session-auth.js";
import type { User, Users } from "../auth/users.js";
import { AttemptLimiter } from "../auth/attempt-limiter.js";
import { renderPage } from "./render.js";

/** `next` is honoured only for a path on this site (no scheme, no //host, no backslash). */
export function safeNext(next: string | undefined, fallback = "/account/"): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\") || /[\u0000-\u001f]/.test(next)) {
    return fallback;
  }
  return next;
}

const FAILED = "Please enter a correct username and password. Note that both fields may be case-sensitive.";

export const authRoutes: FastifyPluginAsync<{ users: Users; attemptsPerMinute: number }> = async (
  app,
  { users, attemptsPerMinute },
) => {
  const settings = app.config.session;
  const perAccount = new AttemptLimiter(attemptsPerMinute);
  // Checked against for an unknown name, so a failed login takes as long either way.
  const unknownUserHash = await hashPassword("no user has this password");
  const currentUser = (request: FastifyRequest): Promise<User | null> =>
    authenticatedUser(request.session, (id) => users.byId(id), settings);

  app.get<{ Querystring: { next?: string } }>("/login/", async (request, reply) => {
    const user = await currentUser(request);
    return renderPage(request, reply, "login.ejs", {
      title: "Log in",
      next: safeNext(request.query.next),
      error: null,
      username: "",
      user,
    });
  });

  app.post<{ Body: { username: string; password: string; next?: string } }>(
    "/login/",
    {
      // Guessing is slowed per client address, and per account from any number of addresses.
      onRequest: app.rateLimit({ max: attemptsPerMinute, timeWindow: "1 minute", keyGenerator: (request) => `ip:${request.ip}` }),
      schema: {
        body: {
          type: "object",
          required: ["username", "password"],
          properties: {
            username: { type: "string", maxLength: 150 },
            password: { type: "string", maxLength: 4096 },
            next: { type: "string", maxLength: 2000 },
          },
        },
      },
    },
    async (request, reply) => {
      const { username, password, next } = request.body;
      perAccount.hit(username.normalize("NFKC").toLowerCase());
      const user = await users.byUsername(username);
      const valid = await verifyPassword(password, user?.password ?? unknownUserHash);
      if (!user || !valid) {
        request.log.warn({ username: username.slice(0, 150) }, "login failed");
        reply.code(400);
        return renderPage(request, reply, "login.ejs", { title: "Log in", next: safeNext(next), error: FAILED, username, user: null });
      }
      await login(request.session, user, settings);
      // Django's rotate_token(): the CSRF secret issued before login is dropped; the next page
      // issues a new one, so a token an attacker saw or planted before login is useless.
      reply.clearCookie("csrftoken", { path: "/" });
      await users.recordLogin(user.id, Date.now());
      request.log.info({ userId: user.id }, "login");
      return reply.redirect(safeNext(next), 303);
    },
  );

  app.post("/logout/", async (request, reply) => {
    await logout(request.session);
    return reply.redirect("/", 303);
  });

  app.get("/account/", async (request, reply) => {
    const user = await currentUser(request);
    if (!user) return reply.redirect(`/login/?next=${encodeURIComponent("/account/")}`, 303);
    return renderPage(request, reply, "account.ejs", { title: "Your account", user });
  });
};
