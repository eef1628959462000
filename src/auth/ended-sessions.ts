/**
 * Sessions ended by someone else: "sign out everywhere else" in another browser, a password
 * change elsewhere, or staff ending one (/admin/sessions/, `npm run sessions -- delete`). The
 * record is deleted from the store, so all the browser can be told at its next request is why:
 * a row here, keyed by the SHA-256 of the session key (it names no live key and reveals nothing to
 * whoever reads the table), taken once by that browser's next request and removed by
 * `npm run clearsessions` once no cookie can still carry the key. Kept in the app's database, so it
 * works on every engine that keeps sessions on the server.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../db/database.js";

export type EndReason = "elsewhere" | "password" | "admin";

export interface EndedSession {
  reason: EndReason;
  /** The session was logged in: its browser is sent to log in again. */
  loggedIn: boolean;
}

export interface EndedSessionsOptions {
  db: Kysely<Database>;
  dateValue: (epochMs: number) => string | Date;
  /**
   * How long a cookie can come back: SESSION_COOKIE_AGE. A session given a longer setExpiry() can
   * outlive its row; it is then signed out without the reason.
   */
  lifetimeSeconds: number;
  now?: () => number;
}

const REASONS: ReadonlySet<string> = new Set<EndReason>(["elsewhere", "password", "admin"]);

function keyHash(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Why the session ended, in the words the login page (or the next page) shows. */
export function endedMessage({ reason, loggedIn }: EndedSession): string {
  switch (reason) {
    case "elsewhere":
      return "You were signed out: “Sign out everywhere else” was used in another browser logged in to your account, and it ended this session. Log in again to continue.";
    case "password":
      return "You were signed out: your password was changed in another session, which ends every other session. Log in with the new password.";
    case "admin":
      return loggedIn
        ? "You were signed out: an administrator ended your session. Log in again to continue."
        : "An administrator ended your session: what it stored was deleted, and this browser starts afresh.";
  }
}

export class EndedSessions {
  private readonly db: Kysely<Database>;
  private readonly dateValue: (epochMs: number) => string | Date;
  private readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor({ db, dateValue, lifetimeSeconds, now = Date.now }: EndedSessionsOptions) {
    this.db = db;
    this.dateValue = dateValue;
    this.lifetimeMs = lifetimeSeconds * 1000;
    this.now = now;
  }

  /** Notes that the session `key` was ended, and why. */
  async record(key: string, reason: EndReason, loggedIn: boolean): Promise<void> {
    const row = { reason, logged_in: loggedIn ? 1 : 0, expire_date: this.dateValue(this.now() + this.lifetimeMs) };
    await this.db
      .insertInto("ended_sessions")
      .values({ key_hash: keyHash(key), ...row })
      .onConflict((conflict) => conflict.column("key_hash").doUpdateSet(row))
      .execute();
  }

  /** Why `key` was ended, or null; the row is removed, so it is told once. */
  async take(key: string): Promise<EndedSession | null> {
    const hash = keyHash(key);
    const row = await this.db
      .selectFrom("ended_sessions")
      .select(["reason", "logged_in"])
      .where("key_hash", "=", hash)
      .where("expire_date", ">", this.dateValue(this.now()))
      .executeTakeFirst();
    if (!row) return null;
    const removed = await this.db.deleteFrom("ended_sessions").where("key_hash", "=", hash).executeTakeFirst();
    // Two requests of that browser at once: only the one that removed the row tells it.
    if (removed.numDeletedRows === 0n || !REASONS.has(row.reason)) return null;
    return { reason: row.reason as EndReason, loggedIn: row.logged_in === 1 };
  }

  /** Removes the rows no cookie can come back for; resolves to how many. */
  async clearExpired(): Promise<number> {
    const result = await this.db
      .deleteFrom("ended_sessions")
      .where("expire_date", "<=", this.dateValue(this.now()))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
