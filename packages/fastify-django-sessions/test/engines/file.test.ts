// The `file` engine (docs/django-sessions.md#file): file names, key safety, exclusive create and
// forced update, atomic writes, the expiry reference (custom expiry or mtime + cookie age),
// Django's expired-load behaviour (new key) and its positive-integer quirk, clearExpired.
import assert from "node:assert/strict";
import { watch } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { assertUsableDirectory, fileEngine } from "../../src/engines/file.js";
import {
  CreateError,
  ImproperlyConfigured,
  TimestampSigner,
  UpdateError,
  type JsonObject,
  type SessionEngine,
  type SessionLogger,
  type SessionSettings,
  type SessionSettingsInput,
} from "../../src/index.js";
import { STORED_DATA_SALT } from "../../src/session-base.js";
import { recordingLogger, TestClock, testSettings } from "../../../../test/helpers.js";

// ---- fixture --------------------------------------------------------------------------------

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "sessions-file-test-"));
  roots.push(root);
  return root;
}

interface FileFixture {
  /** A temporary root; the session directory is `root/a/b` so `../..` stays inside the root. */
  root: string;
  directory: string;
  settings: SessionSettings;
  clock: TestClock;
  signer: TimestampSigner;
  engine: SessionEngine;
}

async function fileFixture(overrides: Partial<SessionSettingsInput> = {}): Promise<FileFixture> {
  const root = await tempRoot();
  const directory = join(root, "a", "b");
  await mkdir(directory, { recursive: true });
  const settings = testSettings(overrides);
  // A fixed fake clock: the engine stamps mtimes from it, so real time plays no part.
  const clock = new TestClock();
  const signer = new TimestampSigner({
    secret: settings.SECRET_KEY,
    fallbacks: settings.SECRET_KEY_FALLBACKS,
    salt: STORED_DATA_SALT,
    now: clock.now,
  });
  const engine = fileEngine({ settings, signer, now: clock.now }, { directory });
  return { root, directory, settings, clock, signer, engine };
}

/** Saves a new session holding `data` and returns its key. */
async function storedSession(fixture: FileFixture, data: JsonObject): Promise<string> {
  const session = fixture.engine.open(null);
  session.update(data);
  await session.save();
  assert.ok(session.sessionKey);
  return session.sessionKey;
}

async function opened(fixture: FileFixture, key: string | null, log?: SessionLogger) {
  const session = fixture.engine.open(key, log);
  await session.load();
  return session;
}

function sessionFile(fixture: FileFixture, key: string): string {
  return join(fixture.directory, fixture.settings.SESSION_COOKIE_NAME + key);
}

