// Django's signing format (docs/django-sessions.md#the-signing-format) checked against values produced by a real Django.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inflateSync } from "node:zlib";
import { BadSignature, NotSerializableError, SignatureExpired, TimestampSigner } from "../src/index.js";
import { dumps, loads } from "../src/json.js";
import { STORED_DATA_SALT } from "../src/session-base.js";
import { b62Decode, b62Encode, saltedHmac } from "../src/signing.js";
import { djangoVectors } from "../../../test/fixtures/django-vectors.js";
import { dbFixture, recordingLogger } from "../../../test/helpers.js";

const vectors = djangoVectors;

const SIGNED_COOKIE_SALT = "django.contrib.sessions.backends.signed_cookies";
const AUTH_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

function signerAt(secret: string, salt: string, epochSeconds: number, fallbacks: string[] = []): TimestampSigner {
  return new TimestampSigner({ secret, salt, fallbacks, now: () => epochSeconds * 1000 });
}

test("the vectors file holds the expected cases", () => {
  assert.equal(vectors.secret_key, "vector-secret-key-0123456789abcdef");
  assert.equal(vectors.vectors.length, 18);
  assert.equal(vectors.tampered_examples.length, 3);
  assert.equal(vectors.session_auth_hash.length, 2);
});

test("the stored-data salt is Django's key_salt for SessionStore", () => {
  assert.equal(STORED_DATA_SALT, "django.contrib.sessions.SessionStore");
});

describe("Django vectors: stored session data (salt django.contrib.sessions.SessionStore)", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    const label = `#${i} ${JSON.stringify(vector.data).slice(0, 40)} at ${vector.timestamp}`;
    test(`encodes ${label} byte for byte`, () => {
      const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
      assert.equal(signer.signObject(vector.data), vector.db_session_data);
    });
    test(`decodes ${label}`, () => {
      const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
      assert.deepEqual(signer.unsignObject(vector.db_session_data), vector.data);
    });
  }
});

describe("Django vectors: signed cookie values (salt django.contrib.sessions.backends.signed_cookies)", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    const label = `#${i} ${JSON.stringify(vector.data).slice(0, 40)} at ${vector.timestamp}`;
    test(`encodes ${label} byte for byte`, () => {
      const signer = signerAt(vectors.secret_key, SIGNED_COOKIE_SALT, vector.timestamp);
      assert.equal(signer.signObject(vector.data), vector.signed_cookie_value);
    });
    test(`decodes ${label}`, () => {
      const signer = signerAt(vectors.secret_key, SIGNED_COOKIE_SALT, vector.timestamp);
      assert.deepEqual(signer.unsignObject(vector.signed_cookie_value), vector.data);
    });
  }
});

test("a salt cannot read the other salt's value", () => {
  const vector = vectors.vectors[1]!;
  const stored = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
  assert.throws(() => stored.unsignObject(vector.signed_cookie_value), BadSignature);
});

describe("SessionBase.encode/decode reproduce the stored vectors through the db engine", () => {
  for (const [i, vector] of vectors.vectors.entries()) {
    test(`vector #${i}`, async () => {
      const fixture = await dbFixture({ SECRET_KEY: vectors.secret_key });
      fixture.clock.ms = vector.timestamp * 1000;
      const session = fixture.engine.open(null);
      assert.deepEqual(session.decode(vector.db_session_data), vector.data);
      assert.equal(session.encode(vector.data), vector.db_session_data);
      // encode/decode do not touch the session's own state.
      assert.equal(session.accessed, false);
      assert.equal(session.modified, false);
    });
  }
});

test("compressed vectors: our payload inflates to exactly Django's JSON bytes", () => {
  const compressed = vectors.vectors.filter((v) => v.db_session_data.startsWith("."));
  assert.ok(compressed.length >= 2);
  for (const vector of compressed) {
    const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
    const ours = signer.signObject(vector.data);
    assert.ok(ours.startsWith("."), "compressed like Django");
    const json = (signed: string) =>
      inflateSync(Buffer.from(signed.slice(1).split(":")[0]!, "base64url")).toString("latin1");
    assert.equal(json(ours), json(vector.db_session_data));
  }
});

