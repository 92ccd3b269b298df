import { trainingLossRows, validationMeanRows } from './round-metrics';

describe('a round metric rows', () => {
  it('writes each site loss and their sample-weighted mean, skipping sites without one', () => {
    const { trainLoss, rows } = trainingLossRows('study', 2, [
      { siteId: 'a', samples: 10, trainLoss: 0.5 },
      { siteId: 'b', samples: 30, trainLoss: 0.1 },
      { siteId: 'c', samples: 20, trainLoss: null },
    ]);
    // (10 * 0.5 + 30 * 0.1) / 40 = 0.2; site c sent no loss, so its samples count in the total only.
    expect(trainLoss).toBeCloseTo(0.2, 12);
    expect(rows).toEqual([
      { studyId: 'study', roundIndex: 2, siteId: 'a', split: 'train', name: 'loss', value: 0.5, samples: 10 },
      { studyId: 'study', roundIndex: 2, siteId: 'b', split: 'train', name: 'loss', value: 0.1, samples: 30 },
      {
        studyId: 'study',
        roundIndex: 2,
        siteId: null,
        split: 'train',
        name: 'loss',
        value: trainLoss,
        samples: 60,
      },
    ]);
  });

  it('writes no mean when no site sent a loss', () => {
    expect(trainingLossRows('study', 1, [{ siteId: 'a', samples: 4, trainLoss: null }])).toEqual({
      trainLoss: null,
      rows: [],
    });
  });

  it('averages each validation metric over the sites that reported it, weighted by their cases', () => {
    const rows = validationMeanRows('study', 3, [
      { name: 'dice', value: 0.9, samples: 2 },
      { name: 'dice', value: 0.6, samples: 1 },
      { name: 'hd95', value: 4, samples: 2 },
      { name: 'hd95', value: Number.NaN, samples: 1 },
    ]);
    expect(rows).toEqual([
      {
        studyId: 'study',
        roundIndex: 3,
        siteId: null,
        split: 'val',
        name: 'dice',
        value: expect.closeTo(0.8, 12),
        samples: 3,
      },
      { studyId: 'study', roundIndex: 3, siteId: null, split: 'val', name: 'hd95', value: 4, samples: 3 },
    ]);
  });
});
