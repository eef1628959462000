/** Log in, log out, and the account page: your sessions, sign out elsewhere, change password. */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { hashPassword, verifyPassword, type PasswordHasherName } from "../auth/passwords.js";
import { MIN_PASSWORD_LENGTH, passwordProblems } from "../auth/password-rules.js";
import type { User, Users } from "../auth/users.js";
import type { UserSessions } from "../auth/user-sessions.js";
import { AttemptLimiter } from "../auth/attempt-limiter.js";
import { sessionUserId } from "../auth/session-auth.js";
import { leaveNotice } from "../notices.js";
import { renderPage } from "./render.js";

/**
 * `next` is honoured only for a path on this site (no scheme, no //host, no backslash, no
 * control character). Anything outside printable ASCII is percent-encoded, since a Location
 * header cannot carry it; what cannot be encoded (a lone surrogate) falls back to the default.
 */
export function safeNext(next: string | undefined, fallback = "/account/"): string {
  if (
    !next ||
    !next.startsWith("/") ||
    next.startsWith("//") ||
    next.includes("\\") ||
    // Matching control characters is this check's purpose, so no-control-regex does not apply.
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f]/.test(next)
  ) {
    return fallback;
  }
  try {
    return next.replace(/[^\x21-\x7e]+/g, (run) => encodeURIComponent(run));
  } catch {
    return fallback;
  }
}

const FAILED = "Please enter a correct username and password. Note that both fields may be case-sensitive.";
/** Shown once on the account page after an action (popped, like the cart's flash). */
const NOTICE = "account_notice";

/** Django's PasswordChangeForm checks: the two fields match, then the shared password rules. */
export function passwordChangeErrors(
  body: { new_password1: string; new_password2: string },
  username: string,
): string[] {
  const errors: string[] = [];
  if (body.new_password1 !== body.new_password2) errors.push("The two password fields didn’t match.");
  return [...errors, ...passwordProblems(body.new_password1, username)];
}

/** What login() did to the session, in words. */
export function loginNotice(
  username: string,
  before: { key: string | null; userId: number | undefined },
  after: string | null,
  engine: string,
): string {
  const who = `Logged in as ${username}.`;
  if (engine === "signed_cookies") {
    return `${who} login() stored your user in the session; on signed_cookies the cookie itself is the session, so it was re-signed with the new data.`;
  }
  if (before.userId !== undefined && before.key === after)
    return `${who} Same user and password: login() kept your session and its key.`;
  if (before.userId !== undefined) {
    return `${who} The session belonged to another login, so login() flushed it and started a new one with a new key.`;
  }
  return before.key === null
    ? `${who} login() created your session with a new key.`
    : `${who} login() gave your session a new key (cycle_key) and kept its data; the record under the old key was deleted, so a key planted before login is useless.`;
}

