import { StudyConfig } from './study-config';
import { parseOrThrow } from './parse';
import { ValidationError } from './errors';

describe('study config', () => {
  it('fills documented defaults from a minimal config', () => {
    const c = StudyConfig.parse({ name: 'liver', rounds: 3 });
    expect(c.model.architecture).toBe('unet3d');
    expect(c.training.epochs).toBe(1);
    expect(c.strategy).toEqual({ name: 'fedavg' });
    expect(c.minSites).toBe(1);
  });

  it('names every offending field in the validation error', () => {
    let caught: unknown;
    try {
      parseOrThrow(StudyConfig, { name: 'x', rounds: 0, training: { epochs: -1 } }, 'study config');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    const e = caught as ValidationError;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details?.fields).toEqual(expect.arrayContaining(['rounds', 'training.epochs']));
    expect(e.message).toMatch(/rounds/);
  });

  it('refuses sitesPerRound below minSites', () => {
    expect(() =>
      parseOrThrow(StudyConfig, { name: 'x', rounds: 1, minSites: 3, sitesPerRound: 2 }, 'study config'),
    ).toThrow(/sitesPerRound/);
  });

  it('refuses Krum with fewer than 2f + 3 sites per round, naming minSites', () => {
    const krum = { name: 'k', rounds: 1, strategy: { name: 'krum', byzantine: 2 } };
    const refused = StudyConfig.safeParse({ ...krum, minSites: 6 });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => i.path.join('.'))).toEqual(['minSites']);
    expect(refused.error?.issues[0]?.message).toMatch(/2f \+ 3/);
    expect(StudyConfig.safeParse({ ...krum, minSites: 7 }).success).toBe(true);
    expect(StudyConfig.safeParse({ ...krum, strategy: { name: 'multi-krum' }, minSites: 5 }).success).toBe(
      true,
    );
  });

  it('refuses secure aggregation with strategies and codecs that need single updates, and minSites below t', () => {
    const base = { name: 's', rounds: 1, minSites: 3, secureAggregation: { threshold: 3 } };
    expect(StudyConfig.parse(base).secureAggregation).toEqual({ threshold: 3, phaseDeadlineMs: 120_000 });
    const fields = (input: object) => StudyConfig.safeParse(input).error?.issues.map((i) => i.path.join('.'));
    expect(fields({ ...base, strategy: { name: 'median' } })).toEqual(['strategy.name']);
    expect(fields({ ...base, strategy: { name: 'trimmed-mean' } })).toEqual(['strategy.name']);
    expect(fields({ ...base, compression: { codec: 'int8' } })).toEqual(['compression.codec']);
    expect(fields({ ...base, minSites: 2 })).toEqual(['minSites']);
    expect(fields({ ...base, secureAggregation: { threshold: 1 } })).toEqual(['secureAggregation.threshold']);
  });
});
