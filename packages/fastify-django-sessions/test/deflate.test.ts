/** The reused compressor gives exactly pako's (the original zlib's) bytes, call after call. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { deflate } from "pako";
import { compressionCannotPay, zlibCompress } from "../src/deflate.js";

function inputs(): Buffer[] {
  const out: Buffer[] = [];
  for (const length of [0, 1, 9, 10, 14, 50, 300, 4000, 70_000, 200_000]) {
    out.push(randomBytes(length)); // incompressible
    out.push(Buffer.from(randomBytes(length).toString("base64").slice(0, length))); // text
    out.push(Buffer.from('{"visits":1,'.repeat(Math.ceil(length / 12)).slice(0, length))); // repetitive
    out.push(Buffer.from(JSON.stringify(Array.from({ length }, (_, i) => `item ${i % 97}`)).slice(0, length)));
  }
  return out;
}

test("zlibCompress equals pako.deflate byte for byte, in any order and size", () => {
  const all = inputs();
  // Large then small then large again: a reused stream must carry nothing over.
  for (const input of [...all, ...all.reverse()]) {
    assert.ok(zlibCompress(input).equals(Buffer.from(deflate(input))), `${input.length} bytes`);
  }
});

test("where compressionCannotPay says so, zlib never saves more than one byte (checked on 200,000 inputs)", () => {
  // Each input's bytes are drawn from one pool (one randomBytes call instead of 200,000), and
  // compressed with zlibCompress: pako's deflate on a reused stream, ten times cheaper than a
  // fresh pako.deflate per input (which allocates ~300 KB each). Every 32nd input it skips is compared
  // with a fresh pako.deflate byte for byte, extending the test above to these tiny inputs.
  const pool = randomBytes(200_000 * 20);
  let skipped = 0;
  let compared = 0;
  for (let i = 0; i < 200_000; i++) {
    const length = 1 + (i % 20);
    // Small alphabets too: the inputs a dynamic Huffman table could shrink most.
    const alphabet = [2, 3, 4, 8, 16, 64, 256][i % 7]!;
    const data = Buffer.from(pool.subarray(i * 20, i * 20 + length).map((byte) => (byte % alphabet) + 32));
    if (!compressionCannotPay(data)) continue;
    skipped++;
    const compressed = zlibCompress(data);
    assert.ok(compressed.length >= data.length - 1, `${data.toString("latin1")} compresses`);
    if (skipped % 32 === 0) {
      compared++;
      assert.ok(
        compressed.equals(Buffer.from(deflate(data))),
        `${data.toString("latin1")}: zlibCompress is pako.deflate`,
      );
    }
  }
  assert.ok(skipped > 50_000, `the rule applies often enough to matter (${skipped})`);
  assert.ok(compared > 3000);
  assert.equal(compressionCannotPay(Buffer.from('{"visits":12345}')), true);
  assert.equal(compressionCannotPay(Buffer.from('{"visits":10000}')), false, "000 occurs twice");
  assert.equal(compressionCannotPay(Buffer.from('{"visits":123456}')), false, "longer than 16 bytes");
});
