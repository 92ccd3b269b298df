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
});