/** The data in a session file, decoded independently of the engine. */
async function fileData(fixture: FileFixture, key: string): Promise<unknown> {
  return fixture.signer.unsignObject(await readFile(sessionFile(fixture, key), "latin1"));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Sets a file's mtime to `seconds` relative to the fixture clock. */
async function setMtime(fixture: FileFixture, key: string, seconds: number): Promise<void> {
  const at = fixture.clock.now() / 1000 + seconds;
  await utimes(sessionFile(fixture, key), at, at);
}

/** Every file under `dir`, recursively, relative to it. */
async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

// ---- the directory ---------------------------------------------------------------------------

describe("SESSION_FILE_PATH checks (assertUsableDirectory)", () => {
  test("a writable directory passes and the probe file is removed", async () => {
    const root = await tempRoot();
    assertUsableDirectory(root);
    assert.deepEqual(await readdir(root), []);
  });

  test("a missing directory: ImproperlyConfigured naming SESSION_FILE_PATH and the path", async () => {
    const missing = join(await tempRoot(), "nope");
    assert.throws(
      () => assertUsableDirectory(missing),
      (error: unknown) =>
        error instanceof ImproperlyConfigured &&
        error.message.includes("SESSION_FILE_PATH") &&
        error.message.includes(missing) &&
        /does not exist/.test(error.message),
    );
  });

  test("a regular file is not a directory", async () => {
    const file = join(await tempRoot(), "plain.txt");
    await writeFile(file, "x");
    assert.throws(
      () => assertUsableDirectory(file),
      (error: unknown) =>
        error instanceof ImproperlyConfigured &&
        error.message.includes("SESSION_FILE_PATH") &&
        error.message.includes(file) &&
        /not a directory/.test(error.message),
    );
  });

  test("a directory that refuses new files is not writable", async (t) => {
    let directory: string;
    if (process.getuid?.() !== 0) {
      directory = await tempRoot();
      await chmod(directory, 0o500);
      t.after(() => chmod(directory, 0o700));
    } else if (await exists("/proc/self")) {
      directory = "/proc"; // root ignores permission bits, but nothing can be created in procfs
    } else {
      t.skip("running as root without /proc: no unwritable directory to test with");
      return;
    }
    assert.throws(
      () => assertUsableDirectory(directory),
      (error: unknown) =>
        error instanceof ImproperlyConfigured &&
        error.message.includes("SESSION_FILE_PATH") &&
        error.message.includes(directory) &&
        /not writable/.test(error.message),
    );
  });

  test("fileEngine checks its directory when it is built", async () => {
    const missing = join(await tempRoot(), "nope");
    const settings = testSettings();
    const signer = new TimestampSigner({ secret: settings.SECRET_KEY, salt: STORED_DATA_SALT });
    assert.throws(() => fileEngine({ settings, signer, now: Date.now }, { directory: missing }), ImproperlyConfigured);
  });

  test("the engine is named file and has no connections to close", async () => {
    const { engine } = await fileFixture();
    assert.equal(engine.name, "file");
    await engine.close();
  });
});

// ---- file names and key safety ---------------------------------------------------------------

const TWO_WEEKS_SECONDS = 1_209_600;

describe("file names and key safety", () => {
  test("the file is SESSION_COOKIE_NAME + key and holds the signed data (stored-data salt)", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: "b" });
    assert.match(key, /^[a-z0-9]{32}$/);
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${key}`]);
    assert.deepEqual(await fileData(fixture, key), { a: "b" });
  });

  test("a keyed session must be loaded first: reading a file is I/O", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: "b" });
    const session = fixture.engine.open(key);
    assert.equal(session.isLoaded, false);
    await session.load();
    assert.equal(session.isLoaded, true);
    assert.equal(session.get("a"), "b");
  });

  test("a failed write propagates and leaves no temporary file; so does a directory that is gone", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: "b" });
    const session = await opened(fixture, key);
    // The session's file replaced by a directory: the rename over it fails.
    await rm(sessionFile(fixture, key));
    await mkdir(join(sessionFile(fixture, key), "inside"), { recursive: true });
    session.set("a", "c");
    await assert.rejects(session.save(), (error: NodeJS.ErrnoException) => typeof error.code === "string");
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${key}`], "no temporary file left behind");

    await rm(fixture.directory, { recursive: true });
    const fresh = fixture.engine.open(null);
    fresh.set("a", 1);
    await assert.rejects(fresh.save(), { code: "ENOENT" });
  });

  test("a truthy _session_expiry that is no date never counts as expired (as Django)", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { _session_expiry: true, a: 1 });
    fixture.clock.advance(10 * TWO_WEEKS_SECONDS);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    assert.equal((await fixture.engine.open(key).recordExpiryDate())?.getTime(), fixture.clock.now() + 1000);
  });

  test("another cookie name is another prefix", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_NAME: "my.sess" });
    const key = await storedSession(fixture, { a: 1 });
    assert.deepEqual(await readdir(fixture.directory), [`my.sess${key}`]);
    assert.equal((await opened(fixture, key)).get("a"), 1);
  });

  test("a file written by Django (same SECRET_KEY) loads", async () => {
    const fixture = await fileFixture({ SECRET_KEY: "vector-secret-key-0123456789abcdef" });
    const key = "djangowrittenfile000000000000000";
    await writeFile(
      sessionFile(fixture, key),
      "eyJjYXJ0IjpbImFwcGxlIiwiYmFuYW5hIl0sInZpc2l0cyI6NDJ9:1xUwys:VQXhTaE9ziyYYOlPr9oo1rwRQcRAQ0G1UpPolBP1jMs",
    );
    const session = await opened(fixture, key);
    assert.deepEqual(Object.fromEntries(session.items()), { cart: ["apple", "banana"], visits: 42 });
    assert.equal(session.sessionKey, key);
  });

  // Each key is paired with the file a naive join(directory, prefix + key) would reach. A valid
  // session is planted there: the engine must neither read, report, delete nor write it.
  const TRICKS = [
    "../../etc/passwd",
    "x/../../outside0",
    "abcdefgh/../../../escaped",
    "ABCDEFGH12345678",
    "Abcdefgh12345678",
    "abc.def.ghi",
    "abcdefgh..",
    "abcd efgh",
    "abcdefgh-12345",
    "abcdefgh_out_123",
    "abcdefgh\\..\\..\\x",
    "abcdéfgh12",
  ];

  for (const trick of TRICKS) {
    test(`key ${JSON.stringify(trick)} never reaches the file system`, async () => {
      const fixture = await fileFixture();
      const naive = join(fixture.directory, fixture.settings.SESSION_COOKIE_NAME + trick);
      assert.ok(naive.startsWith(fixture.root + "/"), `test setup: ${naive} must stay in the temp root`);
      await mkdir(dirname(naive), { recursive: true });
      await writeFile(naive, fixture.signer.signObject({ planted: true }));
      const before = await allFiles(fixture.root);

      const engine = fixture.engine;
      assert.equal(await engine.open(trick).exists(trick), false);
      const session = await opened(fixture, trick);
      assert.equal(session.sessionKey, trick);
      assert.deepEqual(session.items(), []); // read as a missing session
      assert.equal(session.sessionKey, null);
      assert.equal(session.modified, false);

      await engine.open(null).deleteRecord(trick);
      await assert.rejects(engine.open(trick).save(true), CreateError);
      const unloaded = engine.open(trick);
      unloaded.clear(); // data without loading: the key is still the trick
      unloaded.set("x", 1);
      await assert.rejects(unloaded.save(), UpdateError);
      await engine.open(trick).flush();

      assert.deepEqual(await allFiles(fixture.root), before);
      assert.equal(
        await readFile(naive, "latin1")
          .then((s) => fixture.signer.unsignObject(s))
          .then(JSON.stringify),
        '{"planted":true}',
      );
    });
  }

  test("keys with a NUL byte are refused like any other bad character", async () => {
    const fixture = await fileFixture();
    const key = "abcdefgh\0ijkl";
    assert.equal(await fixture.engine.open(null).exists(key), false);
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
  });
});

