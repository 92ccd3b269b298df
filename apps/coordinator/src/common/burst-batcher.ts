/** What one item of a batch came to: a value for its caller, or the error its caller gets. */
export type BatchOutcome<R> = { value: R } | { error: unknown };

interface Pending<T, R> {
  item: T;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/**
 * Group commit, for writes and reads alike: items that arrive while one batch is in flight wait for the next,
 * which handles them all at once (`handle` gets the items of one group, e.g. of one round, and says what
 * became of each). A burst of N arrivals (one per site) costs a handful of queries or transactions, not N. A
 * `handle` that throws fails every item of its group.
 */
export class BurstBatcher<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private flushing = false;

  constructor(
    private readonly groupOf: (item: T) => string,
    private readonly handle: (items: readonly T[]) => Promise<ReadonlyArray<BatchOutcome<R>>>,
    /** Bounds one batch; a bigger burst is handled in several. */
    private readonly maxBatch = 256,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        const groups = new Map<string, Array<Pending<T, R>>>();
        for (const p of batch) {
          const key = this.groupOf(p.item);
          const group = groups.get(key);
          if (group) group.push(p);
          else groups.set(key, [p]);
        }
        for (const group of groups.values()) await this.writeGroup(group);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeGroup(group: ReadonlyArray<Pending<T, R>>): Promise<void> {
    let outcomes: ReadonlyArray<BatchOutcome<R>>;
    try {
      outcomes = await this.handle(group.map((p) => p.item));
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    group.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome) p.reject(new Error('burst batcher: the batch returned no outcome for an item'));
      else if ('value' in outcome) p.resolve(outcome.value);
      else p.reject(outcome.error);
    });
  }
}