export const authRoutes: FastifyPluginAsync<{
  users: Users;
  userSessions: UserSessions;
  attemptsPerMinute: number;
  /** Makes new hashes (a changed password, the stand-in below); "scrypt" unless a test server says. */
  passwordHasher?: PasswordHasherName;
}> = async (app, { users, userSessions, attemptsPerMinute, passwordHasher = "scrypt" }) => {
  const perAccount = new AttemptLimiter(attemptsPerMinute);
  // Checked against for an unknown name, so a failed login takes as long either way.
  const unknownUserHash = await hashPassword("no user has this password", passwordHasher);
  // Guessing a password is slowed per client address (and per account at login).
  const perClient = app.rateLimit({
    max: attemptsPerMinute,
    timeWindow: "1 minute",
    keyGenerator: (request) => `ip:${request.ip}`,
  });
  const toLogin = (reply: FastifyReply) => reply.redirect(`/login/?next=${encodeURIComponent("/account/")}`, 303);

  async function accountPage(request: FastifyRequest, reply: FastifyReply, user: User, passwordErrors: string[] = []) {
    return renderPage(request, reply, "account.ejs", {
      title: "Your account",
      user,
      sessions: await userSessions.list(user, request.session.sessionKey),
      listable: userSessions.enabled,
      engine: app.config.session.SESSION_ENGINE,
      notice: request.session.pop(NOTICE, null),
      passwordErrors,
      minPasswordLength: MIN_PASSWORD_LENGTH,
    });
  }

  app.get<{ Querystring: { next?: string } }>("/login/", async (request, reply) => {
    return renderPage(request, reply, "login.ejs", {
      title: "Log in",
      next: safeNext(request.query.next),
      error: null,
      username: "",
      user: await request.getUser(),
    });
  });

  app.post<{ Body: { username: string; password: string; next?: string } }>(
    "/login/",
    {
      onRequest: perClient,
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
        return renderPage(request, reply, "login.ejs", {
          title: "Log in",
          next: safeNext(next),
          error: FAILED,
          username,
          user: null,
        });
      }
      // The user first: reading the data drops a key the store does not know.
      const userId = sessionUserId(request.session);
      const before = { key: request.session.sessionKey, userId };
      await request.login(user);
      leaveNotice(
        reply,
        loginNotice(user.username, before, request.session.sessionKey, app.config.session.SESSION_ENGINE),
      );
      // Django's rotate_token(): the CSRF secret issued before login is dropped; the next page
      // issues a new one, so a token an attacker saw or planted before login is useless.
      reply.clearCookie("csrftoken", { path: "/" });
      await users.recordLogin(user.id, Date.now());
      request.log.info({ userId: user.id }, "login");
      return reply.redirect(safeNext(next), 303);
    },
  );

  app.post("/logout/", async (request, reply) => {
    const wasLoggedIn = (await request.getUser()) !== null;
    await request.logout();
    leaveNotice(
      reply,
      wasLoggedIn
        ? "You are logged out: logout() flushed the session, so its data is gone, the stored record was deleted and the cookie removed."
        : "You were not logged in; the session was flushed all the same (logout() always flushes).",
    );
    return reply.redirect("/", 303);
  });

  app.get("/account/", async (request, reply) => {
    const user = await request.getUser();
    if (!user) return toLogin(reply);
    return accountPage(request, reply, user);
  });

  app.post("/account/sessions/end-others/", async (request, reply) => {
    const user = await request.getUser();
    if (!user) return toLogin(reply);
    const ended = await userSessions.endOthers(user, [request.session.sessionKey]);
    request.log.info({ userId: user.id, ended }, "signed out other sessions");
    request.session.set(NOTICE, `Signed out ${ended} other session${ended === 1 ? "" : "s"}.`);
    return reply.redirect("/account/", 303);
  });

  app.post<{ Body: { old_password: string; new_password1: string; new_password2: string } }>(
    "/account/password/",
    {
      onRequest: perClient,
      schema: {
        body: {
          type: "object",
          required: ["old_password", "new_password1", "new_password2"],
          properties: {
            old_password: { type: "string", maxLength: 4096 },
            new_password1: { type: "string", maxLength: 4096 },
            new_password2: { type: "string", maxLength: 4096 },
          },
        },
      },
    },
    async (request, reply) => {
      const user = await request.getUser();
      if (!user) return toLogin(reply);
      perAccount.hit(user.username.normalize("NFKC").toLowerCase());
      const errors = (await verifyPassword(request.body.old_password, user.password))
        ? passwordChangeErrors(request.body, user.username)
        : ["Your old password was entered incorrectly. Please enter it again."];
      if (errors.length > 0) {
        request.log.warn({ userId: user.id }, "password change refused");
        reply.code(400);
        return accountPage(request, reply, user, errors);
      }
      const changed = { ...user, password: await hashPassword(request.body.new_password1, passwordHasher) };
      await users.setPassword(user.id, changed.password);
      const ended = await request.passwordChanged(changed);
      request.log.info({ userId: user.id, ended }, "password changed");
      request.session.set(
        NOTICE,
        userSessions.enabled
          ? `Password changed. Signed out ${ended} other session${ended === 1 ? "" : "s"}.`
          : "Password changed. Other browsers are logged out at their next request.",
      );
      return reply.redirect("/account/", 303);
    },
  );
};
