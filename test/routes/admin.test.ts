/**
 * The staff-only admin page for sessions over HTTP: who may see it, the list (the columns of
 * `npm run sessions -- list`), one session decoded, tampered data, ending a session, and the
 * refusals (CSRF, malformed and unknown keys); on db, cached_db, file and signed_cookies.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { hashPassword } from "../../src/auth/passwords.js";
import { buildApp } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import { createSessionEngine } from "fastify-django-sessions";
import { NO_POSTGRES, postgresSchema } from "../services.js";
import { appFixture, TEST_SECRET, visitor } from "../helpers.js";

const LOGIN_FOR_ADMIN = "/login/?next=%2Fadmin%2Fsessions%2F";
const TAMPERED_MESSAGE =
  "The stored data does not verify: it was changed outside the app, or signed with another SECRET_KEY.";
const PASSWORD = "correct horse";

type Fixture = Awaited<ReturnType<typeof appFixture>>;
type Visitor = ReturnType<typeof visitor>;

/** HTML text as EJS escaped it, back to the characters. */
function unescapeHtml(text: string): string {
  return text
    .replace(/&#34;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

interface ListedRow {
  prefix: string;
  current: boolean;
  tampered: boolean;
  user: string;
  size: number;
  href: string;
  expires: string;
}

/** The rows of the admin list page's table, cell by cell. */
function listedRows(html: string): ListedRow[] {
  const rows: ListedRow[] = [];
  const rowPattern =
    /<tr class="stored-session( current)?( tampered)?" data-key-prefix="([a-z0-9]+)">([\s\S]*?)<\/tr>/g;
  for (const [, current, tampered, prefix, cells] of html.matchAll(rowPattern)) {
    const user = /<td class="session-user"[^>]*>([\s\S]*?)<\/td>/
      .exec(cells!)?.[1]
      ?.replace(/<[^>]+>/g, "")
      .trim();
    const size = /<td class="number session-size"[^>]*>(\d+) B<\/td>/.exec(cells!)?.[1];
    const href = /<a href="([^"]+)">/.exec(cells!)?.[1];
    const expires = /<time datetime="([^"]+)">/.exec(cells!)?.[1];
    assert.ok(
      user !== undefined && size !== undefined && href !== undefined && expires !== undefined,
      `a complete row: ${cells}`,
    );
    rows.push({
      prefix: prefix!,
      current: Boolean(current),
      tampered: Boolean(tampered),
      user,
      size: Number(size),
      href,
      expires,
    });
  }
  return rows;
}

/** The decoded data the detail page shows, parsed back from its escaped JSON. */
function detailData(html: string): unknown {
  const text = /<pre class="decoded" id="detail-data">([\s\S]*?)<\/pre>/.exec(html)?.[1];
  assert.ok(text !== undefined, "the page shows the decoded data");
  return JSON.parse(unescapeHtml(text));
}

async function logIn(v: Visitor, username: string): Promise<void> {
  await v.get("/login/");
  const r = await v.post("/login/", { username, password: PASSWORD });
  assert.equal(r.statusCode, 303, `${username} logs in`);
}

const ENGINES = ["db", "cached_db", "file", "signed_cookies"] as const;
type Engine = (typeof ENGINES)[number];