describe("the signing format, step by step", () => {
  const secret = "test-secret-key-123";
  const at1xUwQK = 1795311080; // base 62 "1xUwQK"

  test('{"a":"b"} at 1xUwQK', () => {
    const signer = signerAt(secret, STORED_DATA_SALT, at1xUwQK);
    const expected = "eyJhIjoiYiJ9:1xUwQK:n28o2dt-R0sNkqz4Lb_mCrEZ15DTxP7hO0SmckEKm1k";
    assert.equal(signer.signObject({ a: "b" }), expected);
    assert.deepEqual(signer.unsignObject(expected), { a: "b" });
  });

  test("a compressible value is zlib-compressed and prefixed with a dot", () => {
    const signer = signerAt(secret, STORED_DATA_SALT, at1xUwQK);
    const signed = signer.signObject({ a: "b".repeat(200) });
    assert.ok(signed.startsWith(".eJyrVkpUslJKGiZAqRYA3O5OrA:1xUwQK:"), signed);
    assert.deepEqual(signer.unsignObject(signed), { a: "b".repeat(200) });
  });

  test("payloads are unpadded URL-safe base64: {} -> e30, {foo:bar} -> eyJmb28iOiJiYXIifQ", () => {
    const signer = signerAt(secret, STORED_DATA_SALT, at1xUwQK);
    assert.ok(signer.signObject({}).startsWith("e30:1xUwQK:"));
    assert.ok(signer.signObject({ foo: "bar" }).startsWith("eyJmb28iOiJiYXIifQ:1xUwQK:"));
  });

  test("the signature is 43 characters of unpadded URL-safe base64", () => {
    const signed = signerAt(secret, STORED_DATA_SALT, at1xUwQK).signObject({ x: 1 });
    const signature = signed.slice(signed.lastIndexOf(":") + 1);
    assert.match(signature, /^[A-Za-z0-9_-]{43}$/);
  });

  test("compression is not used when it does not save at least 2 bytes", () => {
    const signed = signerAt(secret, STORED_DATA_SALT, at1xUwQK).signObject({ a: "bb" });
    assert.ok(!signed.startsWith("."), signed);
    assert.deepEqual(loads(Buffer.from(signed.split(":")[0]!, "base64url").toString("latin1")), { a: "bb" });
  });
});

describe("SessionBase.decode failures", () => {
  for (const tampered of vectors.tampered_examples) {
    test(`tampered ${JSON.stringify(tampered)} decodes to {} and logs "Session data corrupted"`, async () => {
      const fixture = await dbFixture({ SECRET_KEY: vectors.secret_key });
      fixture.clock.ms = 1795313222 * 1000;
      const logger = recordingLogger();
      const session = fixture.engine.open(null, logger);
      assert.deepEqual(session.decode(tampered), {});
      assert.deepEqual(logger.errors, []);
      assert.equal(logger.warnings.length, 1);
      const entry = logger.warnings[0]!;
      assert.equal(entry.msg, "Session data corrupted");
      assert.equal(entry.obj.logger, "django.security.SuspiciousSession");
      assert.equal(session.modified, false);
      assert.equal(session.sessionKey, null);
    });
  }

  test("the untampered original of the first tampered example does decode (the tamper is what fails)", async () => {
    const fixture = await dbFixture({ SECRET_KEY: vectors.secret_key });
    const logger = recordingLogger();
    const session = fixture.engine.open(null, logger);
    assert.deepEqual(session.decode(vectors.vectors[1]!.db_session_data), { a: "b" });
    assert.deepEqual([...logger.warnings, ...logger.errors], []);
  });

  test("data signed with another SECRET_KEY reads as {} with the warning", async () => {
    const fixture = await dbFixture({ SECRET_KEY: "some-other-secret" });
    const logger = recordingLogger();
    const session = fixture.engine.open(null, logger);
    assert.deepEqual(session.decode(vectors.vectors[2]!.db_session_data), {});
    assert.deepEqual(
      logger.warnings.map((e) => e.msg),
      ["Session data corrupted"],
    );
    assert.deepEqual(logger.errors, []);
  });

  test("a valid signature over an unreadable payload reads as {} silently", async () => {
    const fixture = await dbFixture({ SECRET_KEY: vectors.secret_key });
    const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, 1795313222);
    const logger = recordingLogger();
    const session = fixture.engine.open(null, logger);
    const notJson = signer.sign(Buffer.from("{not json", "latin1").toString("base64url"));
    const badZlib = signer.sign("." + Buffer.from("definitely not zlib").toString("base64url"));
    assert.deepEqual(session.decode(notJson), {});
    assert.deepEqual(session.decode(badZlib), {});
    assert.deepEqual([...logger.warnings, ...logger.errors], []);
  });
});

