import { randomFillSync } from "node:crypto";

export const SESSION_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
export const SESSION_KEY_LENGTH = 32;
/** Cookie values shorter than this count as "no key" (Django's validation). */
export const MIN_SESSION_KEY_LENGTH = 8;
/** Longest key any engine accepts (the DB column is varchar(40)). */
export const MAX_SESSION_KEY_LENGTH = 40;
/** How much of a key logs and pages show: enough to recognise it, useless to an onlooker. */
export const SHOWN_KEY_PREFIX_LENGTH = 8;

// 252 is the largest multiple of 36 below 256: rejecting bytes >= 252 keeps every character
// equally likely. Random bytes come from a pool so a key costs one syscall per ~100 keys.
const LIMIT = 252;
const pool = Buffer.alloc(4096);
let offset = pool.length;

function nextByte(): number {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  return pool[offset++]!;
}

/** 32 characters of a-z0-9 from a CSPRNG (~165 bits). */
export function generateSessionKey(): string {
  let key = "";
  while (key.length < SESSION_KEY_LENGTH) {
    const byte = nextByte();
    if (byte < LIMIT) key += SESSION_KEY_ALPHABET[byte % 36];
  }
  return key;
}

/** True when a store can hold `key`: 8 to 40 characters of a-z0-9 (Django's keys are 32). */
export function isStorableKey(key: string): boolean {
  return sessionKeyProblem(key) === null;
}

/** True when every character is in a-z0-9 (what the file engine requires before touching disk). */
export function hasKeyAlphabet(key: string): boolean {
  return /^[a-z0-9]+$/.test(key);
}

/**
 * Why `value` cannot be a server-side session key, or null when it can: 8 to 40 characters of
 * a-z0-9 (Django's minimum length, the db column's width, the file backend's alphabet). The
 * answer never repeats the value: it came from a visitor and goes to the log.
 */
export function sessionKeyProblem(value: string): string | null {
  if (value.length === 0) return "empty";
  if (value.length < MIN_SESSION_KEY_LENGTH) return `${value.length} characters, fewer than ${MIN_SESSION_KEY_LENGTH}`;
  if (value.length > MAX_SESSION_KEY_LENGTH) return `${value.length} characters, more than ${MAX_SESSION_KEY_LENGTH}`;
  if (!hasKeyAlphabet(value)) return "characters other than a-z and 0-9";
  return null;
}
