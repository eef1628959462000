/**
 * What the engines share to list sessions a page at a time: sealed cursors, and paging in key
 * order for stores that can only walk their keys (a cache, a directory).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { CountOptions, ListOptions, StoredSession } from "./engine.js";
import { hasKeyAlphabet } from "./keys.js";
import { saltedHmac } from "./signing.js";

/** A cursor this engine did not make (changed, from another engine, or from another SECRET_KEY). */
export class InvalidCursor extends Error {
  override name = "InvalidCursor";
  readonly statusCode = 400;
  constructor() {
    super(
      "This page link is not valid (it was changed, or the server's SECRET_KEY changed since): start again from the first page.",
    );
  }
}

const CURSOR_SALT = "django-sessions-fastify.listing-cursor";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals a cursor's parts (they hold a whole session key) with AES-256-GCM under a key derived
 * from SECRET_KEY: a cursor can go into a URL without revealing the session it points at, and one
 * not sealed here is refused with InvalidCursor.
 */
export class CursorCodec {
  readonly #key: Buffer;

  constructor(secret: string) {
    this.#key = saltedHmac(CURSOR_SALT, "aes-256-gcm", secret);
  }

  seal(kind: string, parts: readonly string[]): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify([kind, ...parts]), "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
  }

  /** The parts of a cursor sealed with `kind` and `count` parts; InvalidCursor otherwise. */
  open(cursor: string, kind: string, count: number): string[] {
    const raw = /^[A-Za-z0-9_-]{1,1024}$/.test(cursor) ? Buffer.from(cursor, "base64url") : Buffer.alloc(0);
    if (raw.length <= IV_BYTES + TAG_BYTES) throw new InvalidCursor();
    let parsed: unknown;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      parsed = JSON.parse(
        Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8"),
      );
    } catch {
      throw new InvalidCursor();
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length !== count + 1 ||
      parsed[0] !== kind ||
      !parsed.every((part) => typeof part === "string")
    ) {
      throw new InvalidCursor();
    }
    return parsed.slice(1);
  }
}

/**
 * `stored` with its cursor sealed only when read: a page needs the cursors of its first and last
 * sessions, and sealing one costs more than decoding a row.
 */
export function withLazyCursor<T extends object>(stored: T, seal: () => string): T & { readonly cursor: string } {
  let cursor: string | undefined;
  return Object.defineProperty(stored, "cursor", { enumerable: true, get: () => (cursor ??= seal()) }) as T & {
    readonly cursor: string;
  };
}

/** A store that can walk its session keys but not sort them (the cache engine, the file engine). */
export interface KeyOrderStore {
  /** Every candidate key (already narrowed by the key prefix), in any order; a key may repeat. */
  keys(): AsyncIterable<string>;
  /** The session under `key`, or null when it is gone or expired. */
  read(key: string): Promise<Omit<StoredSession, "cursor"> | null>;
  /** Whether `key` holds a live session, for counting; default: every walked key does. */
  live?(key: string): Promise<boolean>;
}

const KEY_CURSOR = "key";
/** Keys read per walk when no limit is given, and at most per walk otherwise. */
const WALK_BATCH = 500;
/** Sessions read at once. */
const READ_CONCURRENCY = 16;

function keyBounds(codec: CursorCodec, { after, before }: CountOptions): { low?: string; high?: string } {
  return {
    ...(after === undefined ? {} : { low: codec.open(after, KEY_CURSOR, 1)[0]! }),
    ...(before === undefined ? {} : { high: codec.open(before, KEY_CURSOR, 1)[0]! }),
  };
}

const inRange = (key: string, low: string | undefined, high: string | undefined) =>
  hasKeyAlphabet(key) && (low === undefined || key > low) && (high === undefined || key < high);

/** Sorted, without repeats, trimmed to the `size` keys nearest the start (or the end, `fromEnd`). */
function nearest(keys: string[], size: number, fromEnd: boolean): string[] {
  keys.sort();
  const unique = keys.filter((key, i) => i === 0 || key !== keys[i - 1]);
  return fromEnd ? unique.slice(-size) : unique.slice(0, size);
}

/**
 * One walk of every key: the `size` keys in (low, high) nearest `low` (or `high`, `fromEnd`),
 * sorted. Memory stays at twice `size` keys whatever the store holds.
 */
async function walk(
  store: KeyOrderStore,
  low: string | undefined,
  high: string | undefined,
  size: number,
  fromEnd: boolean,
): Promise<string[]> {
  let kept: string[] = [];
  for await (const key of store.keys()) {
    if (!inRange(key, low, high)) continue;
    kept.push(key);
    if (kept.length >= size * 2) kept = nearest(kept, size, fromEnd);
  }
  return nearest(kept, size, fromEnd);
}

async function readInOrder(store: KeyOrderStore, keys: readonly string[]): Promise<Omit<StoredSession, "cursor">[]> {
  const found: Omit<StoredSession, "cursor">[] = [];
  for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
    const read = await Promise.all(keys.slice(i, i + READ_CONCURRENCY).map((key) => store.read(key)));
    for (const stored of read) if (stored) found.push(stored);
  }
  return found;
}

/**
 * Lists a store in key order, a page at a time. Such a store cannot sort in place, so each page
 * walks every key once, keeps only the page's nearest candidates (bounded memory) and reads just
 * those: a page costs a walk of the keys, never a read of every session.
 */
export async function* listInKeyOrder(
  store: KeyOrderStore,
  codec: CursorCodec,
  options: ListOptions = {},
): AsyncGenerator<StoredSession> {
  let { low, high } = keyBounds(codec, options);
  // The last `limit` before a cursor (without a limit that is every session before it, in order).
  const fromEnd = options.before !== undefined && options.after === undefined && options.limit !== undefined;
  const withCursor = (stored: Omit<StoredSession, "cursor">): StoredSession =>
    withLazyCursor(stored, () => codec.seal(KEY_CURSOR, [stored.key]));
  let wanted = options.limit ?? Number.POSITIVE_INFINITY;
  // From the end, pages are found last first; they are yielded in key order at the end.
  const collected: StoredSession[][] = [];
  while (wanted > 0) {
    const size = Math.min(wanted, WALK_BATCH);
    const keys = await walk(store, low, high, size, fromEnd);
    const sessions = await readInOrder(store, keys);
    const taken = fromEnd ? sessions.slice(Math.max(0, sessions.length - wanted)) : sessions.slice(0, wanted);
    wanted -= taken.length;
    if (fromEnd) collected.unshift(taken.map(withCursor));
    else for (const stored of taken) yield withCursor(stored);
    if (keys.length < size) break;
    if (fromEnd) high = keys[0];
    else low = keys.at(-1);
  }
  for (const page of collected) yield* page;
}

/** How many sessions listInKeyOrder would yield with these options (one walk of the keys). */
export async function countInKeyOrder(
  store: KeyOrderStore,
  codec: CursorCodec,
  options: CountOptions = {},
): Promise<number> {
  const { low, high } = keyBounds(codec, options);
  // A Redis SCAN may return a key twice while its table grows; the count can then be one high.
  let count = 0;
  for await (const key of store.keys()) {
    if (inRange(key, low, high) && (store.live === undefined || (await store.live(key)))) count++;
  }
  return count;
}
