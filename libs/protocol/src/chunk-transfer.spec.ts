import { ChunkLedger, ChunkWindow, TransferError, chunkCount, chunkRange, runWindow } from './chunk-transfer';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TransferError) return err.code;
    throw err;
  }
  return 'no error';
}

/** Drains a window: takes what it allows, acks in the given order, returns the order chunks were taken. */
function takeAll(w: ChunkWindow): number[] {
  const out: number[] = [];
  for (let i = w.take(); i !== undefined; i = w.take()) out.push(i);
  return out;
}

describe('chunk layout', () => {
  it('splits 2500 bytes in chunks of 1000 as 1000, 1000, 500 and refuses chunk 3', () => {
    expect(chunkCount(2500, 1000)).toBe(3);
    expect(chunkRange(2500, 1000, 0)).toEqual({ offset: 0, length: 1000 });
    expect(chunkRange(2500, 1000, 2)).toEqual({ offset: 2000, length: 500 });
    expect(code(() => chunkRange(2500, 1000, 3))).toBe('BAD_CHUNK');
    expect(code(() => chunkRange(2500, 1000, -1))).toBe('BAD_CHUNK');
  });
});

describe('the sender window', () => {
  it('keeps at most `window` chunks in flight and hands out the lowest missing chunk first', () => {
    const w = new ChunkWindow(10, 3);
    expect(takeAll(w)).toEqual([0, 1, 2]);
    expect(w.take()).toBeUndefined();
    w.ack(1); // acks may come out of order
    expect(takeAll(w)).toEqual([3]);
    expect(w.prefix).toBe(0);
    w.ack(0);
    expect(w.prefix).toBe(2);
    expect(w.acknowledged).toBe(2);
    expect(takeAll(w)).toEqual([4]);
  });

  it('sends a released chunk again (its request failed) before any later one', () => {
    const w = new ChunkWindow(5, 2);
    expect(takeAll(w)).toEqual([0, 1]);
    w.ack(0);
    w.releaseAll(); // the connection dropped with chunk 1 in flight
    expect(w.pending).toBe(0);
    expect(takeAll(w)).toEqual([1, 2]);
  });

  it('resumes at the receiver prefix: chunks before it done, chunks after it sent again', () => {
    const w = new ChunkWindow(6, 4);
    takeAll(w).forEach((i) => w.ack(i)); // 0..3 acked here
    w.resumeAt(2); // but the receiver kept only 0 and 1
    expect(w.acknowledged).toBe(2);
    expect(w.prefix).toBe(2);
    expect(takeAll(w)).toEqual([2, 3, 4, 5]);
    [2, 3, 4, 5].forEach((i) => w.ack(i));
    expect(w.complete).toBe(true);
  });

  it('refuses an ack of a chunk not in flight (duplicate or unknown) and changes nothing', () => {
    const w = new ChunkWindow(3, 2);
    const [a] = takeAll(w);
    w.ack(a!);
    expect(code(() => w.ack(a!))).toBe('UNEXPECTED_ACK');
    expect(code(() => w.ack(2))).toBe('UNEXPECTED_ACK');
    expect(w.acknowledged).toBe(1);
    expect(w.pending).toBe(1);
    expect(code(() => w.resumeAt(1))).toBe('TRANSFER_BUSY');
    expect(code(() => new ChunkWindow(0, 1))).toBe('BAD_TRANSFER');
    expect(code(() => new ChunkWindow(3, 0))).toBe('BAD_TRANSFER');
  });
});

describe('the receiver ledger', () => {
  it('counts each chunk once and knows the contiguous prefix', () => {
    const l = new ChunkLedger(4);
    for (const i of [0, 2, 1]) l.settle(i, l.claim(i));
    expect(l.stored).toBe(3);
    expect(l.prefix).toBe(3);
    expect(l.complete).toBe(false);
    l.settle(3, l.claim(3));
    expect(l.complete).toBe(true);
  });

  it('refuses an out-of-range chunk and a duplicate (stored or being stored) with clear errors and no change', () => {
    const l = new ChunkLedger(3);
    l.settle(0, l.claim(0));
    l.claim(1);
    expect(code(() => l.claim(3))).toBe('BAD_CHUNK');
    expect(code(() => l.claim(-1))).toBe('BAD_CHUNK');
    expect(code(() => l.claim(0))).toBe('DUPLICATE_CHUNK');
    expect(code(() => l.claim(1))).toBe('DUPLICATE_CHUNK');
    expect(l.stored).toBe(1);
    expect(l.prefix).toBe(1);
    expect(() => l.claim(2)).not.toThrow(); // the refusals left chunk 2 claimable
  });

  it('rewinds to its prefix for a resumed sender; a write of the dropped connection finishing later does not count', () => {
    const l = new ChunkLedger(5);
    l.settle(0, l.claim(0));
    l.settle(1, l.claim(1));
    l.settle(3, l.claim(3)); // past a gap
    const late = l.claim(2); // still being written when the connection drops
    expect(l.rewind()).toBe(2);
    expect(l.stored).toBe(2);
    expect(l.settle(2, late)).toBe(false);
    expect(l.stored).toBe(2);
    const again = l.claim(2);
    l.abandon(2, late); // stale: must not drop the new claim
    expect(code(() => l.claim(2))).toBe('DUPLICATE_CHUNK');
    expect(l.settle(2, again)).toBe(true);
    expect(l.prefix).toBe(3);
  });
});

describe('running a window', () => {
  it('keeps at most `window` requests in flight, stops at a failure, and resumes where it stopped', async () => {
    const w = new ChunkWindow(8, 3);
    const got = new Set<number>();
    let active = 0;
    let most = 0;
    const send = (failAt: number | undefined) => async (i: number) => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setImmediate(r));
      active--;
      if (i === failAt) throw new Error('connection lost');
      if (got.has(i)) throw new Error(`chunk ${i} sent twice`);
      got.add(i);
    };
    await expect(runWindow(w, send(4))).rejects.toThrow('connection lost');
    expect(most).toBe(3);
    expect(w.pending).toBe(0);
    const before = w.acknowledged;
    expect(before).toBeGreaterThan(0);
    expect(got.has(4)).toBe(false);
    await runWindow(w, send(undefined));
    expect(w.complete).toBe(true);
    expect([...got].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