describe("/admin/sessions/", () => {
  const directories: string[] = [];
  after(() => {
    for (const directory of directories) rmSync(directory, { recursive: true, force: true });
  });

  /**
   * An app with staff user "root" and user "ada"; two anonymous visitors (a cart, a counter), ada
   * logged in, and root logged in as the admin. Each app has its own session directory, so the
   * file engine lists exactly this app's sessions.
   */
  async function setup(engine: Engine) {
    const directory = mkdtempSync(join(tmpdir(), "admin-sessions-"));
    directories.push(directory);
    const f = await appFixture({ SESSION_ENGINE: engine, SESSION_FILE_PATH: directory });
    const password = await hashPassword(PASSWORD, "fast");
    await f.db.insertInto("users").values({ username: "root", password, is_staff: 1 }).execute();
    await f.db.insertInto("users").values({ username: "ada", password, is_staff: 0 }).execute();
    const ids = Object.fromEntries(
      (await f.db.selectFrom("users").select(["id", "username"]).execute()).map((u) => [u.username, u.id]),
    ) as Record<"root" | "ada", number>;

    const shopper = visitor(f.app);
    await shopper.get("/cart/");
    await shopper.post("/cart/add/", { item: "apple" });
    await shopper.post("/cart/add/", { item: "<script>alert(1)</script>" });
    const counter = visitor(f.app);
    await counter.get("/counter/");
    await counter.get("/counter/");
    const ada = visitor(f.app);
    await logIn(ada, "ada");
    const admin = visitor(f.app);
    await logIn(admin, "root");
    return { f, directory, ids, shopper, counter, ada, admin };
  }

  /** The bytes the engine's store holds for `key`, read from the store itself. */
  async function storedBytes(f: Fixture, engine: Engine, directory: string, key: string): Promise<number> {
    if (engine === "file") return statSync(join(directory, `sessionid${key}`)).size;
    const row = await f.db
      .selectFrom("sessions")
      .select("session_data")
      .where("session_key", "=", key)
      .executeTakeFirstOrThrow();
    return Buffer.byteLength(row.session_data);
  }

  /** Overwrites the stored data of `key` with something that does not verify, behind the app's back. */
  async function tamper(f: Fixture, engine: Engine, directory: string, key: string): Promise<void> {
    const garbage = "eyJjYXJ0IjpbImZyZWUiXX0:1tZyKz:not-the-signature-of-this-data-at-all-xxxxx";
    if (engine === "file") writeFileSync(join(directory, `sessionid${key}`), garbage, "latin1");
    else {
      const result = await f.db
        .updateTable("sessions")
        .set({ session_data: garbage })
        .where("session_key", "=", key)
        .executeTakeFirst();
      assert.equal(Number(result.numUpdatedRows), 1, "the row was overwritten");
    }
  }

  /** Stores `from`'s record again under the key `to`, behind the app's back (the signature does not cover the key). */
  async function copyRecord(f: Fixture, engine: Engine, directory: string, from: string, to: string): Promise<void> {
    if (engine === "file") {
      writeFileSync(join(directory, `sessionid${to}`), readFileSync(join(directory, `sessionid${from}`)));
      return;
    }
    const row = await f.db.selectFrom("sessions").selectAll().where("session_key", "=", from).executeTakeFirstOrThrow();
    await f.db
      .insertInto("sessions")
      .values({ ...row, session_key: to })
      .execute();
  }

  for (const engine of ENGINES) {
    describe(engine, () => {
      test("an anonymous visitor is sent to log in, wherever in the admin", async () => {
        const { f, shopper } = await setup(engine);
        const anonymous = visitor(f.app);
        const list = await anonymous.get("/admin/sessions/");
        assert.equal(list.statusCode, 303);
        assert.equal(list.headers.location, LOGIN_FOR_ADMIN);
        const prefix = "abcdefgh";
        const detail = await anonymous.get(`/admin/sessions/${prefix}/`);
        assert.equal(detail.statusCode, 303);
        assert.equal(detail.headers.location, `/login/?next=${encodeURIComponent(`/admin/sessions/${prefix}/`)}`);
        await anonymous.get("/");
        const end = await anonymous.post(`/admin/sessions/${shopper.sessionKey()!.slice(0, 8)}/end/`);
        assert.equal(end.statusCode, 303);
        assert.equal(end.headers.location, LOGIN_FOR_ADMIN);
        assert.match((await shopper.get("/cart/")).body, /<span class="cart-item">apple<\/span>/, "nothing was ended");
      });

      test("a logged-in user who is not staff gets the 403 page, a warning naming them, and no Admin link", async () => {
        const { f, ids, ada, shopper } = await setup(engine);
        const page = await ada.get("/admin/sessions/");
        assert.equal(page.statusCode, 403);
        assert.match(page.body, /<h1 id="error-heading">Forbidden \(403\)<\/h1>/);
        assert.match(page.body, /<p id="error-message">This page is for staff only\.<\/p>/);
        assert.match(page.body, /id="nav-user">Account: ada</, "the error page still shows who is logged in");
        assert.doesNotMatch(page.body, /stored-session/);
        const warning = f.logs.find((l) => l.code === "STAFF_ONLY");
        assert.ok(warning, "a log line for the refusal");
        assert.equal(warning.level, 40, "at warn");
        assert.equal(warning.userId, ids.ada, "naming the user");
        assert.equal(warning.status, 403);

        assert.equal((await ada.get(`/admin/sessions/${shopper.sessionKey()!.slice(0, 8)}/`)).statusCode, 403);
        await ada.get("/account/");
        const end = await ada.post(`/admin/sessions/${shopper.sessionKey()!.slice(0, 8)}/end/`);
        assert.equal(end.statusCode, 403);
        assert.match((await shopper.get("/cart/")).body, /<span class="cart-item">apple<\/span>/, "nothing was ended");
        assert.doesNotMatch((await ada.get("/account/")).body, /id="nav-admin"/);
      });

      if (engine === "signed_cookies") {
        test("the page explains that the server keeps no sessions; a session page is a 404 saying why", async () => {
          const { admin, shopper } = await setup(engine);
          const page = await admin.get("/admin/sessions/");
          assert.equal(page.statusCode, 200);
          assert.match(page.body, /id="nav-admin"/);
          assert.match(page.body, /id="sessions-unlisted"/);
          assert.match(page.body, /the server keeps no sessions to list/);
          assert.doesNotMatch(page.body, /<table class="sessions admin-sessions"/);
          const detail = await admin.get("/admin/sessions/abcdefgh/");
          assert.equal(detail.statusCode, 404);
          assert.match(
            detail.body,
            /The signed_cookies engine keeps sessions in the browser(&#39;|')s cookie: the server has none to list\./,
          );
          const end = await admin.post("/admin/sessions/abcdefgh/end/");
          assert.equal(end.statusCode, 404);
          assert.match((await shopper.get("/cart/")).body, /<span class="cart-item">apple<\/span>/);
        });
        return;
      }

      test("staff see every stored session: prefix, user, expiry, size, their own marked; never a full key", async () => {
        const { f, directory, shopper, counter, ada, admin } = await setup(engine);
        const page = await admin.get("/admin/sessions/");
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<a href="\/admin\/sessions\/" id="nav-admin" aria-current="page">Admin<\/a>/);
        assert.match(page.body, /id="admin-count">Showing 1–4 of 4 sessions\.</);
        assert.doesNotMatch(page.body, /id="admin-pager"/, "one page: no links to others");
        const rows = listedRows(page.body);
        const expected = new Map([
          [shopper.sessionKey()!, "anonymous"],
          [counter.sessionKey()!, "anonymous"],
          [ada.sessionKey()!, "ada"],
          [admin.sessionKey()!, "root"],
        ]);
        assert.equal(rows.length, expected.size);
        for (const [key, user] of expected) {
          const row = rows.find((r) => r.prefix === key.slice(0, 8));
          assert.ok(row, `a row for ${user}'s session`);
          assert.equal(row.user, user);
          assert.equal(row.size, await storedBytes(f, engine, directory, key), `${user}'s size is the stored bytes`);
          assert.equal(row.current, key === admin.sessionKey(), "only the admin's own session is marked");
          assert.equal(row.tampered, false);
          assert.equal(row.href, `/admin/sessions/${key.slice(0, 8)}/`);
          assert.ok(Math.abs(Date.parse(row.expires) - (Date.now() + 1_209_600_000)) < 60_000, "expires in two weeks");
          // The admin's own key is in the "Your session" panel, as on every page; no one else's is.
          if (key !== admin.sessionKey())
            assert.ok(!page.body.includes(key), `${user}'s full key is never in the page`);
        }
        assert.match(page.body, /<strong class="badge">yours<\/strong>/);
        if (engine === "file") {
          assert.match(page.body, /in key order \(this engine cannot sort by expiry in the store\)/);
          const prefixes = rows.map((r) => r.prefix);
          assert.deepEqual(prefixes, [...prefixes].sort(), "in key order");
        } else {
          assert.match(page.body, /latest expiry first/);
          const expiries = rows.map((r) => Date.parse(r.expires));
          assert.deepEqual(
            expiries,
            [...expiries].sort((a, b) => b - a),
            "latest expiry first",
          );
        }
      });

      /** `count` more anonymous sessions, saved through the engine as the app saves them. */
      async function moreSessions(f: Fixture, count: number): Promise<string[]> {
        const keys: string[] = [];
        for (let i = 0; i < count; i++) {
          const session = f.engine.open(null);
          session.set("n", i);
          await session.save();
          keys.push(session.sessionKey!);
        }
        return keys;
      }

      /** The href of a pager link (Next, Previous, First), or undefined when the page has none. */
      const link = (html: string, id: string) => {
        const href = new RegExp(`<a href="([^"]+)" id="${id}"`).exec(html)?.[1];
        return href === undefined ? undefined : unescapeHtml(href);
      };
      const shown = (html: string) => /id="admin-count">([^<]+)</.exec(html)?.[1];

      test("a page at a time: Next and Previous walk every session once, showing X–Y of the total; no key in any link", async () => {
        const { f, shopper, counter, ada, admin } = await setup(engine);
        const keys = [shopper, counter, ada, admin].map((v) => v.sessionKey()!).concat(await moreSessions(f, 205));
        const pages: string[] = [];
        const urls: string[] = [];
        for (
          let url: string | undefined = "/admin/sessions/";
          url !== undefined;
          url = link(pages.at(-1)!, "page-next")
        ) {
          assert.ok(pages.length < 5, "the pages end");
          const page = await admin.get(url);
          assert.equal(page.statusCode, 200, url);
          pages.push(page.body);
          urls.push(url);
        }
        assert.deepEqual(pages.map(shown), [
          "Showing 1–100 of 209 sessions.",
          "Showing 101–200 of 209 sessions.",
          "Showing 201–209 of 209 sessions.",
        ]);
        const rows = pages.map(listedRows);
        assert.deepEqual(
          rows.map((r) => r.length),
          [100, 100, 9],
        );
        const prefixes = rows.flat().map((r) => r.prefix);
        assert.deepEqual([...prefixes].sort(), keys.map((k) => k.slice(0, 8)).sort(), "every session exactly once");
        if (engine === "file") assert.deepEqual(prefixes, [...prefixes].sort(), "in key order across pages");
        else {
          const expiries = rows.flat().map((r) => Date.parse(r.expires));
          assert.deepEqual(
            expiries,
            [...expiries].sort((a, b) => b - a),
            "latest expiry first across pages",
          );
        }
        assert.deepEqual(
          rows
            .flat()
            .filter((r) => r.current)
            .map((r) => r.prefix),
          [admin.sessionKey()!.slice(0, 8)],
          "your own session is marked, once",
        );

        assert.equal(link(pages[0]!, "page-previous"), undefined, "the first page has no Previous");
        assert.equal(link(pages[0]!, "page-first"), undefined);
        assert.equal(link(pages[2]!, "page-next"), undefined, "the last page has no Next");
        assert.equal(link(pages[1]!, "page-first"), "/admin/sessions/");
        assert.match(urls[1]!, /^\/admin\/sessions\/\?after=[A-Za-z0-9_-]+$/);
        const back = await admin.get(link(pages[2]!, "page-previous")!);
        assert.equal(shown(back.body), "Showing 101–200 of 209 sessions.");
        // Prefixes only: the file engine reckons expiry from the clock, so it moves between views.
        const prefixesOf = (listed: ListedRow[]) => listed.map((r) => r.prefix);
        assert.deepEqual(
          prefixesOf(listedRows(back.body)),
          prefixesOf(rows[1]!),
          "Previous from the last page is the second page again",
        );
        const front = await admin.get(link(back.body, "page-previous")!);
        assert.equal(shown(front.body), "Showing 1–100 of 209 sessions.");
        assert.deepEqual(prefixesOf(listedRows(front.body)), prefixesOf(rows[0]!));

        for (const body of [...pages, back.body, front.body]) {
          for (const key of keys) {
            // The admin's own key is in the "Your session" panel, as on every page; no one else's is.
            if (key !== admin.sessionKey()) assert.ok(!body.includes(key), "no full key on any page or in any link");
          }
        }
      });

      test("only the shown page is decoded: a tampered session on page 2 is reported when page 2 is shown, not page 1", async () => {
        const { f, directory, admin } = await setup(engine);
        const keys = await moreSessions(f, 150);
        const first = await admin.get("/admin/sessions/");
        const next = link(first.body, "page-next")!;
        const second = listedRows((await admin.get(next)).body);
        // One of the sessions made here (the setup's own, the admin's among them, can land anywhere).
        const victim = second.map((row) => keys.find((key) => key.slice(0, 8) === row.prefix)).find(Boolean)!;
        assert.ok(victim, "a session of page 2");
        await tamper(f, engine, directory, victim);
        const corrupted = () => f.logs.filter((l) => l.msg === "Session data corrupted");
        assert.equal(corrupted().length, 0);

        const again = await admin.get("/admin/sessions/");
        const prefixesOf = (html: string) => listedRows(html).map((r) => r.prefix);
        assert.deepEqual(prefixesOf(again.body), prefixesOf(first.body), "page 1 is unchanged");
        assert.equal(corrupted().length, 0, "viewing page 1 decodes nothing of page 2");

        const page2 = listedRows((await admin.get(next)).body);
        assert.deepEqual(
          page2.filter((r) => r.tampered).map((r) => r.prefix),
          [victim.slice(0, 8)],
        );
        assert.equal(corrupted().length, 1, "page 2 reports it once");
        assert.equal(corrupted()[0]!.level, 40);
        assert.equal(corrupted()[0]!.sessionKey, victim.slice(0, 8), "named by its prefix, never the whole key");
      });

      test("a page link that was changed is a 400 page saying to start again; a malformed one too", async () => {
        const { f, admin } = await setup(engine);
        await moreSessions(f, 100);
        const next = link((await admin.get("/admin/sessions/")).body, "page-next")!;
        // One character from the end (the last one may only hold base64's padding bits).
        const at = next.length - 10;
        const changed = next.slice(0, at) + (next[at] === "A" ? "B" : "A") + next.slice(at + 1);
        for (const url of [changed, "/admin/sessions/?before=abc", "/admin/sessions/?after=not%2Fa%2Fcursor"]) {
          const page = await admin.get(url);
          assert.equal(page.statusCode, 400, url);
          assert.match(page.body, /start again from the first page/, url);
        }
      });

      test("the detail page decodes the session like get_decoded(), escaped", async () => {
        const { f, directory, shopper, ada, admin } = await setup(engine);
        const prefix = shopper.sessionKey()!.slice(0, 8);
        const page = await admin.get(`/admin/sessions/${prefix}/`);
        assert.equal(page.statusCode, 200);
        assert.deepEqual(detailData(page.body), { cart: ["apple", "<script>alert(1)</script>"] });
        assert.doesNotMatch(page.body, /<script>alert/, "the data is escaped");
        assert.match(page.body, /<td id="detail-user">anonymous<\/td>/);
        assert.match(
          page.body,
          new RegExp(
            `<td id="detail-size">${await storedBytes(f, engine, directory, shopper.sessionKey()!)} bytes</td>`,
          ),
        );
        assert.match(page.body, /<td id="detail-expires"><time datetime="20\d\d-[^"]+Z">/);
        assert.ok(!page.body.includes(shopper.sessionKey()!), "the full key is not shown");
        assert.match(page.body, new RegExp(`action="/admin/sessions/${prefix}/end/"`));

        const logged = await admin.get(`/admin/sessions/${ada.sessionKey()}/`);
        assert.equal(logged.statusCode, 200, "the full key finds it too");
        assert.match(logged.body, /<td id="detail-user">ada<\/td>/);
        const data = detailData(logged.body) as Record<string, unknown>;
        assert.equal(data._auth_user_backend, "django.contrib.auth.backends.ModelBackend");
        assert.match(String(data._auth_user_id), /^\d+$/);

        const own = await admin.get(`/admin/sessions/${admin.sessionKey()!.slice(0, 8)}/`);
        assert.match(own.body, /This is your own session: ending it logs you out\./);
      });

      test("data that does not verify is marked tampered in the list and reported on its page", async () => {
        const { f, directory, counter, admin } = await setup(engine);
        const key = counter.sessionKey()!;
        await tamper(f, engine, directory, key);
        const rows = listedRows((await admin.get("/admin/sessions/")).body);
        assert.deepEqual(
          rows.filter((r) => r.tampered).map((r) => [r.prefix, r.user]),
          [[key.slice(0, 8), "anonymous"]],
          "exactly the tampered session is marked",
        );
        const page = await admin.get(`/admin/sessions/${key.slice(0, 8)}/`);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /<p class="flash errors" id="detail-tampered" role="alert">([^<]+)<\/p>/);
        assert.ok(page.body.includes(TAMPERED_MESSAGE));
        assert.doesNotMatch(page.body, /id="detail-data"/);
      });

      test("ending a session deletes it, logs who did it, shows a notice once, and logs its visitor out", async () => {
        const { f, ids, ada, admin } = await setup(engine);
        const key = ada.sessionKey()!;
        const prefix = key.slice(0, 8);
        assert.equal((await ada.get("/account/")).statusCode, 200);
        await admin.get(`/admin/sessions/${prefix}/`);
        const r = await admin.post(`/admin/sessions/${prefix}/end/`);
        assert.equal(r.statusCode, 303);
        assert.equal(r.headers.location, "/admin/sessions/");
        assert.equal(await f.engine.open(key).exists(key), false, "the record is gone from the store");
        const rows = await f.db
          .selectFrom("user_sessions")
          .select("session_key")
          .where("session_key", "=", key)
          .execute();
        assert.equal(rows.length, 0, "its user_sessions row is forgotten");
        const line = f.logs.find((l) => l.msg === "session ended by staff");
        assert.ok(line, "an info line");
        assert.equal(line.level, 30);
        assert.equal(line.endedBy, ids.root);
        assert.equal(line.keyPrefix, prefix);
        assert.ok(!JSON.stringify(f.logs).includes(key), "the full key is never logged");

        const list = await admin.get("/admin/sessions/");
        assert.match(list.body, new RegExp(`id="admin-notice" role="status">Ended session ${prefix}…`));
        assert.ok(!listedRows(list.body).some((row) => row.prefix === prefix), "no longer listed");
        assert.match(list.body, /Showing 1–3 of 3 sessions\./);
        assert.doesNotMatch((await admin.get("/admin/sessions/")).body, /id="admin-notice"/, "the notice shows once");

        const next = await ada.get("/account/");
        assert.equal(next.statusCode, 303, "ada is logged out at her next request");
        assert.equal(next.headers.location, "/login/?next=%2Faccount%2F");
      });

      test("ending your own session logs you out", async () => {
        const { f, admin } = await setup(engine);
        const key = admin.sessionKey()!;
        await admin.get(`/admin/sessions/${key.slice(0, 8)}/`);
        const r = await admin.post(`/admin/sessions/${key.slice(0, 8)}/end/`);
        assert.equal(r.statusCode, 303);
        assert.equal(await f.engine.open(key).exists(key), false);
        const after = await admin.get("/admin/sessions/");
        assert.equal(after.statusCode, 303);
        assert.equal(after.headers.location, LOGIN_FOR_ADMIN);
      });

      test("ending needs the form's CSRF token", async () => {
        const { f, shopper, admin } = await setup(engine);
        const key = shopper.sessionKey()!;
        await admin.get(`/admin/sessions/${key.slice(0, 8)}/`);
        const r = await admin.post(`/admin/sessions/${key.slice(0, 8)}/end/`, {}, null);
        assert.equal(r.statusCode, 403);
        assert.match(r.body, /CSRF verification failed/);
        assert.equal(await f.engine.open(key).exists(key), true, "nothing was ended");
      });

      test("a malformed key is a 400 with help; an unknown or ambiguous one a 404 saying so", async () => {
        const { f, directory, counter, admin } = await setup(engine);
        for (const bad of ["ABCDEFGH", "abc", "abcdefg_", "abcdefgh%2E%2E", "a".repeat(65)]) {
          const r = await admin.get(`/admin/sessions/${bad}/`);
          assert.equal(r.statusCode, 400, bad);
          assert.match(
            r.body,
            /The field “session_key” is not valid\. A session is named by 8 to 64 lowercase letters and digits/,
            bad,
          );
        }
        await admin.get("/admin/sessions/");
        assert.equal((await admin.post("/admin/sessions/ABCDEFGH/end/")).statusCode, 400);

        const unknown = await admin.get("/admin/sessions/zzzzzzzz/");
        assert.equal(unknown.statusCode, 404);
        assert.match(unknown.body, /No session with key (&#34;|")zzzzzzzz(&#34;|") \(it may have expired or ended\)\./);
        await admin.get("/admin/sessions/");
        assert.equal((await admin.post("/admin/sessions/zzzzzzzz/end/")).statusCode, 404);

        // Two sessions whose keys share the first 8 characters: copies of the counter's record.
        await copyRecord(f, engine, directory, counter.sessionKey()!, `ambiguou${"a".repeat(24)}`);
        await copyRecord(f, engine, directory, counter.sessionKey()!, `ambiguou${"b".repeat(24)}`);
        const ambiguous = await admin.get("/admin/sessions/ambiguou/");
        assert.equal(ambiguous.statusCode, 404);
        assert.match(ambiguous.body, /2 sessions start with (&#34;|")ambiguou(&#34;|"): give more of the key\./);
        const longer = await admin.get("/admin/sessions/ambiguoub/");
        assert.equal(longer.statusCode, 200, "more of the key tells them apart");
        assert.deepEqual(detailData(longer.body), { visits: 2 });
      });
    });
  }
});

test("on PostgreSQL: staff list, decode and end a session", { skip: NO_POSTGRES || false }, async () => {
  const pg = await postgresSchema("admin");
  const config = loadConfig({ SECRET_KEY: TEST_SECRET, LOG_LEVEL: "silent", PASSWORD_HASHER: "fast" });
  const engine = await createSessionEngine(config.session, { db: pg.db, dateValue: pg.dateValue });
  const app = await buildApp(config, { db: pg.db, engine, runtime: { database: pg, caches: {} } });
  try {
    await pg.db
      .insertInto("users")
      .values({ username: "root", password: await hashPassword(PASSWORD, "fast"), is_staff: 1 })
      .execute();
    const shopper = visitor(app);
    await shopper.get("/cart/");
    await shopper.post("/cart/add/", { item: "pg-apple" });
    const root = visitor(app);
    await logIn(root, "root");
    const prefix = shopper.sessionKey()!.slice(0, 8);
    const rows = listedRows((await root.get("/admin/sessions/")).body);
    assert.deepEqual(rows.map((r) => r.prefix).sort(), [prefix, root.sessionKey()!.slice(0, 8)].sort());
    assert.deepEqual(detailData((await root.get(`/admin/sessions/${prefix}/`)).body), { cart: ["pg-apple"] });
    assert.equal((await root.post(`/admin/sessions/${prefix}/end/`)).statusCode, 303);
    // The cart is empty (the page's notices may still name the item the shopper added).
    const cart = (await shopper.get("/cart/")).body;
    assert.doesNotMatch(cart, /<span class="cart-item">pg-apple/);
    assert.match(cart, /id="cart-empty"/);
    assert.match(cart, /An administrator ended your session/);
  } finally {
    await app.close();
    await pg.drop();
  }
});