describe("SECRET_KEY_FALLBACKS", () => {
  const vector = vectors.vectors[3]!;

  test("a value signed with a fallback key verifies", () => {
    const signer = signerAt("the-new-secret", STORED_DATA_SALT, vector.timestamp, [
      "unrelated-old-secret",
      vectors.secret_key,
    ]);
    assert.deepEqual(signer.unsignObject(vector.db_session_data), vector.data);
  });

  test("without the fallback the same value is rejected", () => {
    const signer = signerAt("the-new-secret", STORED_DATA_SALT, vector.timestamp, ["unrelated-old-secret"]);
    assert.throws(() => signer.unsignObject(vector.db_session_data), BadSignature);
  });

  test("new signatures use SECRET_KEY, never a fallback", () => {
    const withFallback = signerAt("the-new-secret", STORED_DATA_SALT, vector.timestamp, [vectors.secret_key]);
    const plain = signerAt("the-new-secret", STORED_DATA_SALT, vector.timestamp);
    const signed = withFallback.signObject(vector.data);
    assert.notEqual(signed, vector.db_session_data);
    assert.equal(signed, plain.signObject(vector.data));
    assert.deepEqual(plain.unsignObject(signed), vector.data);
  });

  test("the db engine decodes fallback-signed data and re-signs it with SECRET_KEY", async () => {
    const fixture = await dbFixture({ SECRET_KEY: "the-new-secret", SECRET_KEY_FALLBACKS: [vectors.secret_key] });
    fixture.clock.ms = vector.timestamp * 1000;
    const logger = recordingLogger();
    const session = fixture.engine.open(null, logger);
    assert.deepEqual(session.decode(vector.db_session_data), vector.data);
    assert.deepEqual([...logger.warnings, ...logger.errors], []);
    const reencoded = session.encode(vector.data);
    assert.equal(reencoded, signerAt("the-new-secret", STORED_DATA_SALT, vector.timestamp).signObject(vector.data));
  });
});

describe("max_age", () => {
  const vector = vectors.vectors[1]!;

  test("a signature older than max_age raises SignatureExpired (a BadSignature)", () => {
    const signer = signerAt(vectors.secret_key, SIGNED_COOKIE_SALT, vector.timestamp + 1209601);
    assert.throws(() => signer.unsignObject(vector.signed_cookie_value, 1209600), SignatureExpired);
    assert.throws(() => signer.unsignObject(vector.signed_cookie_value, 1209600), BadSignature);
  });

  test("a signature exactly max_age old is still accepted", () => {
    const signer = signerAt(vectors.secret_key, SIGNED_COOKIE_SALT, vector.timestamp + 1209600);
    assert.deepEqual(signer.unsignObject(vector.signed_cookie_value, 1209600), vector.data);
  });

  test("without max_age an old signature is accepted (stored data has no age check)", () => {
    const signer = signerAt(vectors.secret_key, SIGNED_COOKIE_SALT, vector.timestamp + 10 * 365 * 86400);
    assert.deepEqual(signer.unsignObject(vector.signed_cookie_value), vector.data);
  });

  test("unsign returns the value without its timestamp", () => {
    const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
    assert.equal(signer.unsign(vector.db_session_data), "eyJhIjoiYiJ9");
    assert.equal(signer.unsign(vector.db_session_data, 0), "eyJhIjoiYiJ9");
  });

  test("a value without a colon is a BadSignature", () => {
    const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, vector.timestamp);
    assert.throws(() => signer.unsign("no-colon-at-all"), BadSignature);
  });
});

describe("session auth hash (Django's get_session_auth_hash)", () => {
  for (const { password_hash, hex } of vectors.session_auth_hash) {
    test(`saltedHmac of ${password_hash}`, () => {
      assert.equal(saltedHmac(AUTH_HASH_SALT, password_hash, vectors.secret_key).toString("hex"), hex);
    });
  }

  test("a different secret gives a different hash", () => {
    const { password_hash, hex } = vectors.session_auth_hash[0]!;
    assert.notEqual(saltedHmac(AUTH_HASH_SALT, password_hash, "another-secret").toString("hex"), hex);
  });
});

