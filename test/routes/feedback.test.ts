/**
 * Every action says what it did, once: the notice is left in a signed cookie of its own, shown by
 * the next page, and gone on the page after (src/notices.ts). Over HTTP, on every engine.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { appFixture, noticeOf as notice, visitor } from "../helpers.js";

/** The panel's stored data. */
function panelData(html: string): Record<string, unknown> {
  const json = /<pre id="session-data">([^<]*)<\/pre>/.exec(html)?.[1] ?? "null";
  return JSON.parse(json.replace(/&#34;/g, '"').replace(/&amp;/g, "&")) as Record<string, unknown>;
}

const directory = mkdtempSync(join(tmpdir(), "feedback-"));
after(() => rmSync(directory, { recursive: true, force: true }));

for (const engine of ["db", "cache", "cached_db", "file", "signed_cookies"]) {
  const serverSide = engine !== "signed_cookies";
  describe(`feedback on ${engine}`, () => {
    async function browser(env: Record<string, string> = {}) {
      const f = await appFixture({ SESSION_ENGINE: engine, SESSION_FILE_PATH: directory, ...env });
      return { f, ...visitor(f.app) };
    }

    test("flush says what went: the data, the record, the cookie; shown once and stores nothing", async () => {
      const { f, get, post, jar } = await browser();
      await get("/session/set/?key=colour&value=blue");
      const key = jar.cookies.get("sessionid")!;
      assert.ok(key);
      const r = await post("/session/flush/");
      assert.equal(r.statusCode, 303);
      assert.equal(r.headers.location, "/session/set/");
      assert.equal(jar.cookies.get("sessionid"), undefined, "the session cookie is deleted");
      const page = await get("/session/set/");
      const text = notice(page.body);
      assert.ok(text, "a notice after the flush");
      assert.match(text, /^Session flushed: its data was removed \(1 key of yours\), /);
      if (serverSide) {
        assert.match(
          text,
          new RegExp(
            `the stored record of ${key.slice(0, 8)}… was deleted and the browser was told to delete the sessionid cookie`,
          ),
        );
        assert.equal(await f.engine.open(key).exists(key), false, "the record is gone, as it says");
      } else {
        assert.match(text, /which held all of it \(this engine stores nothing on the server\)/);
      }
      assert.match(text, /The next value you store gets a new key\.$/);
      // The notice did not bring a session back: no key, nothing stored, no session cookie.
      assert.deepEqual(panelData(page.body), {});
      assert.match(page.body, /<span id="session-key" data-key="">none<\/span>/);
      assert.equal(jar.cookies.get("sessionid"), undefined);
      assert.equal(notice((await get("/session/set/")).body), null, "gone on reload");
    });

    test("flush with no session says there was nothing to flush", async () => {
      const { get, post } = await browser();
      await get("/counter/"); // a session with a key
      await post("/session/flush/");
      await get("/session/set/"); // the notice shown
      await post("/session/flush/");
      assert.equal(
        notice((await get("/session/set/")).body),
        "Nothing to flush: this browser had no session yet (no key, nothing stored).",
      );
    });

    test("expiry: a number, 0 (with why getExpiryAge() still says SESSION_COOKIE_AGE), empty, and a negative number that ends the session", async () => {
      const { get, post, jar } = await browser();
      await get("/session/set/?key=colour&value=blue");
      await get("/expiry/");

      await post("/expiry/", { seconds: "300" });
      let page = await get("/expiry/");
      assert.match(
        notice(page.body) ?? "",
        /^setExpiry\(300\): the session now ends 300 s after its last save, at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC unless saved again; the cookie's Max-Age is 300\.$/,
      );
      assert.equal(notice((await get("/expiry/")).body), null, "shown once");

      await post("/expiry/", { seconds: "0" });
      page = await get("/expiry/");
      const zero = notice(page.body) ?? "";
      assert.match(
        zero,
        /^setExpiry\(0\): the cookie now has no expiry date, so the browser drops it when it closes\./,
      );
      assert.match(
        zero,
        /getExpiryAge\(\) still says 1209600 s: for 0 it falls back to SESSION_COOKIE_AGE, exactly as Django's get_expiry_age\(\) does/,
      );
      assert.match(page.body, /id="expiry-age">1209600 seconds</, "the page shows the age the notice explains");
      assert.match(page.body, /id="expire-at-browser-close">true</);

      await post("/expiry/", { seconds: "" });
      assert.match(
        notice((await get("/expiry/")).body) ?? "",
        /^setExpiry\(null\): back to the global policy\. The session ends 1209600 s \(SESSION_COOKIE_AGE\)/,
      );

      const before = jar.cookies.get("sessionid");
      assert.ok(before);
      const ended = await post("/expiry/", { seconds: "-5" });
      assert.equal(ended.statusCode, 303);
      assert.equal(jar.cookies.get("sessionid"), undefined, "the cookie was sent already expired");
      page = await get("/expiry/");
      assert.match(
        notice(page.body) ?? "",
        /^setExpiry\(-5\): a negative number puts the expiry in the past, so the session ended now/,
      );
      assert.deepEqual(panelData(page.body), {}, "the data is gone, as it says");
      if (serverSide) {
        // Even a browser that kept the old cookie gets nothing back from the store.
        jar.cookies.set("sessionid", before);
        assert.deepEqual(panelData((await get("/expiry/")).body), {});
      }
    });

    test("counter reset, and resetting nothing", async () => {
      const { get, post } = await browser();
      await get("/counter/");
      await get("/counter/");
      await post("/counter/reset/");
      const page = await get("/counter/");
      assert.equal(
        notice(page.body),
        "Counter reset: “visits” (2) was removed from your session with pop, so this visit counts as 1 again.",
      );
      assert.match(page.body, /<strong id="visits">1<\/strong>/);
      assert.equal(notice((await get("/counter/")).body), null);
    });

    test("cart: add, add in place, remove, remove something absent; checkout keeps its own message", async () => {
      const { get, post } = await browser();
      await get("/cart/");
      await post("/cart/add/", { item: "apple" });
      assert.equal(
        notice((await get("/cart/")).body),
        "Added “apple”: a new list was assigned to “cart”, so the session is marked modified and saved.",
      );
      await post("/cart/add-inplace/", { item: "pear" });
      assert.match(
        notice((await get("/cart/")).body) ?? "",
        /^Added “pear” in place \(push onto the stored list\)\. Django would not save that without session\.modified = True/,
      );
      await post("/cart/remove/", { item: "apple" });
      let page = await get("/cart/");
      assert.equal(notice(page.body), "Removed “apple” from your cart.");
      assert.deepEqual(
        [...page.body.matchAll(/<span class="cart-item">([^<]*)<\/span>/g)].map((m) => m[1]),
        ["pear"],
      );
      await post("/cart/remove/", { item: "plum" });
      assert.equal(notice((await get("/cart/")).body), "“plum” was not in your cart: nothing removed.");
      await post("/cart/checkout/");
      page = await get("/cart/");
      assert.equal(notice(page.body), null);
      assert.match(page.body, /id="flash" role="status">Thank you! You checked out 1 item: pear\.</);
    });

    test("deleting a key", async () => {
      const { get, post } = await browser();
      await get("/session/set/?key=colour&value=blue");
      await post("/session/delete/", { key: "colour" });
      assert.equal(notice((await get("/session/get/?key=colour")).body), "Deleted “colour” from your session (pop).");
      await post("/session/delete/", { key: "colour" });
      assert.equal(notice((await get("/session/get/?key=colour")).body), "“colour” was not set: nothing to delete.");
    });
  });
}

describe("the notice cookie", () => {
  test("is signed: a forged or altered one is ignored and deleted", async () => {
    const { app } = await appFixture();
    const forged = Buffer.from("Your account is locked, call us", "utf8").toString("base64url");
    for (const value of [forged, `${forged}:1abc:AAAA`]) {
      const page = await app.inject({ url: "/", headers: { cookie: `notice=${value}` } });
      assert.equal(page.statusCode, 200);
      assert.equal(notice(page.body), null);
      assert.match(String(page.headers["set-cookie"]), /notice=; Max-Age=0/);
    }
  });

  test("with SESSION_DETECT_MUTATIONS=false the in-place add says it was not saved, and it was not", async () => {
    const { app } = await appFixture({ SESSION_DETECT_MUTATIONS: "false" });
    const v = visitor(app);
    await v.get("/cart/");
    await v.post("/cart/add/", { item: "apple" });
    await v.get("/cart/");
    await v.post("/cart/add-inplace/", { item: "pear" });
    const page = await v.get("/cart/");
    assert.match(
      notice(page.body) ?? "",
      /With SESSION_DETECT_MUTATIONS=false \(Django's rule\) nothing marks the session modified, so it was not saved\./,
    );
    assert.deepEqual(
      [...page.body.matchAll(/<span class="cart-item">([^<]*)<\/span>/g)].map((m) => m[1]),
      ["apple"],
    );
  });
});
