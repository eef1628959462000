/**
 * The store contract, as one parameterised node:test suite (Django's SessionTestsMixin). Every
 * built-in engine runs it; a custom engine runs it with:
 *
 *   import { describeSessionEngine } from "./sessions/conformance.js";
 *   describeSessionEngine("my engine", async (clock, hooks) => ({ engine: await makeEngine(clock, hooks) }));
 *
 * Pass `hooks` to the engine (createSessionEngine's `hooks` option): the concurrency tests use
 * it to pause a save between its read and its write, so a race is certain, not luck.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { ListOptions, SessionEngine, StoredSession } from "./engine.js";
import { CreateError, UpdateError } from "./errors.js";
import type { EngineHooks, SessionBase, SessionData } from "./session-base.js";

/** A clock the suite moves; pass `now` to the engine (and its cache) so expiry follows it. */
export interface ConformanceClock {
  /** A function property, not a method: engines and caches are handed `clock.now` on its own. */
  now: () => number;
  advance(seconds: number): void;
}

export interface ConformanceFixture {
  engine: SessionEngine;
  /** Called once after the suite. */
  cleanup?: () => Promise<void>;
}

export interface ConformanceOptions {
  /**
   * The session lives in the cookie (signed_cookies): there is no server-side record, so
   * exists() is false, a deleted record cannot be detected and clearExpired is a no-op.
   */
  clientSide?: boolean;
  /**
   * Set when the store expires entries on its own clock (Redis TTLs), so moving the suite's
   * clock cannot expire them: the reason is reported for the clock-driven expiry tests.
   */
  ownClockReason?: string;
  /** The engine has no listSessions() (it cannot enumerate its sessions). */
  noListing?: boolean;
  /** The engine's sessions do not implement recordExpiryDate() (it stays null). */
  noRecordExpiry?: boolean;
  /** Skip the whole suite, with the reason reported (e.g. no Redis configured). */
  skipReason?: string;
}

function makeClock(): ConformanceClock {
  let ms = Date.UTC(2026, 10, 22, 1, 0, 0);
  return {
    now: () => ms,
    advance(seconds) {
      ms += seconds * 1000;
    },
  };
}

/** Reopens a session by key, as the next request would, and loads it. */
async function reopen(engine: SessionEngine, key: string | null): Promise<SessionBase<SessionData>> {
  const session = engine.open(key);
  await session.load();
  return session;
}

/** Saves one session and returns its key. */
async function seeded(engine: SessionEngine, data: SessionData): Promise<string> {
  const session = engine.open(null);
  session.update(data);
  await session.save();
  return session.sessionKey!;
}

/** Everything a session holds, as the next request reads it. */
async function storedData(engine: SessionEngine, key: string): Promise<SessionData> {
  return Object.fromEntries((await reopen(engine, key)).items());
}

