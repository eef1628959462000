/**
 * The route lock across processes: two SessionLocks over one shared lease store stand for two
 * app processes. Every store the engines use: the session_locks table on SQLite and PostgreSQL,
 * lock files, Redis.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { dbStore, sessionsOnly, tableLocks } from "../src/engines/db.js";
import { lockFiles } from "../src/engines/file.js";
import { RedisCache, toSqliteDatetime, type LockStore } from "../src/index.js";
import { SessionLocks } from "../src/locks.js";
import { memoryDatabase, memoryStore } from "../../../test/helpers.js";
import { NO_POSTGRES, NO_REDIS, postgresSchema, REDIS_URL, uniquePrefix } from "../../../test/services.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEY = "abcdefghijklmnopqrstuvwxyz012345";

interface StoreSetup {
  name: string;
  skip?: string | false;
  open(): Promise<{ store: LockStore; close(): Promise<void> }>;
}

const directory = mkdtempSync(join(tmpdir(), "session-locks-"));
after(() => rmSync(directory, { recursive: true, force: true }));

const STORES: StoreSetup[] = [
  {
    name: "session_locks table (SQLite, through kysely)",
    async open() {
      const db = await memoryDatabase();
      return { store: tableLocks(dbStore(sessionsOnly(db), toSqliteDatetime)), close: () => db.destroy() };
    },
  },
  {
    name: "session_locks table (SQLite, statements on the better-sqlite3 handle)",
    async open() {
      const { db, sqlite } = await memoryStore();
      return { store: tableLocks(dbStore(sessionsOnly(db), toSqliteDatetime, sqlite)), close: () => db.destroy() };
    },
  },
  {
    name: "session_locks table (PostgreSQL)",
    skip: NO_POSTGRES,
    async open() {
      const pg = await postgresSchema("locks");
      return { store: tableLocks(dbStore(sessionsOnly(pg.db), pg.dateValue)), close: () => pg.drop() };
    },
  },
  {
    name: "lock files",
    async open() {
      return { store: lockFiles(directory, "sessionid", ".request", Date.now), close: async () => {} };
    },
  },
  {
    name: "Redis",
    skip: NO_REDIS,
    async open() {
      const cache = new RedisCache({ url: REDIS_URL!, keyPrefix: uniquePrefix("locks") });
      return { store: cache.locks, close: () => cache.close() };
    },
  },
];

for (const setup of STORES) {
  describe(`route lock shared by two processes: ${setup.name}`, { skip: setup.skip ?? false }, () => {
    let opened: Awaited<ReturnType<StoreSetup["open"]>> | undefined;
    const store = async () => (opened ??= await setup.open()).store;
    after(() => opened?.close());

    test("the other process waits for the holder, then gets the lock", async () => {
      const shared = await store();
      const [a, b] = [new SessionLocks(shared), new SessionLocks(shared)];
      const held = await a.acquire(KEY, { waitMs: 1000, leaseMs: 5000 });
      assert.ok(held);
      let bGotIt = false;
      const waiting = b.acquire(KEY, { waitMs: 3000, leaseMs: 5000 }).then((release) => {
        bGotIt = true;
        return release;
      });
      await sleep(60);
      assert.equal(bGotIt, false, "held elsewhere: still waiting");
      await held();
      const release = await waiting;
      assert.ok(release, "taken once the holder gave it back");
      await release();
    });

    test("past its wait the other process gets null, and the holder keeps the lock", async () => {
      const shared = await store();
      const [a, b] = [new SessionLocks(shared), new SessionLocks(shared)];
      const held = await a.acquire(KEY, { waitMs: 1000, leaseMs: 5000 });
      assert.ok(held);
      const started = Date.now();
      assert.equal(await b.acquire(KEY, { waitMs: 150, leaseMs: 5000 }), null);
      assert.ok(Date.now() - started >= 140, "it waited");
      await held();
    });

    test("a holder that crashed (never gave it back) blocks only until its lease runs out", async () => {
      const shared = await store();
      const crashed = await new SessionLocks(shared).acquire(KEY, { waitMs: 1000, leaseMs: 200 });
      assert.ok(crashed);
      const release = await new SessionLocks(shared).acquire(KEY, { waitMs: 3000, leaseMs: 5000 });
      assert.ok(release, "taken over after the lease");
      await release();
    });

    test("a holder whose lease ran out cannot give back the lease someone else took since", async () => {
      const shared = await store();
      assert.equal(await shared.tryAcquire(KEY, "old-holder", 100), true);
      await sleep(150);
      assert.equal(await shared.tryAcquire(KEY, "new-holder", 5000), true);
      await shared.release(KEY, "old-holder");
      assert.equal(await shared.tryAcquire(KEY, "third", 5000), false, "the new holder still has it");
      await shared.release(KEY, "new-holder");
      assert.equal(await shared.tryAcquire(KEY, "third", 5000), true);
      await shared.release(KEY, "third");
    });
  });
}

test("lock files leave nothing behind once given back, and never take a key outside a-z0-9 to the disk", async () => {
  const own = mkdtempSync(join(tmpdir(), "session-lockfiles-"));
  try {
    const store = lockFiles(own, "sessionid", ".request", Date.now);
    assert.equal(await store.tryAcquire(KEY, "t", 5000), true);
    assert.deepEqual(readdirSync(own), [`sessionid${KEY}.request`]);
    await store.release(KEY, "t");
    assert.equal(
      await store.tryAcquire("../../etc/passwd", "t", 5000),
      true,
      "an unknown key: this process's queue is enough",
    );
    await store.release("../../etc/passwd", "t");
    assert.deepEqual(readdirSync(own), []);
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});

test("a lease store that fails: the error reaches the caller and this process's turn is given back", async () => {
  let failing = true;
  const store: LockStore = {
    tryAcquire: async () => {
      if (failing) throw new Error("the lease store is unreachable");
      return true;
    },
    release: async () => {},
  };
  const locks = new SessionLocks(store);
  assert.equal(locks.shared, true);
  assert.equal(new SessionLocks(null).shared, false);
  await assert.rejects(locks.acquire(KEY, { waitMs: 1000, leaseMs: 5000 }), /the lease store is unreachable/);
  failing = false;
  const release = await locks.acquire(KEY, { waitMs: 0, leaseMs: 5000 });
  assert.ok(release, "not left waiting behind the failed attempt");
  await release();
});

/** A lease store in memory that can be made unreachable, as a database is while it restarts. */
function outageStore(): {
  store: LockStore;
  leases: Map<string, string>;
  reachable: { now: boolean; lostAnswer: boolean };
} {
  const leases = new Map<string, string>();
  const reachable = { now: true, lostAnswer: false };
  const store: LockStore = {
    tryAcquire: async (name, token) => {
      if (!reachable.now) throw new Error("the lease store is unreachable");
      if (leases.has(name)) return false;
      leases.set(name, token);
      // Written, but the answer never came back (the connection was cut after COMMIT).
      if (reachable.lostAnswer) throw new Error("connection lost before the answer");
      return true;
    },
    release: async (name, token) => {
      if (!reachable.now) throw new Error("the lease store is unreachable");
      if (leases.get(name) === token) leases.delete(name);
    },
  };
  return { store, leases, reachable };
}

