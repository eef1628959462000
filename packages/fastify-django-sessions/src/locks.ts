/**
 * Per-session locks for routes with `config: { session: { lock: true } }` (beyond Django; the
 * nearest relative is Laravel's `->block()`). Requests of one session queue in this process
 * first, in arrival order, so only the head of the queue asks the store; where the store is
 * shared by several processes (a database table, Redis, lock files) the lock is a lease there,
 * which ends by itself after `leaseMs`, so a crashed holder never blocks a session for good.
 */
import { randomBytes } from "node:crypto";

/** A lease in a shared store, taken and given back by token. */
export interface LockStore {
  /** Takes the lease on `name` if it is free or its lease has run out; false while another holds it. */
  tryAcquire(name: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease back if `token` still holds it. */
  release(name: string, token: string): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for the lock before giving up. */
  waitMs: number;
  /** How long the lock is held at most (then others may take it). */
  leaseMs: number;
}

/** Gives the lock back; safe to call more than once. */
export type ReleaseLock = () => Promise<void>;

interface Queue {
  waiters: (() => void)[];
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The first pause before giving back again a lease the store could not take back; doubled up to 1 s. */
const RETRY_RELEASE_MS = 100;

export class SessionLocks {
  readonly #store: LockStore | null;
  readonly #queues = new Map<string, Queue>();

  /** `store`: the shared lease store, or null where one process is all there is. */
  constructor(store: LockStore | null) {
    this.#store = store;
  }

  /** Whether the lock is shared with other processes through the store. */
  get shared(): boolean {
    return this.#store !== null;
  }

  /**
   * Waits for this session's turn: resolves to a release function, or null when `waitMs` passed
   * first (the caller then must not touch the session).
   */
  async acquire(name: string, { waitMs, leaseMs }: LockOptions): Promise<ReleaseLock | null> {
    const deadline = Date.now() + waitMs;
    if (!(await this.#takeLocal(name, deadline))) return null;
    const token = randomBytes(12).toString("hex");
    const store = this.#store;
    if (store !== null) {
      let taken: boolean;
      try {
        taken = await this.#takeShared(store, name, token, leaseMs, deadline);
      } catch (error) {
        // The store may have taken the lease and lost only its answer (a connection cut after COMMIT).
        releaseLater(store, name, token, Date.now() + leaseMs);
        this.#releaseLocal(name);
        throw error;
      }
      if (!taken) {
        this.#releaseLocal(name);
        return null;
      }
    }
    // When the lease ends at the latest (the store started it just now).
    const leaseEnd = Date.now() + leaseMs;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await store?.release(name, token);
      } catch (error) {
        if (store !== null) releaseLater(store, name, token, leaseEnd);
        throw error;
      } finally {
        this.#releaseLocal(name);
      }
    };
  }

  /** First in this process: a FIFO per name, handed from one holder to the next. */
  #takeLocal(name: string, deadline: number): Promise<boolean> {
    const queue = this.#queues.get(name);
    if (queue === undefined) {
      this.#queues.set(name, { waiters: [] });
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          const at = queue.waiters.indexOf(waiter);
          if (at >= 0) queue.waiters.splice(at, 1);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      queue.waiters.push(waiter);
    });
  }

  #releaseLocal(name: string): void {
    const queue = this.#queues.get(name);
    const next = queue?.waiters.shift();
    if (next) next();
    else this.#queues.delete(name);
  }

  /** Then in the store, asking again with a growing pause while another process holds it. */
  async #takeShared(
    store: LockStore,
    name: string,
    token: string,
    leaseMs: number,
    deadline: number,
  ): Promise<boolean> {
    let pause = 2;
    for (;;) {
      if (await store.tryAcquire(name, token, leaseMs)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await sleep(Math.min(left, pause * (0.5 + Math.random())));
      pause = Math.min(pause * 2, 50);
    }
  }
}

/**
 * A lease the store could not give back (it was unreachable: a database restarting) is asked
 * for again in the background until it would have ended anyway, so that the session's next
 * request waits for the store to come back rather than for the whole lease.
 */
function releaseLater(store: LockStore, name: string, token: string, leaseEnd: number): void {
  let pause = RETRY_RELEASE_MS;
  const retry = () => {
    if (Date.now() + pause >= leaseEnd) return;
    const timer = setTimeout(() => void store.release(name, token).catch(retry), pause);
    timer.unref();
    pause = Math.min(pause * 2, 1000);
  };
  retry();
}