// ---- save ---------------------------------------------------------------------------------

describe("save: exclusive create, forced update, atomic write", () => {
  test("save(mustCreate) on an existing file: CreateError, the file is untouched", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const before = await readFile(sessionFile(fixture, key), "latin1");
    const other = await opened(fixture, key);
    other.set("a", 2);
    await assert.rejects(other.save(true), CreateError);
    assert.equal(await readFile(sessionFile(fixture, key), "latin1"), before);
  });

  test("create() retries on a taken key and writes the current data", async () => {
    const fixture = await fileFixture();
    const session = fixture.engine.open(null);
    session.set("n", 1);
    await session.create();
    assert.ok(session.sessionKey);
    assert.equal(session.modified, true);
    assert.deepEqual(await fileData(fixture, session.sessionKey), { n: 1 });
  });

  test("save() of a record deleted meanwhile: UpdateError, no file is recreated", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    session.set("a", 2);
    await fixture.engine.open(key).deleteRecord();
    await assert.rejects(session.save(), UpdateError);
    assert.deepEqual(await readdir(fixture.directory), []);
  });

  test("save() on an unknown key without touching the data: UpdateError (Django's caveat)", async () => {
    const fixture = await fileFixture();
    const session = fixture.engine.open("unknownkey0000000000000000000000");
    await assert.rejects(session.save(), UpdateError);
    assert.deepEqual(await readdir(fixture.directory), []);
  });

  test("save() on a keyless session creates a record", async () => {
    const fixture = await fileFixture();
    const session = fixture.engine.open(null);
    session.set("a", 1);
    await session.save();
    assert.ok(session.sessionKey);
    assert.deepEqual(await fileData(fixture, session.sessionKey), { a: 1 });
  });

  test("updates replace the file by rename and leave no temporary file", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { n: 0 });
    for (let n = 1; n <= 5; n++) {
      const inode = (await stat(sessionFile(fixture, key))).ino;
      const session = await opened(fixture, key);
      session.set("n", n);
      await session.save();
      assert.notEqual((await stat(sessionFile(fixture, key))).ino, inode, "a new file was renamed over the old");
      assert.deepEqual(await fileData(fixture, key), { n });
    }
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${key}`]);
  });

  test("the temporary file is <file name>_out_<random> in the same directory", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { n: 0 });
    const seen = new Set<string>();
    const watcher = watch(fixture.directory, (_event, name) => {
      if (name) seen.add(String(name));
    });
    try {
      const session = await opened(fixture, key);
      session.set("n", 1);
      await session.save();
      const pattern = new RegExp(`^sessionid${key}_out_[a-z0-9]+$`);
      for (let i = 0; i < 100 && ![...seen].some((n) => pattern.test(n)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(
        [...seen].some((n) => pattern.test(n)),
        `temporary names seen: ${[...seen].join(", ")}`,
      );
    } finally {
      watcher.close();
    }
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${key}`]);
  });

  test("session files are private to their owner (0600)", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    assert.equal((await stat(sessionFile(fixture, key))).mode & 0o777, 0o600);
  });
});