test("a lease the store could not give back is given back once the store answers again, not at the lease's end", async () => {
  const { store, leases, reachable } = outageStore();
  const [a, b] = [new SessionLocks(store), new SessionLocks(store)];
  const held = await a.acquire(KEY, { waitMs: 1000, leaseMs: 10_000 });
  assert.ok(held);
  reachable.now = false;
  await assert.rejects(held(), /the lease store is unreachable/);
  await sleep(150);
  reachable.now = true;
  const started = Date.now();
  const release = await b.acquire(KEY, { waitMs: 5000, leaseMs: 10_000 });
  assert.ok(release, "the other process got the lock");
  assert.ok(Date.now() - started < 3000, `within ${Date.now() - started} ms, not the 10 s lease`);
  await release();
  assert.equal(leases.size, 0);
});

test("a lease taken whose answer was lost is given back in the background", async () => {
  const { store, leases, reachable } = outageStore();
  reachable.lostAnswer = true;
  await assert.rejects(new SessionLocks(store).acquire(KEY, { waitMs: 1000, leaseMs: 10_000 }), /answer/);
  assert.equal(leases.size, 1, "the store holds the lease nobody knows it has");
  reachable.lostAnswer = false;
  const started = Date.now();
  const release = await new SessionLocks(store).acquire(KEY, { waitMs: 5000, leaseMs: 10_000 });
  assert.ok(release);
  assert.ok(Date.now() - started < 3000, `within ${Date.now() - started} ms, not the 10 s lease`);
  await release();
});
