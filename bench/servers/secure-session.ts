/**
 * The peer of this project's signed_cookies engine: @fastify/secure-session, the whole session
 * encrypted (libsodium secretbox) into the cookie; no server state.
 *   key: 32 random bytes at start (the `secret` option would derive one with a slow pwhash at
 *        start only; the per-request cost is the same)
 *   expiry: two weeks, Django's SESSION_COOKIE_AGE (its default is one day)
 *   cookie: not Secure (plain HTTP here), httpOnly, SameSite=Lax, path /
 * It re-issues the cookie only when the session changed, as signed_cookies does.
 * Loaded with require(): its types declare request.session too, which this project's plugin
 * already declares, and one program cannot hold both.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import Fastify, { type FastifyPluginCallback, type FastifyRequest } from "fastify";
import { COOKIE_AGE_SECONDS, PATHS, serve, type VisitsBody } from "./link.js";

const require = createRequire(import.meta.url);
const secureSession = require("@fastify/secure-session") as FastifyPluginCallback<Record<string, unknown>>;

interface PeerSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}
const session = (request: FastifyRequest) => (request as unknown as { session: PeerSession }).session;

const app = Fastify();
await app.register(secureSession, {
  key: randomBytes(32),
  cookieName: "sessionid",
  expiry: COOKIE_AGE_SECONDS,
  cookie: { path: "/", httpOnly: true, secure: false, sameSite: "lax", maxAge: COOKIE_AGE_SECONDS },
});

const increment = (request: FastifyRequest): VisitsBody => {
  const visits = (Number(session(request).get("visits")) || 0) + 1;
  session(request).set("visits", visits);
  return { visits };
};
app.get(PATHS.A, increment);
app.get(PATHS.B, increment);
app.get(PATHS.C, (request): VisitsBody => ({ visits: Number(session(request).get("visits")) || 0 }));
app.get(PATHS.D, (): VisitsBody => ({ visits: 1 }));
// E (the per-session lock) is skipped by the harness: there is no lock, and no server state.

await serve({ app });