// ---- load -----------------------------------------------------------------------------------

describe("load", () => {
  test("a missing file drops the key and creates nothing", async () => {
    const fixture = await fileFixture();
    const session = await opened(fixture, "unknownkey0000000000000000000000");
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
    assert.equal(session.modified, false);
    assert.equal(session.isEmpty(), true);
    assert.deepEqual(await readdir(fixture.directory), []);
  });

  test("a file that cannot be read (a directory) counts as missing", async () => {
    const fixture = await fileFixture();
    const key = "adirectory000000000000000000000a";
    await mkdir(sessionFile(fixture, key));
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
  });

  test("an empty file (the create placeholder) reads as {} and keeps its key", async () => {
    const fixture = await fileFixture();
    const key = "placeholder000000000000000000000";
    await writeFile(sessionFile(fixture, key), "");
    await setMtime(fixture, key, -10 * 1_209_600); // no expiry check for an empty file
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, key);
    assert.equal(session.modified, false);
    assert.equal(session.isEmpty(), false);
  });

  test("non-ASCII content is unreadable (Django reads session files as ASCII)", async () => {
    const fixture = await fileFixture();
    const key = "nonascii000000000000000000000000";
    await writeFile(sessionFile(fixture, key), "é" + fixture.signer.signObject({ a: 1 }));
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.equal(session.sessionKey, null);
  });

  test("tampered content reads as {} with a warning, and keeps its key and file", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { secret: "value" });
    const original = await readFile(sessionFile(fixture, key), "latin1");
    await writeFile(sessionFile(fixture, key), original.slice(0, -1) + (original.endsWith("A") ? "B" : "A"));
    const logger = recordingLogger();
    const session = await opened(fixture, key, logger);
    assert.deepEqual(session.items(), []);
    assert.equal(session.sessionKey, key);
    assert.equal(session.modified, false);
    assert.deepEqual(
      logger.warnings.map((w) => w.msg),
      ["Session data corrupted"],
    );
    assert.deepEqual(logger.errors, []);
    assert.equal(await exists(sessionFile(fixture, key)), true);
  });

  test("tampered content is still subject to the mtime expiry", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { secret: "value" });
    await writeFile(sessionFile(fixture, key), "garbage:1:sig");
    await setMtime(fixture, key, -60);
    const session = await opened(fixture, key);
    assert.deepEqual(session.keys(), []);
    assert.notEqual(session.sessionKey, key);
    assert.equal(await exists(sessionFile(fixture, key)), false);
  });

  test("load() alone neither accesses nor modifies", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    assert.equal(session.accessed, false);
    assert.equal(session.modified, false);
    assert.equal(session.get("a"), 1);
  });
});

// ---- expiry ---------------------------------------------------------------------------------

