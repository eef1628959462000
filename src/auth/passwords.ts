/**
 * Django-compatible password hashing: Django's ScryptPasswordHasher, so a hash written here
 * verifies in Django and the other way round.
 *
 * Format (Django's `"%s$%d$%s$%d$%d$%s" % (algorithm, n, salt, r, p, hash)`):
 *   scrypt$<n>$<salt>$<r>$<p>$<base64 of the 64-byte derived key>
 */
import { randomInt, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

export const ALGORITHM = "scrypt";
/** Django's ScryptPasswordHasher.work_factor, block_size, parallelism. */
export const WORK_FACTOR = 2 ** 14;
export const BLOCK_SIZE = 8;
export const PARALLELISM = 5;
export const DKLEN = 64;
export const SALT_LENGTH = 22;
const SALT_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/**
 * The hashers a hash can be made with, by name (Django's PASSWORD_HASHERS, first entry). Both
 * write Django's scrypt format; a hash is always verified with the parameters stored in it.
 *  - "scrypt": Django's ScryptPasswordHasher, the default and the only choice in production.
 *  - "fast": for tests only, where the hash is not the subject (Django's own tests swap in
 *    MD5PasswordHasher for the same reason): the same format at n=16, r=1, p=1, so hashing and
 *    checking cost microseconds instead of ~350 ms. loadConfig refuses it when NODE_ENV=production.
 */
export const PASSWORD_HASHERS = {
  scrypt: { n: WORK_FACTOR, r: BLOCK_SIZE, p: PARALLELISM },
  fast: { n: 16, r: 1, p: 1 },
} as const satisfies Record<string, { n: number; r: number; p: number }>;
export type PasswordHasherName = keyof typeof PASSWORD_HASHERS;

/** Limits on parameters read from a stored hash, so a hostile value cannot exhaust memory. */
const MAX_WORK_FACTOR = 2 ** 20;
const MAX_BLOCK_SIZE = 32;
const MAX_PARALLELISM = 16;
/** scrypt needs 128 * n * r bytes; refuse stored parameters asking for more than this. */
const MAX_MEMORY = 256 * 1024 * 1024;

function scrypt(password: string, salt: string, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** The memory limit handed to scrypt: Django's 128 * n * r * p, doubled for headroom. */
export function scryptMaxmem(n: number, r: number, p: number): number {
  return 128 * n * r * p * 2;
}

/** Django's get_random_string(22): characters from [a-zA-Z0-9] drawn with a CSPRNG. */
export function generateSalt(length = SALT_LENGTH): string {
  let salt = "";
  for (let i = 0; i < length; i++) salt += SALT_CHARS[randomInt(SALT_CHARS.length)];
  return salt;
}

async function derive(raw: string, salt: string, n: number, r: number, p: number): Promise<Buffer> {
  return scrypt(raw, salt, DKLEN, { N: n, r, p, maxmem: scryptMaxmem(n, r, p) });
}

/** Hashes `raw` in Django's scrypt format with a fresh salt (Django's parameters unless told). */
export async function hashPassword(raw: string, hasher: PasswordHasherName = "scrypt"): Promise<string> {
  const { n, r, p } = PASSWORD_HASHERS[hasher];
  const salt = generateSalt();
  const key = await derive(raw, salt, n, r, p);
  return `${ALGORITHM}$${n}$${salt}$${r}$${p}$${key.toString("base64")}`;
}

function parseInteger(value: string, max: number): number | null {
  if (!/^[1-9][0-9]{0,9}$/.test(value)) return null;
  const n = Number(value);
  return n <= max ? n : null;
}

interface Decoded {
  n: number;
  salt: string;
  r: number;
  p: number;
  hash: Buffer;
}

function decode(encoded: string): Decoded | null {
  const parts = encoded.split("$");
  if (parts.length !== 6) return null;
  const [algorithm, nText, salt, rText, pText, hashText] = parts as [string, string, string, string, string, string];
  if (algorithm !== ALGORITHM || salt === "") return null;
  const n = parseInteger(nText, MAX_WORK_FACTOR);
  const r = parseInteger(rText, MAX_BLOCK_SIZE);
  const p = parseInteger(pText, MAX_PARALLELISM);
  // scrypt needs N to be a power of two greater than 1.
  if (n === null || r === null || p === null || n < 2 || (n & (n - 1)) !== 0) return null;
  if (128 * n * r > MAX_MEMORY) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(hashText) || hashText.length % 4 !== 0) return null;
  const hash = Buffer.from(hashText, "base64");
  if (hash.length !== DKLEN) return null;
  return { n, salt, r, p, hash };
}

/**
 * Whether `raw` matches the Django scrypt hash `encoded`, compared in constant time. Malformed,
 * unknown-algorithm or unusable hashes give false; this never throws.
 */
export async function verifyPassword(raw: string, encoded: string): Promise<boolean> {
  try {
    if (typeof raw !== "string" || typeof encoded !== "string") return false;
    const decoded = decode(encoded);
    if (!decoded) return false;
    const key = await derive(raw, decoded.salt, decoded.n, decoded.r, decoded.p);
    return key.length === decoded.hash.length && timingSafeEqual(key, decoded.hash);
  } catch {
    return false;
  }
}