describe("base 62", () => {
  test("known values", () => {
    assert.equal(b62Encode(0), "0");
    assert.equal(b62Encode(9), "9");
    assert.equal(b62Encode(10), "A");
    assert.equal(b62Encode(36), "a");
    assert.equal(b62Encode(61), "z");
    assert.equal(b62Encode(62), "10");
    assert.equal(b62Encode(1795311080), "1xUwQK");
    assert.equal(b62Encode(1795313222), "1xUwys");
    assert.equal(b62Encode(1700000000), "1r31eq");
    assert.equal(b62Encode(-62), "-10");
    assert.equal(b62Decode("1xUwQK"), 1795311080);
    assert.equal(b62Decode("1r31eq"), 1700000000);
    assert.equal(b62Decode("-10"), -62);
    assert.equal(b62Decode("0"), 0);
  });

  test("round trips", () => {
    const values = [1, 61, 62, 63, 3843, 3844, 238327, 2 ** 31 - 1, 2 ** 32, 4102444800, Number.MAX_SAFE_INTEGER];
    for (const n of values) {
      assert.equal(b62Decode(b62Encode(n)), n, String(n));
      assert.equal(b62Decode(b62Encode(-n)), -n, String(-n));
    }
    for (const s of ["1", "z", "Zz", "10", "zzzzzz", "1xUwys"]) assert.equal(b62Encode(b62Decode(s)), s);
  });

  test("an invalid digit is rejected", () => {
    assert.throws(() => b62Decode("ab-c"), BadSignature);
  });
});

describe("JSON serializer (Django's JSONSerializer)", () => {
  test("compact separators, insertion order", () => {
    assert.equal(
      dumps({ b: 1, a: [1, 2.5, null, true, false], c: { d: "e" } }),
      '{"b":1,"a":[1,2.5,null,true,false],"c":{"d":"e"}}',
    );
  });

  test("non-ASCII is escaped as lowercase \\uXXXX (astral characters as surrogate pairs)", () => {
    assert.equal(dumps({ s: "héllo ✓ 日本" }), '{"s":"h\\u00e9llo \\u2713 \\u65e5\\u672c"}');
    assert.equal(dumps({ é: "😀" }), '{"\\u00e9":"\\ud83d\\ude00"}');
    assert.equal(dumps({ s: "\u00ff\u0100\uabcd" }), '{"s":"\\u00ff\\u0100\\uabcd"}');
  });

  test("control characters are escaped like Python (lowercase hex, short forms)", () => {
    assert.equal(dumps({ s: '\u0001\n\t"\\' }), '{"s":"\\u0001\\n\\t\\"\\\\"}');
  });

  test("DEL (U+007F) is escaped as \\u007f like Python's ensure_ascii", () => {
    // Python: json.dumps("\x7f") == '"\\u007f"' (ensure_ascii escapes everything outside ' '..'~').
    assert.equal(dumps({ s: "a\u007fb" }), '{"s":"a\\u007fb"}');
  });

  test("the output is pure ASCII", () => {
    const out = dumps({ s: "ünïcødé — ✓ 😀", k: ["日本"] });
    assert.match(out, /^[\x20-\x7e]*$/);
    assert.deepEqual(loads(out), { s: "ünïcødé — ✓ 😀", k: ["日本"] });
  });

  const notSerializable: [string, unknown][] = [
    ["undefined", undefined],
    ["a function", () => 1],
    ["a Map", new Map([["a", 1]])],
    ["a Set", new Set([1])],
    ["a Date", new Date(Date.UTC(2026, 0, 1))],
    ["a bigint", 10n],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a Buffer (bytes)", Buffer.from("hi")],
  ];
  for (const [what, value] of notSerializable) {
    test(`${what} throws NotSerializableError (a TypeError), nested or at the top`, () => {
      assert.throws(() => dumps({ v: value }), NotSerializableError);
      assert.throws(() => dumps({ deep: [{ v: value }] }), NotSerializableError);
      assert.throws(() => dumps({ v: value }), TypeError);
    });
  }

  test("undefined at the top level throws too", () => {
    assert.throws(() => dumps(undefined), NotSerializableError);
  });

  test("signObject refuses a non-serialisable value", () => {
    const signer = signerAt(vectors.secret_key, STORED_DATA_SALT, 1795313222);
    assert.throws(() => signer.signObject({ when: new Map() }), NotSerializableError);
  });
});