export function describeSessionEngine(
  name: string,
  setup: (clock: ConformanceClock, hooks: EngineHooks) => Promise<ConformanceFixture>,
  options: ConformanceOptions = {},
): void {
  describe(`session engine conformance: ${name}`, { skip: options.skipReason ?? false }, () => {
    const clock = makeClock();
    const hooks: EngineHooks = {};
    let fixture: ConformanceFixture | undefined;
    const engine = async () => (fixture ??= await setup(clock, hooks)).engine;
    after(async () => {
      await fixture?.cleanup?.();
      await fixture?.engine.close();
    });
    const serverSide = !options.clientSide;

    test("a new session has no key and is empty; loading it costs nothing", async () => {
      const session = (await engine()).open(null);
      assert.equal(session.sessionKey, null);
      assert.equal(session.isEmpty(), true);
      assert.deepEqual(session.items(), []);
    });

    test("save creates a record with a 32-char a-z0-9 key that the next request reads back", async () => {
      const e = await engine();
      const session = e.open(null);
      session.set("visits", 1);
      session.set("cart", ["apple"]);
      await session.save();
      const key = session.sessionKey;
      assert.ok(key);
      if (serverSide) assert.match(key, /^[a-z0-9]{32}$/);
      const again = await reopen(e, key);
      assert.deepEqual(Object.fromEntries(again.items()), { visits: 1, cart: ["apple"] });
      if (serverSide) assert.equal(await e.open(null).exists(key), true);
    });

    test("an unknown key loads as an empty session without a key and creates nothing", async () => {
      const e = await engine();
      const session = await reopen(e, "unknownkeyunknownkeyunknownkey00");
      assert.deepEqual(session.items(), []);
      if (serverSide) {
        assert.equal(session.sessionKey, null);
        assert.equal(await e.open(null).exists("unknownkeyunknownkeyunknownkey00"), false);
      } else {
        assert.equal(session.modified, true, "an unreadable cookie is replaced");
      }
    });

    if (serverSide) {
      test("save(true) refuses a key that is taken (CreateError) and create() retries with a new key", async () => {
        const e = await engine();
        const first = e.open(null);
        first.set("owner", "first");
        await first.save();
        const clash = await reopen(e, first.sessionKey);
        clash.set("owner", "second");
        await assert.rejects(clash.save(true), CreateError);
        const check = await reopen(e, first.sessionKey);
        assert.equal(check.get("owner"), "first", "the existing record is not overwritten");
        await clash.create();
        assert.ok(clash.sessionKey && clash.sessionKey !== first.sessionKey);
      });

      test("save() of a record deleted meanwhile fails with UpdateError (concurrent deletion)", async () => {
        const e = await engine();
        const session = e.open(null);
        session.set("a", 1);
        await session.save();
        const racing = await reopen(e, session.sessionKey);
        await e.open(null).deleteRecord(session.sessionKey);
        racing.set("a", 2);
        await assert.rejects(racing.save(), UpdateError);
        assert.equal(await e.open(null).exists(session.sessionKey!), false, "not resurrected");
      });

      test("deleteRecord removes the record; deleting a missing one is not an error", async () => {
        const e = await engine();
        const session = e.open(null);
        session.set("a", 1);
        await session.save();
        const key = session.sessionKey!;
        await session.deleteRecord();
        assert.equal(await e.open(null).exists(key), false);
        await session.deleteRecord(key);
        await e.open(null).deleteRecord(null);
      });
    }

    test("flush empties the data, drops the key and removes the record", async () => {
      const e = await engine();
      const session = e.open(null);
      session.set("a", 1);
      await session.save();
      const key = session.sessionKey!;
      const loaded = await reopen(e, key);
      await loaded.flush();
      assert.equal(loaded.sessionKey, null);
      assert.equal(loaded.isEmpty(), true);
      if (serverSide) assert.equal(await e.open(null).exists(key), false);
    });

    test("cycleKey keeps the data under a new key and retires the old one", async () => {
      const e = await engine();
      const session = e.open(null);
      session.set("cart", ["apple", "pear"]);
      await session.save();
      const oldKey = session.sessionKey!;
      clock.advance(1);
      const loaded = await reopen(e, oldKey);
      await loaded.cycleKey();
      assert.ok(loaded.sessionKey && loaded.sessionKey !== oldKey);
      const moved = await reopen(e, loaded.sessionKey);
      assert.deepEqual(moved.get("cart"), ["apple", "pear"]);
      if (serverSide) assert.equal(await e.open(null).exists(oldKey), false);
    });

    const clockTest = { skip: options.ownClockReason ?? false };

    test("a session is not readable after SESSION_COOKIE_AGE without a save", clockTest, async () => {
      const e = await engine();
      const session = e.open(null);
      session.set("a", 1);
      await session.save();
      const age = session.getSessionCookieAge();
      clock.advance(age + 1);
      const later = await reopen(e, session.sessionKey);
      assert.equal(later.get("a"), undefined);
      clock.advance(-(age + 1));
    });

    if (serverSide) {
      test("a negative per-session expiry makes the record unreadable at once", async () => {
        const e = await engine();
        const session = e.open(null);
        session.set("a", 1);
        session.setExpiry(-10);
        await session.save();
        const later = await reopen(e, session.sessionKey);
        assert.equal(later.get("a"), undefined);
      });
    }

    test("a save refreshes the expiry (sliding): still readable one age after the first save", clockTest, async () => {
      const e = await engine();
      const session = e.open(null);
      session.set("n", 1);
      await session.save();
      const age = session.getSessionCookieAge();
      clock.advance(age - 10);
      const middle = await reopen(e, session.sessionKey);
      middle.set("n", 2);
      await middle.save();
      clock.advance(20);
      const later = await reopen(e, middle.sessionKey);
      assert.equal(later.get("n"), 2);
      clock.advance(-(age + 10));
    });

    if (serverSide && !options.noRecordExpiry) {
      test("recordExpiryDate tells when the stored record expires, and null once it is gone", async () => {
        const e = await engine();
        const session = e.open(null);
        session.set("a", 1);
        await session.save();
        const age = session.getSessionCookieAge() * 1000;
        const reported = await e.open(session.sessionKey).recordExpiryDate();
        assert.ok(reported, "a saved record has an expiry date");
        // Stores on their own clock (Redis TTLs) count from the real time of the save.
        const near = (start: number) => Math.abs(reported.getTime() - (start + age)) <= 2000;
        assert.ok(
          near(clock.now()) || (options.ownClockReason !== undefined && near(Date.now())),
          `${reported.toISOString()} is the save time + SESSION_COOKIE_AGE`,
        );
        await session.deleteRecord();
        assert.equal(await e.open(session.sessionKey).recordExpiryDate(), null);
      });
    }

    if (serverSide && !options.noListing) {
      test("listSessions yields stored sessions with data, expiry and size; a key prefix narrows it", async () => {
        const e = await engine();
        assert.ok(e.listSessions !== undefined, "the engine can list its sessions");
        const one = e.open(null);
        one.set("listed", "one");
        await one.save();
        const two = e.open(null);
        two.set("listed", "two");
        await two.save();
        const all = new Map<string, StoredSession>();
        for await (const stored of e.listSessions()) all.set(stored.key, stored);
        const first = all.get(one.sessionKey!);
        assert.deepEqual(first?.data, { listed: "one" });
        assert.ok(first.size > 0);
        assert.ok(first.expiresAt === null || first.expiresAt.getTime() > clock.now());
        assert.ok(all.has(two.sessionKey!));
        const narrowed = [];
        for await (const stored of e.listSessions({ keyPrefix: one.sessionKey!.slice(0, 10) }))
          narrowed.push(stored.key);
        assert.deepEqual(narrowed, [one.sessionKey]);
        const none = [];
        for await (const stored of e.listSessions({ keyPrefix: "../%_*" })) none.push(stored);
        assert.deepEqual(none, [], "a prefix outside a-z0-9 matches nothing");
        await one.deleteRecord();
        const after = [];
        for await (const stored of e.listSessions({ keyPrefix: one.sessionKey!.slice(0, 10) })) after.push(stored);
        assert.deepEqual(after, []);
      });
    }

    if (serverSide && !options.noListing) {
      test("listSessions pages: each live session exactly once, in the engine's order, both ways; limit respected; countSessions agrees", async () => {
        const e = await engine();
        const list = async (opts: ListOptions = {}) => {
          const found: StoredSession[] = [];
          for await (const stored of e.listSessions!(opts)) found.push(stored);
          return found;
        };
        const made: string[] = [];
        for (let i = 0; i < 7; i++) {
          const session = e.open(null);
          session.set("paged", i);
          session.setExpiry(3600 + (i % 3) * 60); // three expiries, so some sessions tie
          await session.save();
          made.push(session.sessionKey!);
        }
        const all = await list();
        const keys = all.map((stored) => stored.key);
        assert.equal(new Set(keys).size, keys.length, "no session twice");
        for (const key of made) assert.ok(keys.includes(key), "every new session is listed");
        if (e.listOrder === "key") assert.deepEqual(keys, [...keys].sort(), "in key order");
        if (e.listOrder === "expiry") {
          const times = all.map((stored) => stored.expiresAt?.getTime() ?? 0);
          assert.deepEqual(
            times,
            [...times].sort((a, b) => b - a),
            "latest expiry first",
          );
        }
        if (e.countSessions) assert.equal(await e.countSessions(), all.length, "the count is what is listed");

        // Forwards, three at a time, each page after the last one's cursor.
        const forwards: string[] = [];
        let after: string | undefined;
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= all.length, "paging ends");
          const page = await list({ limit: 3, ...(after === undefined ? {} : { after }) });
          assert.ok(page.length <= 3, `a page of ${page.length} respects limit 3`);
          for (const stored of page) assert.equal(typeof stored.cursor, "string", "each session has a cursor");
          forwards.push(...page.map((stored) => stored.key));
          if (page.length < 3) break;
          after = page.at(-1)!.cursor;
        }
        assert.deepEqual(forwards, keys, "forwards: every session once, in order");

        // Backwards from the last session, three at a time, each page before the first one's cursor.
        const backwards = [keys.at(-1)!];
        let before = all.at(-1)!.cursor!;
        for (let pages = 0; ; pages++) {
          assert.ok(pages <= all.length, "paging ends");
          const page = await list({ limit: 3, before });
          assert.ok(page.length <= 3);
          backwards.unshift(...page.map((stored) => stored.key));
          if (page.length < 3) break;
          before = page[0]!.cursor!;
        }
        assert.deepEqual(backwards, keys, "backwards: every session once, in order");

        assert.deepEqual(
          (await list({ limit: 2 })).map((stored) => stored.key),
          keys.slice(0, 2),
          "limit 2 gives the first two",
        );
        assert.deepEqual(
          (await list({ limit: 1, after: all[0]!.cursor! })).map((stored) => stored.key),
          keys.slice(1, 2),
        );
        const middle = Math.floor(all.length / 2);
        assert.deepEqual(
          (await list({ after: all[middle]!.cursor! })).map((stored) => stored.key),
          keys.slice(middle + 1),
        );
        if (e.countSessions) {
          assert.equal(await e.countSessions({ before: all[middle]!.cursor! }), middle, "counted before a cursor");
          assert.equal(
            await e.countSessions({ after: all[middle]!.cursor! }),
            all.length - middle - 1,
            "counted after a cursor",
          );
          assert.equal(await e.countSessions({ keyPrefix: made[0]!.slice(0, 10) }), 1, "counted under a key prefix");
          assert.equal(await e.countSessions({ keyPrefix: "../%_*" }), 0);
        }
        assert.deepEqual(
          (await list({ keyPrefix: made[0]!.slice(0, 10), limit: 5 })).map((stored) => stored.key),
          [made[0]],
        );
        await assert.rejects(
          list({ after: "not-a-cursor" }),
          { name: "InvalidCursor" },
          "a cursor the engine did not make is refused",
        );
        const cursor = all[0]!.cursor!;
        const at = Math.floor(cursor.length / 2);
        const changed = cursor.slice(0, at) + (cursor[at] === "A" ? "B" : "A") + cursor.slice(at + 1);
        await assert.rejects(list({ before: changed }), { name: "InvalidCursor" }, "so is a changed one");
      });
    }

    test("clearExpired removes expired records and keeps live ones", async () => {
      const e = await engine();
      const live = e.open(null);
      live.set("live", true);
      await live.save();
      const dying = e.open(null);
      dying.set("dying", true);
      dying.setExpiry(-10);
      await dying.save();
      const removed = await e.clearExpired();
      if (serverSide && removed !== undefined) assert.ok(removed >= 1, `removed ${removed}`);
      const still = await reopen(e, live.sessionKey);
      assert.equal(still.get("live"), true);
    });

    test("unicode, nesting and insertion order survive the store", async () => {
      const e = await engine();
      const session = e.open(null);
      const data = { "héllo ✓ 日本": { x: [1, 2.5, null, true, false] }, z: "last", a: "first?" };
      session.update(data);
      await session.save();
      const again = await reopen(e, session.sessionKey);
      assert.deepEqual(Object.fromEntries(again.items()), data);
      assert.deepEqual(again.keys(), Object.keys(data));
    });

    // ---- concurrent requests of one session (beyond Django) --------------------------------

    test("concurrent saves that change different keys keep every change", async (t) => {
      const e = await engine();
      if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
      const key = await seeded(e, { base: "kept" });
      // Every copy reads the record before any of them saves: a whole-record write loses all but one.
      const copies = await Promise.all(Array.from({ length: 12 }, () => reopen(e, key)));
      copies.forEach((copy, i) => copy.set(`k${i}`, i));
      await Promise.all(copies.map((copy) => copy.save()));
      const expected: SessionData = { base: "kept" };
      copies.forEach((_, i) => (expected[`k${i}`] = i));
      assert.deepEqual(await storedData(e, key), expected);
    });

    test("a change made in place, a deleted key and a new key from three requests all survive", async (t) => {
      const e = await engine();
      if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
      const key = await seeded(e, { cart: ["apple"], gone: 1, other: "x" });
      const [inPlace, deleting, adding] = await Promise.all([reopen(e, key), reopen(e, key), reopen(e, key)]);
      (inPlace.get("cart") as string[]).push("pear");
      deleting.delete("gone");
      adding.set("added", true);
      await Promise.all([inPlace.save(), deleting.save(), adding.save()]);
      assert.deepEqual(await storedData(e, key), { cart: ["apple", "pear"], other: "x", added: true });
    });

    test("clear() then a save replaces the record rather than merging into it", async (t) => {
      const e = await engine();
      if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
      const key = await seeded(e, { a: 1 });
      const [clearing, adding] = await Promise.all([reopen(e, key), reopen(e, key)]);
      adding.set("b", 2);
      await adding.save();
      clearing.clear();
      clearing.set("c", 3);
      await clearing.save();
      assert.deepEqual(await storedData(e, key), { c: 3 });
    });

    test("the session holds what the store holds after a merged save", async (t) => {
      const e = await engine();
      if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
      const key = await seeded(e, { a: 1 });
      const [first, second] = await Promise.all([reopen(e, key), reopen(e, key)]);
      first.set("b", 2);
      await first.save();
      second.set("c", 3);
      await second.save();
      assert.deepEqual(Object.fromEntries(second.items()), { a: 1, b: 2, c: 3 });
    });

    if (serverSide) {
      for (const how of ["deleteRecord", "flush"] as const) {
        test(`a ${how} that lands while a save is between its read and its write is never undone`, async (t) => {
          const e = await engine();
          if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
          const key = await seeded(e, { user: "alice" });
          const saving = await reopen(e, key);
          saving.set("cart", ["apple"]);
          let paused!: () => void;
          const reachedWrite = new Promise<void>((resolve) => (paused = resolve));
          let resume!: () => void;
          const resumed = new Promise<void>((resolve) => (resume = resolve));
          hooks.beforeWrite = async (sessionKey) => {
            if (sessionKey !== key) return;
            paused();
            await resumed;
          };
          try {
            const save = saving.save().then(
              () => "saved",
              (error: unknown) => {
                if (error instanceof UpdateError) return "interrupted";
                throw error;
              },
            );
            await reachedWrite;
            const ending = how === "flush" ? reopen(e, key).then((s) => s.flush()) : e.open(null).deleteRecord(key);
            // Let the delete run as far as the engine lets it before the save goes on.
            for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
            resume();
            await Promise.all([save, ending]);
          } finally {
            delete hooks.beforeWrite;
          }
          assert.equal(await e.open(null).exists(key), false, "the session is gone once both have finished");
          const after = await reopen(e, key);
          assert.deepEqual(after.items(), []);
          assert.equal(after.sessionKey, null);
        });
      }

      test("a save of a session deleted before it read the record fails with UpdateError and stores nothing", async (t) => {
        const e = await engine();
        if (!e.mergesSaves) return t.skip("the engine says the last save wins (mergesSaves is false)");
        const key = await seeded(e, { a: 1 });
        const copies = await Promise.all(Array.from({ length: 5 }, () => reopen(e, key)));
        await e.open(null).deleteRecord(key);
        copies.forEach((copy, i) => copy.set(`k${i}`, i));
        const results = await Promise.allSettled(copies.map((copy) => copy.save()));
        for (const result of results) {
          assert.equal(result.status, "rejected");
          assert.ok(result.reason instanceof UpdateError);
        }
        assert.equal(await e.open(null).exists(key), false);
      });

      test("locks: one holder per session at a time, in arrival order; a waiter that runs out of time gets null", async () => {
        const e = await engine();
        assert.ok(e.locks, "a server-side engine can lock");
        const key = await seeded(e, { a: 1 });
        const order: string[] = [];
        const first = await e.locks.acquire(key, { waitMs: 2000, leaseMs: 5000 });
        assert.ok(first);
        const second = e.locks.acquire(key, { waitMs: 2000, leaseMs: 5000 }).then((release) => {
          order.push("second");
          return release;
        });
        const third = e.locks.acquire(key, { waitMs: 2000, leaseMs: 5000 }).then((release) => {
          order.push("third");
          return release;
        });
        assert.equal(await e.locks.acquire(key, { waitMs: 30, leaseMs: 5000 }), null, "timed out");
        const other = await e.locks.acquire(await seeded(e, { b: 1 }), { waitMs: 100, leaseMs: 5000 });
        assert.ok(other, "another session is not held up");
        await other();
        order.push("first done");
        await first();
        await first(); // a second release is harmless
        const secondRelease = await second;
        assert.ok(secondRelease);
        await secondRelease();
        const thirdRelease = await third;
        assert.ok(thirdRelease);
        await thirdRelease();
        assert.deepEqual(order, ["first done", "second", "third"]);
      });
    } else {
      test("a client-side engine cannot lock (each response carries the whole session)", async () => {
        assert.equal((await engine()).locks, null);
      });
    }

    test("many sessions at once stay separate", async () => {
      const e = await engine();
      const sessions = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const session = e.open(null);
          session.set("i", i);
          await session.save();
          return session.sessionKey!;
        }),
      );
      assert.equal(new Set(sessions).size, 20);
      const values = await Promise.all(sessions.map(async (key) => (await reopen(e, key)).get("i")));
      assert.deepEqual(
        values,
        Array.from({ length: 20 }, (_, i) => i),
      );
    });
  });
}