describe("expiry reference: _session_expiry if truthy, else mtime + SESSION_COOKIE_AGE", () => {
  test("mtime + age: alive one second before, expired at the instant", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { a: 1 });
    await setMtime(fixture, key, -59);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    await setMtime(fixture, key, -60);
    const expired = await opened(fixture, key);
    assert.equal(expired.get("a"), undefined);
    assert.notEqual(expired.sessionKey, key);
  });

  test("each write stamps the file's mtime from the session clock", async () => {
    const fixture = await fileFixture();
    fixture.clock.ms = Date.UTC(2001, 0, 2, 3, 4, 5, 678);
    const key = await storedSession(fixture, { a: 1 });
    assert.equal(Math.round((await stat(sessionFile(fixture, key))).mtimeMs), fixture.clock.ms);
    fixture.clock.advance(100);
    const session = await opened(fixture, key);
    session.set("a", 2);
    await session.save();
    assert.equal(Math.round((await stat(sessionFile(fixture, key))).mtimeMs), fixture.clock.ms);
  });

  test("an mtime with milliseconds: alive until exactly mtime + age", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    fixture.clock.ms = Date.UTC(2001, 0, 2, 3, 4, 5, 678);
    const key = await storedSession(fixture, { a: 1 });
    fixture.clock.advance(59);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    fixture.clock.ms += 999; // 59.999 s: one whole second is not left, the age floors to 0
    assert.equal((await opened(fixture, key)).get("a"), undefined);
  });

  test("the clock is what counts as now, against the stamped mtime", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { a: 1 });
    fixture.clock.advance(59);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    fixture.clock.advance(1);
    assert.equal((await opened(fixture, key)).get("a"), undefined);
  });

  test("an expired file: deleted, and a new session with a new key and a file holding {} (Django)", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    await setMtime(fixture, key, -1_209_600);
    const session = await opened(fixture, key);
    // The new key is applied at first access, like every loaded record.
    assert.equal(session.sessionKey, key);
    assert.equal(session.accessed, false);
    assert.equal(session.modified, false);
    assert.deepEqual(session.items(), []);
    const newKey = session.sessionKey;
    assert.ok(newKey);
    assert.notEqual(newKey, key);
    assert.match(newKey, /^[a-z0-9]{32}$/);
    assert.equal(session.modified, true);
    assert.equal(session.isEmpty(), false);
    assert.equal(await exists(sessionFile(fixture, key)), false);
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${newKey}`]);
    assert.deepEqual(await fileData(fixture, newKey), {});
  });

  test("saving after an expired load updates the new file (no UpdateError)", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    await setMtime(fixture, key, -1_209_600);
    const session = fixture.engine.open(key);
    await session.load();
    session.set("b", 2);
    await session.save();
    assert.notEqual(session.sessionKey, key);
    assert.deepEqual(await fileData(fixture, session.sessionKey!), { b: 2 });
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${session.sessionKey}`]);
  });

  test("a negative integer expiry is expired at once", async () => {
    const fixture = await fileFixture();
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.setExpiry(-1);
    await session.save();
    const key = session.sessionKey!;
    const again = await opened(fixture, key);
    assert.deepEqual(again.items(), []);
    assert.notEqual(again.sessionKey, key);
    assert.equal(await exists(sessionFile(fixture, key)), false);
  });

  test("quirk: a positive integer expiry never expires server-side, whatever the mtime", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.setExpiry(2);
    await session.save();
    const key = session.sessionKey!;
    fixture.clock.advance(3); // Django observed: set_expiry(2), still readable after 3 s
    assert.equal((await opened(fixture, key)).get("a"), 1);
    await setMtime(fixture, key, -100 * 1_209_600);
    fixture.clock.advance(365 * 24 * 3600);
    const later = await opened(fixture, key);
    assert.equal(later.get("a"), 1);
    assert.equal(later.sessionKey, key);
  });

  test("a fixed instant (ISO string) decides alone: future alive even with an old mtime", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.setExpiry(new Date(fixture.clock.now() + 3600_000));
    await session.save();
    const key = session.sessionKey!;
    await setMtime(fixture, key, -3600);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    fixture.clock.advance(3600);
    const expired = await opened(fixture, key);
    assert.equal(expired.get("a"), undefined);
    assert.notEqual(expired.sessionKey, key);
  });

  test("setExpiry(0) (browser close) falls back to mtime + age", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const session = fixture.engine.open(null);
    session.set("a", 1);
    session.setExpiry(0);
    await session.save();
    const key = session.sessionKey!;
    await setMtime(fixture, key, -59);
    assert.equal((await opened(fixture, key)).get("a"), 1);
    await setMtime(fixture, key, -61);
    assert.equal((await opened(fixture, key)).get("a"), undefined);
  });
});

// ---- exists, delete, flush, cycleKey -------------------------------------------------------

