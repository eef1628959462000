/**
 * A value in Django's signed format (`[.]payload:timestamp:signature`) taken apart step by step,
 * for the pages that show a stored record: the same steps signing.loads() takes, each kept so
 * the page can show it. The secret itself is never part of the result.
 */
import { inflateSync } from "node:zlib";
import { TimestampSigner } from "fastify-django-sessions";
import { b62Decode } from "fastify-django-sessions";

export interface SignedValueSteps {
  /** The text before the timestamp, as stored (with its "." when compressed). */
  payload: string;
  /** A leading "." means the JSON was zlib-compressed because that was shorter. */
  compressed: boolean;
  /** The base62 timestamp and what it says: seconds since 1970 when the value was signed. */
  timestamp: string;
  timestampSeconds: number | null;
  signedAt: string | null;
  signature: string;
  /** Which secret verifies the signature, or why none does. */
  verifiedWith: "SECRET_KEY" | `SECRET_KEY_FALLBACKS[${number}]` | null;
  salt: string;
  /** The JSON text the payload holds (after base64url and, when compressed, zlib). */
  json: string | null;
  /** What went wrong taking it apart, if anything (a tampered or truncated value). */
  problem: string | null;
}

export interface SigningSecrets {
  SECRET_KEY: string;
  SECRET_KEY_FALLBACKS: readonly string[];
}

function verifiedWith(value: string, salt: string, secrets: SigningSecrets): SignedValueSteps["verifiedWith"] {
  const keys = [secrets.SECRET_KEY, ...secrets.SECRET_KEY_FALLBACKS];
  for (const [index, secret] of keys.entries()) {
    try {
      new TimestampSigner({ secret, salt }).unsign(value);
      return index === 0 ? "SECRET_KEY" : `SECRET_KEY_FALLBACKS[${index - 1}]`;
    } catch {
      // Not this key: try the next.
    }
  }
  return null;
}

/** Takes `value` apart as signing.loads() would, keeping every step. Never throws. */
export function explainSignedValue(value: string, salt: string, secrets: SigningSecrets): SignedValueSteps {
  const signatureAt = value.lastIndexOf(":");
  const timestampAt = signatureAt < 0 ? -1 : value.lastIndexOf(":", signatureAt - 1);
  const steps: SignedValueSteps = {
    payload: timestampAt < 0 ? value : value.slice(0, timestampAt),
    compressed: value.startsWith("."),
    timestamp: timestampAt < 0 ? "" : value.slice(timestampAt + 1, signatureAt),
    timestampSeconds: null,
    signedAt: null,
    signature: signatureAt < 0 ? "" : value.slice(signatureAt + 1),
    verifiedWith: null,
    salt,
    json: null,
    problem: null,
  };
  if (timestampAt < 0) {
    steps.problem = 'Not a signed value: it should have two ":" separators.';
    return steps;
  }
  try {
    steps.timestampSeconds = b62Decode(steps.timestamp);
    steps.signedAt = new Date(steps.timestampSeconds * 1000).toISOString();
  } catch {
    steps.problem = "The timestamp is not base62.";
  }
  steps.verifiedWith = verifiedWith(value, salt, secrets);
  if (steps.verifiedWith === null)
    steps.problem ??=
      "The signature does not verify with SECRET_KEY or any fallback: Django would treat the session as empty.";
  try {
    let bytes = Buffer.from(steps.compressed ? steps.payload.slice(1) : steps.payload, "base64url");
    if (steps.compressed) bytes = inflateSync(bytes);
    steps.json = bytes.toString("latin1");
  } catch {
    steps.problem ??= 'The payload does not decode (base64url, then zlib when it starts with ".").';
  }
  return steps;
}
