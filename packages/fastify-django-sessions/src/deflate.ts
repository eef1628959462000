/**
 * zlib compression exactly as Django's `zlib.compress(data)` (the original zlib, level 6), reusing
 * one compressor. pako is the original zlib in JavaScript (Node's bundled zlib, Chromium's fork,
 * can emit other bytes); its one-call `deflate()` builds and zeroes about 200 KB of tables for
 * every call, which cost more than everything else in a save. Resetting one stream between
 * calls (zlib's deflateReset) gives the same bytes for a fraction of the work; the unit tests
 * compare the two byte for byte.
 */
import { createRequire } from "node:module";

interface ZStream {
  /** pako's DeflateState; `head` is the hash table deflateReset clears. */
  state: { head: Uint16Array } | null;
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
}

/** The part of pako's port of zlib's deflate.c used here (pako ships no types for it). */
interface PakoDeflate {
  deflateInit2(
    strm: ZStream,
    level: number,
    method: number,
    windowBits: number,
    memLevel: number,
    strategy: number,
    legacyHash: boolean,
  ): number;
  deflateReset(strm: ZStream): number;
  deflate(strm: ZStream, flush: number): number;
}

const require = createRequire(import.meta.url);
const zlib = require("pako/lib/zlib/deflate.js") as PakoDeflate;
const ZStreamClass = require("pako/lib/zlib/zstream.js") as new () => ZStream;

const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_FINISH = 4;
// zlib.compress()'s defaults, which pako.deflate() also uses.
const Z_DEFAULT_COMPRESSION = -1;
const Z_DEFLATED = 8;
const WINDOW_BITS = 15;
const MEM_LEVEL = 8;
const Z_DEFAULT_STRATEGY = 0;

/** The smallest zlib stream (2-byte header, an empty final block, 4-byte checksum). */
export const MIN_ZLIB_LENGTH = 8;

/**
 * True when zlib cannot make `data` shorter by more than one byte, which is when Django keeps
 * the compressed form; then there is no need to try. Without a 3-byte sequence occurring twice,
 * deflate finds nothing to copy and can only code literals: a stored block costs 11 bytes more
 * than the data, a fixed-Huffman one at least 8 more, and a dynamic one at least 48 + L + k
 * bits of table and literals (k distinct bytes) against the 8L - 64 it would need to win, which
 * no L of 16 or less reaches. test/deflate.test.ts checks this against zlib itself.
 */
export function compressionCannotPay(data: Uint8Array): boolean {
  if (data.length <= MIN_ZLIB_LENGTH + 1) return true;
  if (data.length > 16) return false;
  const seen = new Set<number>();
  for (let i = 0; i + 2 < data.length; i++) {
    const trigram = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    if (seen.has(trigram)) return false;
    seen.add(trigram);
  }
  return true;
}

let stream: ZStream | undefined;
let output = new Uint8Array(1024);
const NO_TABLE = new Uint16Array(0);

/**
 * zlib's deflateReset. pako clears the 32768-entry hash table with a JavaScript loop (about
 * 20 µs); it is handed an empty table to clear instead and the real one is cleared natively.
 */
function reset(strm: ZStream): void {
  const state = strm.state!;
  const head = state.head;
  state.head = NO_TABLE;
  try {
    zlib.deflateReset(strm);
  } finally {
    state.head = head;
  }
  head.fill(0);
}

/** zlib.compress(data): the same bytes as pako.deflate(data) and Python's zlib. */
export function zlibCompress(data: Uint8Array): Buffer<ArrayBuffer> {
  if (stream === undefined) {
    stream = new ZStreamClass();
    const status = zlib.deflateInit2(
      stream,
      Z_DEFAULT_COMPRESSION,
      Z_DEFLATED,
      WINDOW_BITS,
      MEM_LEVEL,
      Z_DEFAULT_STRATEGY,
      true,
    );
    if (status !== Z_OK) throw new Error(`deflateInit2 failed (${status})`);
  } else {
    reset(stream);
  }
  // zlib's deflateBound for these settings, so one call always finishes.
  const bound = data.length + (data.length >> 12) + (data.length >> 14) + (data.length >> 25) + 13 + 6;
  if (output.length < bound) output = new Uint8Array(bound);
  stream.input = data;
  stream.next_in = 0;
  stream.avail_in = data.length;
  stream.output = output;
  stream.next_out = 0;
  stream.avail_out = output.length;
  const status = zlib.deflate(stream, Z_FINISH);
  /* c8 ignore next 4 -- untested: with an output of deflateBound and Z_FINISH one call always ends; kept in case it does not */
  if (status !== Z_STREAM_END) {
    stream = undefined; // start afresh next time
    throw new Error(`deflate did not finish (${status})`);
  }
  const compressed = Buffer.from(output.subarray(0, stream.next_out));
  // Let the input go (sessions may hold secrets); the tables are reused.
  stream.input = null;
  return compressed;
}
