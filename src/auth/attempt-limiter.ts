/**
 * Counts login attempts per account in fixed one-minute windows, so an account cannot be
 * guessed at from many addresses (the per-address limit is @fastify/rate-limit's). Bounded:
 * the least recently tried names are forgotten first.
 */
import { LRUCache } from "lru-cache";

export class TooManyAttempts extends Error {
  override name = "TooManyAttempts";
  readonly statusCode = 429;
  constructor() {
    super("Too many login attempts for this account.");
  }
}

export class AttemptLimiter {
  private readonly windows = new LRUCache<string, { count: number; endsAt: number }>({ max: 10_000 });

  constructor(
    private readonly max: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an attempt; throws TooManyAttempts once `max` attempts fall in the window. */
  hit(key: string): void {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    if (window.count > this.max) throw new TooManyAttempts();
  }
}
