/**
 * `npm run createuser` against a real SQLite file: its main() in-process, and the real entry
 * point as a child process where a piped stdin or the exit status is the subject.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import SQLite from "better-sqlite3";
import { verifyPassword } from "../../src/auth/passwords.js";
import { passwordProblems } from "../../src/auth/password-rules.js";
import { main } from "../../src/cli/createuser.js";
import { entryArgs } from "../processes.js";
import { runInProcess } from "./in-process.js";

/** Passes the password rules (the change-password form's). */
const STRONG = "pass word 1";

const dir = mkdtempSync(join(tmpdir(), "createuser-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function freshDatabase(): string {
  return join(dir, `db-${++counter}.sqlite3`);
}

interface Run {
  password?: string;
  input?: string;
  /** PASSWORD_HASHER; the cheap one unless the hash is the subject. */
  hasher?: "scrypt" | "fast";
}

function commandEnv(databasePath: string, { password, hasher = "fast" }: Run): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: "",
    REDIS_URL: "",
    DATABASE_PATH: databasePath,
    PASSWORD_HASHER: hasher,
  };
  delete env.CREATEUSER_PASSWORD;
  if (password !== undefined) env.CREATEUSER_PASSWORD = password;
  return env;
}

/** The command's main() in this process, stdin given as `input`. */
const createuser = (databasePath: string, args: string[], run: Run = {}) =>
  runInProcess(main, args, commandEnv(databasePath, run), run.input ?? "");

