/**
 * The `signed_cookies` engine (docs/django-sessions.md#signed_cookies): the cookie value is the whole session, Django's
 * `signing.dumps(data, compress=True, salt="django.contrib.sessions.backends.signed_cookies")`.
 * Nothing is stored server-side, so nothing can be revoked: a copied cookie stays valid until
 * SESSION_COOKIE_AGE has passed since it was signed, whatever setExpiry() said.
 */
import { defineEngine, type EngineContext, type SessionEngine } from "../engine.js";
import {
  SessionBase,
  type LoadedRecord,
  type SessionContext,
  type SessionData,
  type SessionShape,
} from "../session-base.js";
import { BadSignature, SignatureExpired, TimestampSigner } from "../signing.js";
import { SessionTooLarge } from "../errors.js";
import { isJsonObject } from "../json.js";

/** Django's salt for the cookie value (not the stored-data salt). */
export const SIGNED_COOKIE_SALT = "django.contrib.sessions.backends.signed_cookies";

export class SignedCookieSession<T extends SessionShape<T> = SessionData> extends SessionBase<T> {
  protected override readonly keepsRecords = false;

  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    private readonly cookieSigner: TimestampSigner,
  ) {
    super(sessionKey, context);
  }

  /**
   * Verifies the cookie with max_age = SESSION_COOKIE_AGE (SECRET_KEY or any fallback). On any
   * failure the data is {} and the session is modified, but the key stays: the response then
   * carries a freshly signed empty dict rather than a delete cookie (Django's create()).
   */
  /* c8 ignore next 3 -- untested: loadRecordSync always answers for this engine, so the base class never calls this; required by the abstract class */
  protected async loadRecord(): Promise<LoadedRecord> {
    return this.loadRecordSync();
  }

  /** The cookie is the record: nothing to wait for, so it is verified only when first touched. */
  protected override get loadsSynchronously(): boolean {
    return true;
  }

  protected override loadRecordSync(): LoadedRecord {
    try {
      const value = this.cookieSigner.unsignObject(this.sessionKey!, this.getSessionCookieAge());
      if (isJsonObject(value)) return { data: value };
    } catch (error) {
      if (error instanceof BadSignature) {
        const expired = error instanceof SignatureExpired;
        this.context.log.warn(
          { logger: "django.security.SuspiciousSession", reason: expired ? "expired" : "bad signature" },
          expired ? "Session cookie expired" : "Session cookie signature invalid",
        );
      }
    }
    return { data: {}, modified: true };
  }

  /** No server-side state: no key is ever "taken". */
  async exists(_key?: string): Promise<boolean> {
    return false;
  }

  /** Django's create(): nothing to store, only `modified`. */
  override async create(): Promise<void> {
    this.modified = true;
  }

  /**
   * The key becomes the signed dump of the current data. Never raises CreateError/UpdateError;
   * over SESSION_MAX_BYTES it raises SessionTooLarge and the key (the cookie) stays as it was.
   */
  async save(_mustCreate = false): Promise<void> {
    await this.load();
    const value = this.cookieSigner.signObject(this.dataForSave(false));
    const limit = this.context.settings.SESSION_MAX_BYTES;
    if (limit > 0 && value.length > limit) throw new SessionTooLarge(value.length, limit);
    this.sessionKeyValue = value;
    this.modified = true;
  }

  /**
   * Django's delete(): whatever `key` says, this session loses its key and its data. The data is
   * emptied without loading and without marking it accessed (clear() marks both).
   */
  async deleteRecord(_key?: string | null): Promise<void> {
    const accessed = this.accessed;
    this.clear();
    this.accessed = accessed;
    this.sessionKeyValue = null;
  }

  /** Re-signs the same data: the value changes only through the timestamp. */
  override async cycleKey(): Promise<void> {
    await this.save();
  }
}

export function signedCookiesEngine(context: EngineContext): SessionEngine {
  const { settings, now } = context;
  const cookieSigner = new TimestampSigner({
    secret: settings.SECRET_KEY,
    fallbacks: settings.SECRET_KEY_FALLBACKS,
    salt: SIGNED_COOKIE_SALT,
    now,
  });
  // No server-side state: nothing to clear.
  return defineEngine("signed_cookies", context, (key, ctx) => new SignedCookieSession(key, ctx, cookieSigner), {
    clientSide: true,
    loadsSynchronously: true,
    readRecord: async (value) => ({ kind: "cookie", value, salt: SIGNED_COOKIE_SALT }),
  });
}
