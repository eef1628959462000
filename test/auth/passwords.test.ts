/** Django-compatible scrypt password hashing (Django's ScryptPasswordHasher). */
import assert from "node:assert/strict";
import { scryptSync } from "node:crypto";
import { test } from "node:test";
import { hashPassword, verifyPassword } from "../../src/auth/passwords.js";
import { loadConfig } from "../../src/config.js";

/** Django: "%s$%d$%s$%d$%d$%s" % ("scrypt", n, salt, r, p, base64(hash)). */
const FORMAT = /^scrypt\$16384\$([A-Za-z0-9]{22})\$8\$5\$([A-Za-z0-9+/]{86}==)$/;

/** What Django's ScryptPasswordHasher.encode(password, salt) computes, from its documented parameters. */
function djangoEncode(password: string, salt: string): string {
  const n = 2 ** 14;
  const r = 8;
  const p = 5;
  const key = scryptSync(Buffer.from(password, "utf8"), Buffer.from(salt, "utf8"), 64, {
    N: n,
    r,
    p,
    maxmem: 128 * n * r * p * 2,
  });
  return `scrypt$${n}$${salt}$${r}$${p}$${key.toString("base64")}`;
}

test("a hashed password verifies; a wrong one does not", async () => {
  const encoded = await hashPassword("correct horse battery staple");
  assert.equal(await verifyPassword("correct horse battery staple", encoded), true);
  assert.equal(await verifyPassword("correct horse battery stapl", encoded), false);
  assert.equal(await verifyPassword("", encoded), false);
});

test("the format and parameters are Django's", async () => {
  const encoded = await hashPassword("s3cret");
  const match = FORMAT.exec(encoded);
  assert.ok(match, `unexpected format: ${encoded}`);
  assert.equal(Buffer.from(match[2] ?? "", "base64").length, 64);
  // The salt and parameters in the string reproduce the hash.
  assert.equal(djangoEncode("s3cret", match[1] ?? ""), encoded);
});

test("two hashes of one password differ (fresh salt each time)", async () => {
  const [a, b] = await Promise.all([hashPassword("same"), hashPassword("same")]);
  assert.notEqual(a, b);
  assert.notEqual(a.split("$")[2], b.split("$")[2]);
  assert.equal(await verifyPassword("same", a), true);
  assert.equal(await verifyPassword("same", b), true);
});

test("a hash computed the way Django computes it verifies", async () => {
  // Fixed salt as Django's get_random_string(22) would produce; non-ASCII password too.
  const salt = "aB3dE5gH7jK9mN1pQ3sT5v";
  for (const password of ["hunter2", "pässwörd ✓", "x".repeat(200)]) {
    const encoded = djangoEncode(password, salt);
    assert.match(encoded, FORMAT);
    assert.equal(await verifyPassword(password, encoded), true);
    assert.equal(await verifyPassword(password + "!", encoded), false);
  }
});

test("malformed or unknown hashes are false, never an exception", async () => {
  const good = djangoEncode("pw", "aB3dE5gH7jK9mN1pQ3sT5v");
  const parts = good.split("$");
  const withPart = (i: number, value: string) => parts.map((part, j) => (j === i ? value : part)).join("$");
  const bad = [
    "",
    "scrypt",
    "pw",
    "!unusable",
    "pbkdf2_sha256$870000$salt$aGFzaA==",
    "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
    good.replace(/^scrypt/, "bcrypt"),
    good + "$extra",
    parts.slice(0, 5).join("$"),
    withPart(1, "abc"),
    withPart(1, "1000"), // not a power of two
    withPart(1, "0"),
    withPart(1, "-16384"),
    withPart(1, String(2 ** 30)), // would need gigabytes
    withPart(2, ""),
    withPart(3, "x"),
    withPart(3, "1024"),
    withPart(4, "0"),
    withPart(5, ""),
    withPart(5, "not base64!"),
    withPart(5, Buffer.alloc(32).toString("base64")), // wrong length
  ];
  for (const encoded of bad) {
    assert.equal(await verifyPassword("pw", encoded), false, `should be false: ${encoded}`);
  }
  // Wrong types from untyped callers.
  assert.equal(await verifyPassword("pw", null as unknown as string), false);
  assert.equal(await verifyPassword(undefined as unknown as string, good), false);
  // The unmodified hash still verifies, so the cases above fail for the right reason.
  assert.equal(await verifyPassword("pw", good), true);
});

test('the "fast" hasher (tests only) writes the same format at n=16, r=1, p=1, and verifies like any other', async () => {
  const encoded = await hashPassword("s3cret", "fast");
  assert.match(encoded, /^scrypt\$16\$[A-Za-z0-9]{22}\$1\$1\$[A-Za-z0-9+/]{86}==$/);
  assert.equal(await verifyPassword("s3cret", encoded), true);
  assert.equal(await verifyPassword("s3cret!", encoded), false);
});

test("PASSWORD_HASHER: scrypt by default, fast on request, refused in production, anything else one line", () => {
  const base = { SECRET_KEY: "a-real-production-secret-key-of-48-characters-xx" };
  assert.equal(loadConfig(base).passwordHasher, "scrypt");
  assert.equal(loadConfig({ ...base, PASSWORD_HASHER: "fast" }).passwordHasher, "fast");
  assert.equal(loadConfig({ ...base, NODE_ENV: "production" }).passwordHasher, "scrypt");
  assert.throws(
    () => loadConfig({ ...base, NODE_ENV: "production", PASSWORD_HASHER: "fast" }),
    /PASSWORD_HASHER=fast is for tests only/,
  );
  assert.throws(() => loadConfig({ ...base, PASSWORD_HASHER: "md5" }), /PASSWORD_HASHER must be scrypt or fast/);
});