/** `node --import tsx src/cli/createuser.ts ARGS` (or its compiled file: entryArgs), as `npm run createuser` starts it, stdin piped. */
function createuserProcess(databasePath: string, args: string[], run: Run = {}) {
  const env = commandEnv(databasePath, run);
  const input = run.input;
  const result = spawnSync(process.execPath, [...entryArgs("src/cli/createuser.ts"), ...args], {
    encoding: "utf8",
    env,
    input: input ?? "",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface UserRow {
  username: string;
  password: string;
  is_staff: number;
  last_login: string | null;
  date_joined: string;
}

function users(databasePath: string): UserRow[] {
  const db = new SQLite(databasePath, { readonly: true });
  try {
    return db
      .prepare("select username, password, is_staff, last_login, date_joined from users order by id")
      .all() as UserRow[];
  } finally {
    db.close();
  }
}

function assertOneLineError(result: { status: number | null; stderr: string }, pattern: RegExp, status = 1) {
  assert.equal(result.status, status, result.stderr);
  assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

test("--noinput creates the user on a fresh database with CREATEUSER_PASSWORD", async () => {
  const path = freshDatabase();
  // Django's own hasher here: the stored hash is the subject.
  const result = await createuser(path, ["alice", "--noinput"], { password: "s3cret pass", hasher: "scrypt" });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "Created user alice\n");
  const rows = users(path);
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.ok(row);
  assert.equal(row.username, "alice");
  assert.equal(row.is_staff, 0);
  assert.equal(row.last_login, null);
  assert.ok(row.date_joined);
  assert.match(row.password, /^scrypt\$16384\$[A-Za-z0-9]{22}\$8\$5\$/);
  assert.equal(await verifyPassword("s3cret pass", row.password), true);
  assert.equal(await verifyPassword("wrong", row.password), false);
});

test("--staff sets is_staff 1", async () => {
  const path = freshDatabase();
  const result = await createuser(path, ["--staff", "boss@example.com", "--noinput"], { password: STRONG });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, "Created user boss@example.com (staff)\n");
  assert.deepEqual(
    users(path).map((u) => [u.username, u.is_staff]),
    [["boss@example.com", 1]],
  );
});

test("a taken username exits 1 with one line and adds nothing", async () => {
  const path = freshDatabase();
  assert.equal((await createuser(path, ["carol", "--noinput"], { password: STRONG })).status, 0);
  const again = await createuser(path, ["carol", "--noinput", "--staff"], { password: "another strong one" });
  assertOneLineError(again, /^error: the username carol is already taken$/m);
  assert.equal(again.stdout, "");
  assert.equal(users(path).length, 1);
});

test("--noinput without CREATEUSER_PASSWORD exits 1 with one line", async () => {
  const path = freshDatabase();
  assertOneLineError(await createuser(path, ["dave", "--noinput"]), /CREATEUSER_PASSWORD/);
  assertOneLineError(await createuser(path, ["dave", "--noinput"], { password: "" }), /blank password/i);
  assert.deepEqual(users(path), []);
});

test("a bad username exits 1 with one line", async () => {
  const path = freshDatabase();
  for (const name of ["has space", "semi;colon", "x".repeat(151), "slash/name", ""]) {
    assertOneLineError(await createuser(path, [name, "--noinput"], { password: STRONG }), /invalid username/);
  }
  // 150 characters of the allowed set is fine.
  const longest = "a.b@c+d-e_" + "z".repeat(140);
  assert.equal((await createuser(path, [longest, "--noinput"], { password: STRONG })).status, 0);
  assert.deepEqual(
    users(path).map((u) => u.username),
    [longest],
  );
});

test("the real command: interactive mode reads the password twice from a piped stdin", async () => {
  const path = freshDatabase();
  const ok = createuserProcess(path, ["erin"], { input: "open sesame\nopen sesame\n" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /Created user erin\n$/);
  const [row] = users(path);
  assert.ok(row);
  assert.equal(await verifyPassword("open sesame", row.password), true);
});

test("interactive mode refuses mismatched, blank or missing passwords", async () => {
  const path = freshDatabase();
  assertOneLineError(await createuser(path, ["frank"], { input: "one\ntwo\n" }), /didn't match/);
  assertOneLineError(await createuser(path, ["frank"], { input: "\n\n" }), /blank password/i);
  assertOneLineError(await createuser(path, ["frank"], { input: "only-one\n" }), /two lines/);
  assert.deepEqual(users(path), []);
});

test("a password the change-password form would refuse is refused with the form's messages, and nothing is added", async () => {
  const path = freshDatabase();
  for (const [name, password] of [
    ["gus", "abc"],
    ["gus", "12345678901"],
    ["gustavo123", "GUSTAVO123"],
  ] as const) {
    const expected = passwordProblems(password, name);
    assert.ok(expected.length > 0, `${password} breaks a rule`);
    const refused = await createuser(path, [name, "--noinput"], { password });
    assertOneLineError(refused, /^error: password refused: /m);
    for (const problem of expected) assert.ok(refused.stderr.includes(problem), `${refused.stderr} names: ${problem}`);
  }
  // Interactive mode checks the same rules after the two entries match.
  assertOneLineError(
    await createuser(path, ["gus"], { input: "short\nshort\n" }),
    /too short\. It must contain at least 8 characters\./,
  );
  assert.deepEqual(users(path), []);
  // Exactly the minimum length is enough.
  assert.equal((await createuser(path, ["gus", "--noinput"], { password: "abcdefgh" })).status, 0);
  assert.deepEqual(
    users(path).map((u) => u.username),
    ["gus"],
  );
});

test("--help prints usage and exits 0; bad invocations exit 2 with one line", async () => {
  const path = freshDatabase();
  const help = await createuser(path, ["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: npm run createuser -- NAME \[--staff\] \[--noinput\]/);
  assert.match(help.stdout, /CREATEUSER_PASSWORD/);
  assertOneLineError(await createuser(path, []), /missing NAME/, 2);
  assertOneLineError(await createuser(path, ["gina", "hank"]), /unexpected argument "hank"/, 2);
});

test("the real command: a bad invocation exits 2 with one line", () => {
  assertOneLineError(createuserProcess(freshDatabase(), ["gina", "--admin"]), /unknown option "--admin"/, 2);
});
