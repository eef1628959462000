/**
 * The `file` engine (docs/django-sessions.md#file): one file per session, named SESSION_COOKIE_NAME + key, in a
 * directory (Django's SESSION_FILE_PATH). The content is Django's signed format, so a Django app
 * with the same SECRET_KEY and directory reads the same files.
 *
 * Only keys of a-z0-9 ever become a path: anything else reads as a missing session and is never
 * joined to the directory. Writes go to `<file name>_out_<random>` and are renamed over the
 * target, so a reader never sees a half-written file. Expiry is the file's mtime +
 * SESSION_COOKIE_AGE (unless `_session_expiry` says otherwise); the mtime is stamped from the
 * session clock at each write, so an injected clock and the files agree.
 *
 * Beyond Django, a save and a delete of one session hold a lock file (`<file name>.lock`)
 * while they read and replace the file: a save merges its changes onto the file as it is, and
 * a logout that lands during a save waits for it and then deletes, so it is never undone. The
 * route lock is a second lock file (`<file name>.request`). Lock files hold a lease: one left by
 * a crashed process is taken over once its lease has run out.
 */
import { randomBytes } from "node:crypto";
import { statSync, unlinkSync, writeFileSync } from "node:fs";
import { link, open, opendir, readdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { decodeStored, defineEngine, silentLogger, type EngineContext, type SessionEngine } from "../engine.js";
import { CreateError, ImproperlyConfigured, UpdateError } from "../errors.js";
import { hasKeyAlphabet, isStorableKey, MIN_SESSION_KEY_LENGTH } from "../keys.js";
import { SessionLocks, type LockStore } from "../locks.js";
import { countInKeyOrder, CursorCodec, listInKeyOrder, type KeyOrderStore } from "../listing.js";
import {
  EXPIRY_KEY,
  MISSING_RECORD,
  SessionBase,
  STORED_DATA_SALT,
  type LoadedRecord,
  type RecordWrite,
  type SessionContext,
  type SessionData,
  type SessionLogger,
  type SessionShape,
} from "../session-base.js";

export interface FileEngineOptions {
  /** Django's SESSION_FILE_PATH: an existing, writable directory. */
  directory: string;
}

interface FileStore {
  readonly directory: string;
  /** SESSION_COOKIE_NAME: the prefix of every session file name. */
  readonly prefix: string;
  /** The lock a save or delete holds while it reads and replaces a session's file. */
  readonly writeLocks: SessionLocks;
}

/** How long a save or delete may hold a session's file lock, and wait for it. */
const WRITE_LOCK = { leaseMs: 10_000, waitMs: 10_000 };

/** What reading a session file found. */
type FileRecord =
  | { readonly state: "missing" }
  | { readonly state: "live"; readonly data: SessionData }
  | { readonly state: "expired" };

const MISSING: FileRecord = { state: "missing" };

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : undefined;
}

/**
 * Leases held as lock files in `directory`, named `<prefix><key><suffix>` and holding
 * "<lease end in epoch ms> <token>". A lock file is created whole (written beside it, then
 * hard-linked into place, which fails if one exists), so nobody ever reads a half-written one.
 * A lapsed lease (its holder crashed) is removed and the lock taken again; two processes doing
 * that at the same instant could both remove it, which needs two crashes' worth of bad luck.
 */
export function lockFiles(directory: string, prefix: string, suffix: string, now: () => number): LockStore {
  const pathOf = (name: string) => join(directory, prefix + name + suffix);
  const holder = async (path: string): Promise<{ until: number; token: string } | undefined> => {
    try {
      const [until = "", token = ""] = (await readFile(path, "utf8")).split(" ");
      return { until: Number(until), token };
    } catch (error) {
      if (errorCode(error) === "ENOENT") return undefined;
      throw error;
    }
  };
  return {
    async tryAcquire(name, token, leaseMs) {
      // Only keys of a-z0-9 become paths; any other key is unknown, and this process's queue is enough.
      if (!hasKeyAlphabet(name)) return true;
      const path = pathOf(name);
      const draft = `${path}_${randomBytes(6).toString("hex")}`;
      await writeFile(draft, `${now() + leaseMs} ${token}`, { flag: "wx", mode: 0o600 });
      try {
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            await link(draft, path);
            return true;
          } catch (error) {
            if (errorCode(error) !== "EEXIST") throw error;
          }
          const held = await holder(path);
          if (held !== undefined && !(held.until <= now())) return false;
          if (held !== undefined) await unlink(path).catch(() => undefined);
        }
        return false;
      } finally {
        await unlink(draft).catch(() => undefined);
      }
    },
    async release(name, token) {
      if (!hasKeyAlphabet(name)) return;
      const path = pathOf(name);
      if ((await holder(path))?.token === token) await unlink(path).catch(() => undefined);
    },
  };
}