describe("exists, deleteRecord, flush, cycleKey", () => {
  test("exists() is whether the file exists, expired or not", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { a: 1 });
    const probe = fixture.engine.open(null);
    assert.equal(await probe.exists(key), true);
    await setMtime(fixture, key, -3600);
    assert.equal(await probe.exists(key), true);
    assert.equal(await probe.exists("unknownkey0000000000000000000000"), false);
  });

  test("deleteRecord() removes the file; a missing file is ignored; the key and data stay", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    await session.deleteRecord();
    assert.equal(await exists(sessionFile(fixture, key)), false);
    await session.deleteRecord();
    await session.deleteRecord("unknownkey0000000000000000000000");
    assert.equal(session.sessionKey, key);
    assert.equal(session.get("a"), 1);
  });

  test("flush() deletes the file and drops the key", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    await session.flush();
    assert.equal(session.sessionKey, null);
    assert.equal(session.isEmpty(), true);
    assert.equal(session.modified, true);
    assert.deepEqual(await readdir(fixture.directory), []);
  });

  test("cycleKey() writes the same data under a new key and removes the old file", async () => {
    const fixture = await fileFixture();
    const key = await storedSession(fixture, { a: 1 });
    const session = await opened(fixture, key);
    await session.cycleKey();
    const newKey = session.sessionKey!;
    assert.notEqual(newKey, key);
    assert.equal(session.get("a"), 1);
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${newKey}`]);
    assert.deepEqual(await fileData(fixture, newKey), { a: 1 });
  });
});

// ---- clearExpired ---------------------------------------------------------------------------

describe("clearExpired (clearsessions)", () => {
  test("deletes expired session files only, creates none, and counts them", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const oldA = await storedSession(fixture, { a: 1 });
    const oldB = await storedSession(fixture, { b: 1 });
    await setMtime(fixture, oldA, -60);
    await setMtime(fixture, oldB, -3600);
    const live = await storedSession(fixture, { c: 1 });
    await setMtime(fixture, live, -59);

    const negative = fixture.engine.open(null);
    negative.setExpiry(-5);
    await negative.save();
    const positive = fixture.engine.open(null);
    positive.setExpiry(5);
    await positive.save();
    await setMtime(fixture, positive.sessionKey!, -3600); // the quirk keeps it
    const pastInstant = fixture.engine.open(null);
    pastInstant.setExpiry(new Date(fixture.clock.now() + 10_000));
    await pastInstant.save();

    // Names the sweep must leave alone, however old.
    const foreign = ["other.txt", `sessionid${live}_out_abc123`, "sessionidshort", "sessionidBADKEY00000000"];
    for (const name of foreign) {
      await writeFile(join(fixture.directory, name), fixture.signer.signObject({}));
      const ancient = fixture.clock.now() / 1000 - 10 * 3600;
      await utimes(join(fixture.directory, name), ancient, ancient);
    }
    await writeFile(join(fixture.directory, "sessionidemptyfile0000000000000000"), "");

    fixture.clock.advance(11); // the fixed instant is now past; `live` is now 70 s old
    const removed = await fixture.engine.clearExpired();
    assert.equal(removed, 5); // oldA, oldB, live (now expired), negative, pastInstant
    const remaining = (await readdir(fixture.directory)).sort();
    assert.deepEqual(
      remaining,
      [...foreign, "sessionidemptyfile0000000000000000", `sessionid${positive.sessionKey}`].sort(),
    );
  });

  test("keeps files that are still alive", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const key = await storedSession(fixture, { a: 1 });
    await setMtime(fixture, key, -59);
    assert.equal(await fixture.engine.clearExpired(), 0);
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${key}`]);
  });

  test("an empty directory: 0", async () => {
    const fixture = await fileFixture();
    assert.equal(await fixture.engine.clearExpired(), 0);
  });

  test("a file with an unreadable _session_expiry is skipped, the sweep goes on", async () => {
    const fixture = await fileFixture({ SESSION_COOKIE_AGE: 60 });
    const bad = "badexpiry00000000000000000000000";
    await writeFile(sessionFile(fixture, bad), fixture.signer.signObject({ _session_expiry: "not a date" }));
    const old = await storedSession(fixture, { a: 1 });
    await setMtime(fixture, old, -60);
    assert.equal(await fixture.engine.clearExpired(), 1);
    assert.deepEqual(await readdir(fixture.directory), [`sessionid${bad}`]);
  });
});
