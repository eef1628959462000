/** The same pages behave the same on every engine (what differs is only where data lives). */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { appFixture, visitor } from "../helpers.js";

const directory = mkdtempSync(join(tmpdir(), "engines-pages-"));
after(() => rmSync(directory, { recursive: true, force: true }));

for (const engine of ["db", "cache", "cached_db", "file", "signed_cookies"]) {
  describe(`pages on the ${engine} engine`, () => {
    async function engineVisitor() {
      const f = await appFixture({ SESSION_ENGINE: engine, SESSION_FILE_PATH: directory });
      return { f, ...visitor(f.app) };
    }

    test("the counter climbs and the session cookie follows Django's rules", async () => {
      const v = await engineVisitor();
      const first = await v.get("/counter/");
      assert.match(
        String(first.headers["set-cookie"]),
        /sessionid=[^;]+; Max-Age=1209600; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax/,
      );
      assert.equal(first.headers.vary, "Cookie");
      await v.get("/counter/");
      assert.match((await v.get("/counter/")).body, /<strong id="visits">3<\/strong>/);
    });

    test("cart checkout shows its message exactly once; flush forgets everything", async () => {
      const v = await engineVisitor();
      await v.get("/cart/");
      await v.post("/cart/add/", { item: "apple" });
      await v.post("/cart/add-inplace/", { item: "pear" });
      await v.post("/cart/checkout/");
      assert.match((await v.get("/cart/")).body, /You checked out 2 items: apple, pear\./);
      assert.doesNotMatch((await v.get("/cart/")).body, /id="flash"/);
      await v.get("/session/set/?key=a&value=1");
      const flushed = await v.post("/session/flush/");
      // Beside the notice cookie that says what the flush did.
      assert.ok([flushed.headers["set-cookie"]].flat().some((c) => c?.startsWith('sessionid=""; Max-Age=0')));
      assert.equal(v.jar.cookies.get("sessionid"), undefined);
      assert.match((await v.get("/session/get/?key=a")).body, /id="not-set"/);
    });

    test("the settings page names the engine and masks the secret", async () => {
      const v = await engineVisitor();
      const page = await v.get("/settings/");
      assert.equal(page.statusCode, 200);
      assert.match(page.body, new RegExp(`<strong id="engine-name">${engine}</strong>`));
      assert.doesNotMatch(page.body, /test-secret-key-123/);
      assert.match(page.body, /data-setting="SECRET_KEY"/);
    });
  });
}
