import { RateLimitedError } from './auth.errors';

/**
 * A fixed-window counter per key (a remote address): at most `limit` events per `windowMs`. In memory, per
 * coordinator process; enough to blunt guessing and connection floods from one source.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one event; returns 0 when allowed, else the milliseconds until the window reopens. */
  hit(key: string): number {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.prune(t);
      w = { start: t, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.limit ? w.start + this.windowMs - t : 0;
  }

  /** Counts one event and refuses it with RATE_LIMITED (HTTP 429) once the window is full. */
  check(key: string): void {
    const wait = this.hit(key);
    if (wait > 0) throw new RateLimitedError(wait);
  }

  /** Milliseconds until `key` may try again; 0 when it may now. Counts nothing. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    const t = this.now();
    if (!w || t - w.start >= this.windowMs || w.count < this.limit) return 0;
    return w.start + this.windowMs - t;
  }

  private prune(t: number): void {
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }
}