/** Django's file encoding is ASCII: anything else is an unreadable file. */
function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex -- the range starts at NUL on purpose: every ASCII code
  return /^[\x00-\x7f]*$/.test(text);
}

/**
 * Throws ImproperlyConfigured (naming SESSION_FILE_PATH and the path) unless `directory` exists,
 * is a directory and accepts new files. Writability is tested by creating and removing a probe.
 */
export function assertUsableDirectory(directory: string): void {
  const shown = JSON.stringify(directory);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(directory).isDirectory();
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") {
      throw new ImproperlyConfigured(`SESSION_FILE_PATH ${shown} does not exist.`);
    }
    throw new ImproperlyConfigured(`SESSION_FILE_PATH ${shown} cannot be read: ${String(error)}`);
  }
  if (!isDirectory) throw new ImproperlyConfigured(`SESSION_FILE_PATH ${shown} is not a directory.`);
  const probe = join(directory, `.session-probe-${randomBytes(8).toString("hex")}`);
  try {
    writeFileSync(probe, "", { flag: "wx", mode: 0o600 });
    unlinkSync(probe);
  } catch (error) {
    throw new ImproperlyConfigured(
      `SESSION_FILE_PATH ${shown} is not writable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

export class FileSession<T extends SessionShape<T> = SessionData> extends SessionBase<T> {
  constructor(
    sessionKey: string | null | undefined,
    context: SessionContext,
    private readonly store: FileStore,
  ) {
    super(sessionKey, context);
  }

  /**
   * The path of `key`'s file, or null when the key has characters outside a-z0-9 (Django's
   * InvalidSessionKey): such a key is never joined to the directory.
   */
  private fileFor(key: string): string | null {
    return hasKeyAlphabet(key) ? join(this.store.directory, this.store.prefix + key) : null;
  }

  /**
   * Reads `key`'s file: missing or unreadable → missing; empty → {} (no expiry check, as Django);
   * otherwise the decoded data, or "expired" when the expiry reference is reached.
   */
  private async readFileRecord(key: string): Promise<FileRecord> {
    const file = this.fileFor(key);
    if (file === null) return MISSING;
    try {
      const content = await readFile(file, "latin1");
      if (!isAscii(content)) return MISSING;
      if (content === "") return { state: "live", data: {} };
      const data = this.decode(content);
      return (await this.expiryAge(data, file)) <= 0 ? { state: "expired" } : { state: "live", data };
    } catch (error) {
      // A file that vanished before its mtime was read is a miss; anything else (an unparseable
      // `_session_expiry`) propagates, as in Django.
      if (errorCode(error) !== undefined) return MISSING;
      throw error;
    }
  }

  /**
   * Django's `get_expiry_age(expiry=_expiry_date(data))`: `_session_expiry` when truthy (a number
   * is taken as the age itself, so a positive number never expires here: Django's quirk), else
   * the file's mtime + SESSION_COOKIE_AGE, measured against the clock.
   */
  private async expiryAge(data: SessionData, file: string): Promise<number> {
    const custom = data[EXPIRY_KEY];
    if (custom) {
      if (typeof custom === "number" || typeof custom === "string") return this.getExpiryAge({ expiry: custom });
      return 1; // a truthy non-date value: Django returns it unchanged, which never counts as expired
    }
    // To the millisecond, the clock's resolution (file systems keep the stamp to the microsecond
    // at best, so a stamp of the clock's now reads back a hair early; rounding restores it).
    const mtimeMs = Number(((await stat(file, { bigint: true })).mtimeNs + 500_000n) / 1_000_000n);
    const referenceMs = mtimeMs + this.getSessionCookieAge() * 1000;
    return Math.floor((referenceMs - this.context.now()) / 1000);
  }

  override async recordExpiryDate(): Promise<Date | null> {
    const file = this.sessionKey === null ? null : this.fileFor(this.sessionKey);
    if (file === null) return null;
    const record = await this.readFileRecord(this.sessionKey!);
    if (record.state !== "live") return null;
    return new Date(this.context.now() + (await this.expiryAge(record.data, file)) * 1000);
  }

  protected async loadRecord(): Promise<LoadedRecord> {
    const key = this.sessionKey!;
    const record = await this.readFileRecord(key);
    if (record.state === "missing") return MISSING_RECORD;
    if (record.state === "live") return { data: record.data };
    // Expired: Django deletes the file and create()s a new session at once (new key, new file
    // holding {}), so the response carries a new key rather than a delete cookie.
    await this.deleteRecord(key);
    return { data: {}, key: await this.createEmptyRecord(), modified: true };
  }

  /** A new key whose file holds the encoded empty dict (Django's create() inside load()). */
  private async createEmptyRecord(): Promise<string> {
    for (;;) {
      const key = await this.newSessionKey();
      const file = this.fileFor(key)!;
      try {
        await this.reserve(file, key);
      } catch (error) {
        /* c8 ignore next 3 -- untested: a clash of two random 32-character keys cannot be made on demand */
        if (error instanceof CreateError) continue;
        throw error;
      }
      await this.replaceFile(file, this.encode({}));
      return key;
    }
  }

  async exists(key: string): Promise<boolean> {
    const file = this.fileFor(key);
    if (file === null) return false;
    try {
      await stat(file);
      return true;
    } catch {
      return false;
    }
  }

  async save(mustCreate = false): Promise<void> {
    const key = await this.keyToSave(mustCreate);
    if (key === null) return;
    const file = this.fileFor(key);
    if (file === null) {
      throw mustCreate ? new CreateError(key) : new UpdateError("Invalid characters in session key");
    }
    if (mustCreate) {
      const write = this.newRecord();
      await this.reserve(file, key);
      await this.replaceFile(file, write.text);
      this.recordWritten(write);
      return;
    }
    const own = this.ownRecord();
    this.recordWritten(
      await this.withFileLock(key, async () => {
        const current = await readFile(file, "latin1").catch((error: unknown) => {
          if (errorCode(error) === "ENOENT") return undefined;
          throw error;
        });
        await this.beforeWrite(key);
        const write: RecordWrite = this.updatedRecord(current, own);
        await this.replaceFile(file, write.text);
        return write;
      }),
    );
  }

  /** Runs `work` holding this session's file lock (see the module comment). */
  private async withFileLock<R>(key: string, work: () => Promise<R>): Promise<R> {
    const release = await this.store.writeLocks.acquire(key, WRITE_LOCK);
    if (release === null)
      throw new Error(`Timed out waiting for the lock on session file ${this.store.prefix}${key.slice(0, 8)}...`);
    try {
      return await work();
    } finally {
      await release();
    }
  }

  /** Django's must_create: the file is created empty with O_EXCL, so a taken key is a CreateError. */
  private async reserve(file: string, key: string): Promise<void> {
    try {
      await (await open(file, "wx", 0o600)).close();
    } catch (error) {
      if (errorCode(error) === "EEXIST") throw new CreateError(key);
      throw error;
    }
  }

  /**
   * Writes `encoded` to a temporary file beside `file`, stamps its mtime, and renames it over
   * `file`. Beyond Django (which logs and ignores a failed write), a failure propagates: the
   * response fails rather than acknowledge a change that was not stored.
   */
  private async replaceFile(file: string, encoded: string): Promise<void> {
    const { handle, path: temp } = await this.openTempFile(file);
    try {
      try {
        await handle.writeFile(encoded, "latin1");
        // The mtime is the expiry reference: stamp it from the session clock (Date.now() in
        // production), so the store and the clock that reads it never disagree.
        const seconds = this.context.now() / 1000;
        await handle.utimes(seconds, seconds);
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      /* c8 ignore next 4 -- untested: a failed write or rename after the merge read needs the disk or the directory to fail at that moment; a test cannot time it */
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** tempfile.mkstemp(dir=..., prefix=<file name>_out_): a new file, retried on a name clash. */
  private async openTempFile(file: string) {
    for (;;) {
      const path = `${file}_out_${randomBytes(6).toString("hex")}`;
      try {
        return { handle: await open(path, "wx", 0o600), path };
        /* c8 ignore next 3 -- untested: a clash of two random temporary names (48 bits) cannot be made on demand */
      } catch (error) {
        if (errorCode(error) !== "EEXIST") throw error;
      }
    }
  }

  /** Waits for a save of the same session to finish, so that save cannot bring the file back. */
  async deleteRecord(key: string | null = this.sessionKey): Promise<void> {
    if (key === null) return;
    const file = this.fileFor(key);
    if (file === null) return;
    await this.withFileLock(key, () => unlink(file).catch(() => undefined));
  }

  /**
   * Django's clear_expired: every file named SESSION_COOKIE_NAME + key is read as the session
   * would read it (create() disabled); expired ones are deleted. Resolves to how many were.
   */
  static async clearExpired(context: EngineContext, store: FileStore): Promise<number> {
    let removed = 0;
    for (const name of await readdir(store.directory)) {
      if (!name.startsWith(store.prefix)) continue;
      const key = name.slice(store.prefix.length);
      // Temporary files (`_out_`) and foreign names fail this check and are left alone.
      if (key.length < MIN_SESSION_KEY_LENGTH || !hasKeyAlphabet(key)) continue;
      const session = new FileSession(key, { ...context, log: silentLogger }, store);
      let record: FileRecord;
      try {
        record = await session.readFileRecord(key);
      } catch {
        continue; // e.g. an unparseable `_session_expiry`: one bad file does not stop the sweep
      }
      if (record.state !== "expired") continue;
      if (
        await unlink(join(store.directory, name)).then(
          () => true,
          () => false,
        )
      )
        removed++;
    }
    return removed;
  }
}

/**
 * The session files as a key-order store. A directory cannot be sorted in place, so each page
 * streams the directory's names (opendir: memory stays bounded) and reads only the page's files;
 * whether a file is unexpired takes reading it, as a session would, so counting reads them all.
 */
function sessionFiles(context: EngineContext, store: FileStore, keyPrefix = "", log?: SessionLogger): KeyOrderStore {
  const sessionFor = (key: string) => new FileSession(key, { ...context, log: silentLogger }, store);
  return {
    async *keys() {
      for await (const entry of await opendir(store.directory)) {
        if (!entry.name.startsWith(store.prefix + keyPrefix)) continue;
        const key = entry.name.slice(store.prefix.length);
        // Temporary files (`_out_`) and foreign names fail this check and are left alone.
        if (key.length >= MIN_SESSION_KEY_LENGTH && hasKeyAlphabet(key)) yield key;
      }
    },
    async read(key) {
      let content: string;
      let expiresAt: Date | null;
      try {
        content = await readFile(join(store.directory, store.prefix + key), "latin1");
        expiresAt = await sessionFor(key).recordExpiryDate();
        /* c8 ignore next 3 -- untested: the file removed between the directory walk and its read is a race a test cannot time */
      } catch {
        return null; // removed meanwhile, or an unreadable `_session_expiry`
      }
      if (expiresAt === null) return null; // expired
      const data = content === "" ? {} : decodeStored(context.signer, content, log, key);
      return { key, data, expiresAt, size: Buffer.byteLength(content, "latin1") };
    },
    live: async (key) =>
      (await sessionFor(key)
        .recordExpiryDate()
        .catch(() => null)) !== null,
  };
}

export function fileEngine(context: EngineContext, { directory }: FileEngineOptions): SessionEngine {
  assertUsableDirectory(directory);
  const prefix = context.settings.SESSION_COOKIE_NAME;
  // Leases are wall-clock times shared with other processes, whatever clock the sessions use.
  const store: FileStore = {
    directory,
    prefix,
    writeLocks: new SessionLocks(lockFiles(directory, prefix, ".lock", Date.now)),
  };
  const cursors = new CursorCodec(context.settings.SECRET_KEY);
  const valid = (keyPrefix = "") => keyPrefix === "" || hasKeyAlphabet(keyPrefix);
  return defineEngine("file", context, (key, ctx) => new FileSession(key, ctx, store), {
    clearExpired: () => FileSession.clearExpired(context, store),
    async *listSessions(options = {}) {
      if (valid(options.keyPrefix))
        yield* listInKeyOrder(sessionFiles(context, store, options.keyPrefix, options.log), cursors, options);
    },
    countSessions: async (options = {}) =>
      valid(options.keyPrefix) ? countInKeyOrder(sessionFiles(context, store, options.keyPrefix), cursors, options) : 0,
    listOrder: "key",
    mergesSaves: true,
    lockStore: lockFiles(directory, prefix, ".request", Date.now),
    async readRecord(key) {
      if (!isStorableKey(key)) return { kind: "unusable-key" };
      const path = join(directory, prefix + key);
      try {
        const [contents, info] = await Promise.all([readFile(path, "latin1"), stat(path)]);
        return { kind: "file", path, contents, modified: info.mtime, salt: STORED_DATA_SALT };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        return { kind: "file", path, contents: null, modified: null, salt: STORED_DATA_SALT };
      }
    },
  });
}
