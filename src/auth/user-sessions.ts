/**
 * Which sessions each user is logged in with: the `user_sessions` table, kept beside the session
 * store (whose format stays Django's). The store stays the truth: a listed session is read back
 * from the engine, and rows whose session is gone (expired, flushed, evicted) are dropped.
 * Only for engines that keep sessions on the server; signed cookies cannot be listed or ended.
 */
import type { Kysely } from "kysely";
import { LRUCache } from "lru-cache";
import type { Database } from "../db/database.js";
import { datetimeColumnMs, SHOWN_KEY_PREFIX_LENGTH, type SessionEngine } from "fastify-django-sessions";
import type { EndedSessions, EndReason } from "./ended-sessions.js";
import { sessionBelongsTo, sessionUserId, type AuthUser, type Secrets } from "./session-auth.js";

/** Where a request came from, recorded with the session. */
export interface Sighting {
  userAgent: string;
  ip: string;
}

export interface ActiveSession {
  /** The first 8 characters of the key: enough to recognise, useless to an onlooker. */
  keyPrefix: string;
  /** The session this request runs in. */
  current: boolean;
  loggedInAt: Date;
  lastSeenAt: Date;
  /** When the store drops it if unused; null where the engine cannot tell. */
  expiresAt: Date | null;
  userAgent: string;
  ip: string;
}

export interface UserSessionsOptions {
  db: Kysely<Database>;
  engine: SessionEngine;
  secrets: Secrets;
  dateValue: (epochMs: number) => string | Date;
  now?: () => number;
  /** A session's last-seen time is written at most this often (ms), not on every request. */
  touchInterval?: number;
  /** Where an ended session's browser is told why, at its next request. */
  ended?: Pick<EndedSessions, "record">;
}

export class UserSessions {
  private readonly db: Kysely<Database>;
  private readonly engine: SessionEngine;
  private readonly secrets: Secrets;
  private readonly dateValue: (epochMs: number) => string | Date;
  private readonly now: () => number;
  private readonly touchInterval: number;
  private readonly ended: Pick<EndedSessions, "record"> | undefined;
  /** Key → when this process last wrote its row. */
  private readonly written = new LRUCache<string, number>({ max: 10_000 });

  constructor({ db, engine, secrets, dateValue, now = Date.now, touchInterval = 60_000, ended }: UserSessionsOptions) {
    this.ended = ended;
    this.db = db;
    this.engine = engine;
    this.secrets = secrets;
    this.dateValue = dateValue;
    this.now = now;
    this.touchInterval = touchInterval;
  }

  /** False for signed_cookies: there is nothing on the server to list or end. */
  get enabled(): boolean {
    return !this.engine.clientSide;
  }

  /** The user used `key` just now; `loggedIn` when this request logged in (a new row). */
  async seen(key: string, userId: number, sighting: Sighting, { loggedIn = false } = {}): Promise<void> {
    if (!this.enabled) return;
    const now = this.now();
    const last = this.written.get(key);
    if (!loggedIn && last !== undefined && now - last < this.touchInterval) return;
    const at = this.dateValue(now);
    const seen = {
      user_id: userId,
      last_seen_at: at,
      user_agent: sighting.userAgent.slice(0, 256),
      ip_address: sighting.ip.slice(0, 45),
    };
    await this.db
      .insertInto("user_sessions")
      .values({ session_key: key, created_at: at, ...seen })
      .onConflict((conflict) =>
        conflict.column("session_key").doUpdateSet(loggedIn ? { ...seen, created_at: at } : seen),
      )
      .execute();
    this.written.set(key, now);
  }

  /** The session got a new key and kept its login (a cycled key). */
  async moved(oldKey: string, newKey: string): Promise<void> {
    if (!this.enabled) return;
    await this.db.updateTable("user_sessions").set({ session_key: newKey }).where("session_key", "=", oldKey).execute();
    this.written.delete(oldKey);
  }

  /** The session ended or was logged out. */
  async forget(key: string): Promise<void> {
    if (!this.enabled) return;
    await this.db.deleteFrom("user_sessions").where("session_key", "=", key).execute();
    this.written.delete(key);
  }

  /** The user's live sessions, this one first, then most recently seen; rows of ended sessions are dropped. */
  async list(user: AuthUser, currentKey: string | null): Promise<ActiveSession[]> {
    if (!this.enabled) return [];
    const rows = await this.db
      .selectFrom("user_sessions")
      .selectAll()
      .where("user_id", "=", user.id)
      .orderBy("last_seen_at", "desc")
      .execute();
    const active: ActiveSession[] = [];
    for (const row of rows) {
      const session = this.engine.open(row.session_key);
      await session.load();
      if (session.sessionKey === null || !sessionBelongsTo(session, user, this.secrets)) {
        await this.forget(row.session_key);
        continue;
      }
      active.push({
        keyPrefix: row.session_key.slice(0, SHOWN_KEY_PREFIX_LENGTH),
        current: row.session_key === currentKey,
        loggedInAt: new Date(datetimeColumnMs(row.created_at)),
        lastSeenAt: new Date(datetimeColumnMs(row.last_seen_at)),
        expiresAt: await session.recordExpiryDate(),
        userAgent: row.user_agent,
        ip: row.ip_address,
      });
    }
    return active.sort((a, b) => Number(b.current) - Number(a.current));
  }

  /**
   * Ends every session of the user except those in `keep`: each record is deleted from the store,
   * so the next request with it is anonymous. Sessions with an outdated password hash are ended
   * too (after a password change). Resolves to how many live sessions were ended. `reason` is what
   * their browsers are told.
   */
  async endOthers(
    user: AuthUser,
    keep: ReadonlyArray<string | null>,
    reason: EndReason = "elsewhere",
  ): Promise<number> {
    if (!this.enabled) return 0;
    const rows = await this.db
      .selectFrom("user_sessions")
      .select("session_key")
      .where("user_id", "=", user.id)
      .execute();
    let ended = 0;
    for (const { session_key: key } of rows) {
      if (keep.includes(key)) continue;
      const session = this.engine.open(key);
      await session.load();
      if (session.sessionKey !== null && sessionUserId(session) === user.id) {
        await session.deleteRecord(key);
        await this.ended?.record(key, reason, true);
        ended++;
      }
      await this.forget(key);
    }
    return ended;
  }
}
