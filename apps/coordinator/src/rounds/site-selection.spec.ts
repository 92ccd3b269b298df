import { selectSites } from './site-selection';
import { taskIdFor } from './task-id';
import { weightedMean } from './weighted-mean';
import { Wakeup } from './wakeup';

describe('site selection', () => {
  const ids = ['d', 'a', 'c', 'b', 'e'];

  it('takes every eligible site, sorted, when no count is set or the count is not smaller', () => {
    expect(selectSites(ids, undefined, 1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(selectSites(ids, 9, 1)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('picks the same subset for the same seed and different subsets across seeds', () => {
    const first = selectSites(ids, 2, 42);
    expect(first).toHaveLength(2);
    expect(selectSites([...ids].reverse(), 2, 42)).toEqual(first);
    const seen = new Set(Array.from({ length: 20 }, (_, seed) => selectSites(ids, 2, seed).join(',')));
    expect(seen.size).toBeGreaterThan(3);
  });
});

describe('task ids', () => {
  it('are UUID-shaped, stable for the same task and distinct across kind, site and round', () => {
    const id = taskIdFor('s', 1, 'site', 'train');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(taskIdFor('s', 1, 'site', 'train')).toBe(id);
    expect(
      new Set([
        id,
        taskIdFor('s', 1, 'site', 'evaluate'),
        taskIdFor('s', 2, 'site', 'train'),
        taskIdFor('s', 1, 'x', 'train'),
      ]).size,
    ).toBe(4);
  });
});

describe('weighted mean', () => {
  it('weights by samples and ignores non-finite values and empty sites (hand-computed)', () => {
    // (0.5*1 + 0.8*3) / 4 = 0.725
    expect(
      weightedMean([
        { value: 0.5, samples: 1 },
        { value: 0.8, samples: 3 },
        { value: Number.NaN, samples: 5 },
        { value: 9, samples: 0 },
      ]),
    ).toBeCloseTo(0.725, 12);
    expect(weightedMean([])).toBeNull();
  });
});

describe('wakeup', () => {
  it('resolves on notify before the timeout, and remembers a notify that came before the wait', async () => {
    const w = new Wakeup();
    const started = Date.now();
    setTimeout(() => w.notify(), 10);
    await w.wait(10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    w.notify();
    await w.wait(10_000);
    const t = Date.now();
    await w.wait(30);
    expect(Date.now() - t).toBeGreaterThanOrEqual(25);
  });
});
