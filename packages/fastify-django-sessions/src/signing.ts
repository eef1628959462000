/**
 * django.core.signing, byte for byte: `<payload>:<base62 timestamp>:<signature>` where the
 * signature is HMAC-SHA256 keyed by SHA256(salt + "signer" + secret), URL-safe base64, unpadded.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { inflateSync } from "node:zlib";
import { compressionCannotPay, zlibCompress } from "./deflate.js";
import { dumps, loads, type JsonValue } from "./json.js";

export class BadSignature extends Error {
  override name = "BadSignature";
}

export class SignatureExpired extends BadSignature {
  override name = "SignatureExpired";
}

const B62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

export function b62Encode(n: number): string {
  if (n === 0) return "0";
  const sign = n < 0 ? "-" : "";
  let rest = Math.abs(Math.trunc(n));
  let out = "";
  while (rest > 0) {
    out = B62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return sign + out;
}

export function b62Decode(s: string): number {
  if (s === "0") return 0;
  let sign = 1;
  if (s.startsWith("-")) {
    sign = -1;
    s = s.slice(1);
  }
  let n = 0;
  for (const ch of s) {
    const digit = B62_ALPHABET.indexOf(ch);
    if (digit < 0) throw new BadSignature(`Invalid base62 digit ${JSON.stringify(ch)}`);
    n = n * 62 + digit;
  }
  return sign * n;
}

/** Django's salted_hmac: HMAC-SHA256 whose key is SHA256(keySalt + secret). */
export function saltedHmac(keySalt: string, value: string, secret: string): Buffer {
  const key = createHash("sha256")
    .update(keySalt + secret)
    .digest();
  return createHmac("sha256", key).update(value).digest();
}

export interface SignerOptions {
  secret: string;
  fallbacks?: readonly string[];
  salt: string;
  /** Current time in milliseconds; injectable for tests. */
  now?: () => number;
}

export class TimestampSigner {
  readonly salt: string;
  /** Derived HMAC keys: the signing key first, then each fallback (verify only). */
  private readonly keys: Buffer[];
  private readonly now: () => number;

  constructor({ secret, fallbacks = [], salt, now = Date.now }: SignerOptions) {
    if (!secret) throw new Error("A signing secret must not be empty.");
    this.salt = salt;
    this.now = now;
    this.keys = [secret, ...fallbacks].map((s) =>
      createHash("sha256")
        .update(salt + "signer" + s)
        .digest(),
    );
  }

  private signature(value: string, key: Buffer): string {
    return createHmac("sha256", key).update(value).digest("base64url");
  }

  sign(value: string): string {
    const stamped = `${value}:${b62Encode(Math.floor(this.now() / 1000))}`;
    return `${stamped}:${this.signature(stamped, this.keys[0]!)}`;
  }

  /** Returns the value with its timestamp removed; throws BadSignature or SignatureExpired. */
  unsign(signed: string, maxAgeSeconds?: number): string {
    const sep = signed.lastIndexOf(":");
    if (sep < 0) throw new BadSignature('No ":" found in value');
    const stamped = signed.slice(0, sep);
    const given = Buffer.from(signed.slice(sep + 1));
    const valid = this.keys.some((key) => {
      const expected = Buffer.from(this.signature(stamped, key));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!valid) throw new BadSignature(`Signature "${signed.slice(sep + 1)}" does not match`);
    const tsSep = stamped.lastIndexOf(":");
    if (tsSep < 0) throw new BadSignature("Missing timestamp");
    if (maxAgeSeconds !== undefined) {
      const age = this.now() / 1000 - b62Decode(stamped.slice(tsSep + 1));
      if (age > maxAgeSeconds) {
        throw new SignatureExpired(`Signature age ${age} > ${maxAgeSeconds} seconds`);
      }
    }
    return stamped.slice(0, tsSep);
  }

  /** signing.dumps(obj, compress=True) with the JSON serializer. */
  signObject(value: unknown, options: { compress?: boolean } = {}): string {
    return this.signJson(dumps(value), options);
  }

  /** The same for JSON already serialised as Django's dumps() does (ASCII). */
  signJson(text: string, { compress = true }: { compress?: boolean } = {}): string {
    const json = Buffer.from(text, "latin1");
    let payload = json;
    let prefix = "";
    // Django keeps the compressed form when it is shorter by more than one byte; where that
    // cannot happen (a short payload with nothing repeated) it is not tried.
    if (compress && !compressionCannotPay(json)) {
      const compressed = zlibCompress(json);
      if (compressed.length < json.length - 1) {
        payload = compressed;
        prefix = ".";
      }
    }
    return this.sign(prefix + payload.toString("base64url"));
  }

  /** signing.loads(): throws BadSignature for a bad signature, other errors for a bad payload. */
  unsignObject(signed: string, maxAgeSeconds?: number): JsonValue {
    return loads(this.unsignJson(signed, maxAgeSeconds));
  }

  /** The JSON text signing.loads() would parse (verified and decompressed). */
  unsignJson(signed: string, maxAgeSeconds?: number): string {
    let payload = this.unsign(signed, maxAgeSeconds);
    const decompress = payload.startsWith(".");
    if (decompress) payload = payload.slice(1);
    let bytes = Buffer.from(payload, "base64url");
    if (decompress) bytes = inflateSync(bytes);
    return bytes.toString("latin1");
  }
}
