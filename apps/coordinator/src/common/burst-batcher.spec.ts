import { BurstBatcher, type BatchOutcome } from './burst-batcher';

/** A write that records what it was given and answers each item by a rule; resolves when `release` is called. */
function gatedWriter<T, R>(answer: (item: T) => BatchOutcome<R>) {
  const calls: T[][] = [];
  let release: () => void = () => undefined;
  let gate = new Promise<void>((resolve) => (release = resolve));
  return {
    calls,
    open() {
      release();
    },
    close() {
      gate = new Promise<void>((resolve) => (release = resolve));
    },
    write: async (items: readonly T[]) => {
      calls.push([...items]);
      await gate;
      return items.map(answer);
    },
  };
}

const settle = <R>(p: Promise<R>) =>
  p.then(
    (value) => ({ value }),
    (err: unknown) => ({ error: (err as Error).message }),
  );

describe('BurstBatcher (group commit)', () => {
  it('writes what arrives during a write in one next batch, grouped, and hands each caller its own outcome', async () => {
    const writer = gatedWriter<number, number>((n) =>
      n % 5 === 0 ? { error: new Error(`refused ${n}`) } : { value: n * 10 },
    );
    const commits = new BurstBatcher<number, number>((n) => (n % 2 === 0 ? 'even' : 'odd'), writer.write);
    const first = settle(commits.submit(1)); // starts a write at once, alone
    const burst = [2, 3, 4, 5, 6, 10].map((n) => settle(commits.submit(n)));
    await new Promise((r) => setImmediate(r));
    expect(writer.calls).toEqual([[1]]); // the burst waits for the write in flight
    writer.open();
    expect(await first).toEqual({ value: 10 });
    expect(await Promise.all(burst)).toEqual([
      { value: 20 },
      { value: 30 },
      { value: 40 },
      { error: 'refused 5' },
      { value: 60 },
      { error: 'refused 10' },
    ]);
    // One write per group of the burst, in order of first arrival.
    expect(writer.calls).toEqual([[1], [2, 4, 6, 10], [3, 5]]);
  });

  it('fails every item of a group whose write throws, and goes on with the next group and the next submit', async () => {
    const calls: string[][] = [];
    const commits = new BurstBatcher<string, string>(
      (s) => s[0]!,
      async (items) => {
        calls.push([...items]);
        if (items[0]!.startsWith('x')) throw new Error('database gone');
        return items.map((s) => ({ value: s.toUpperCase() }));
      },
    );
    const outcomes = await Promise.all(['a1', 'x1', 'x2', 'b1'].map((s) => settle(commits.submit(s))));
    expect(outcomes).toEqual([
      { value: 'A1' },
      { error: 'database gone' },
      { error: 'database gone' },
      { value: 'B1' },
    ]);
    expect(await commits.submit('c1')).toBe('C1');
  });

  it('splits a burst larger than its batch bound into several writes', async () => {
    const sizes: number[] = [];
    const writer = gatedWriter((n: number) => ({ value: n }));
    const commits = new BurstBatcher<number, number>(
      () => 'one',
      async (items) => {
        sizes.push(items.length);
        return writer.write(items);
      },
      3,
    );
    writer.open();
    const all = Array.from({ length: 8 }, (_, i) => commits.submit(i));
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sizes).toEqual([1, 3, 3, 1]);
  });

  it('rejects an item the write gave no outcome for, instead of leaving its caller waiting', async () => {
    const commits = new BurstBatcher<number, number>(
      () => 'one',
      async () => [],
    );
    await expect(commits.submit(1)).rejects.toThrow('no outcome');
  });
});
