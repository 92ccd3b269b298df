import { describe, expect, it } from '@jest/globals';
import { EMPTY_FORM, checkLocally, issuesByField, toStudyConfig } from './study-form';

describe('the create-study form', () => {
  it('sends typed numbers, seconds as milliseconds, and leaves empty optional fields to the server', () => {
    const config = toStudyConfig({
      ...EMPTY_FORM,
      name: ' Liver ',
      deadlineS: '90',
      patchSize: '16x32x8',
      targetDelta: '',
      privacy: 'central',
      sites: ['site-1'],
    });
    expect(config).toMatchObject({
      name: 'Liver',
      roundDeadlineMs: 90_000,
      training: { patchSize: [16, 32, 8], epochs: 1 },
      privacy: { mode: 'central', clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 10 },
      sites: ['site-1'],
    });
    expect(config['privacy']).not.toHaveProperty('targetDelta');
    expect(config).not.toHaveProperty('description');
    expect(config).not.toHaveProperty('secureAggregation');
    expect(toStudyConfig({ ...EMPTY_FORM, secAgg: true, secAggThreshold: '3' })).toMatchObject({
      secureAggregation: { threshold: 3 },
    });
  });

  it("checks each section with the protocol's schema and names the path", () => {
    const issues = checkLocally(
      toStudyConfig({ ...EMPTY_FORM, name: 'x', baseFilters: 'eight', depth: '9' }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['model.baseFilters', 'model.depth']);
    expect(checkLocally(toStudyConfig({ ...EMPTY_FORM, name: 'x' }))).toEqual([]);
  });

  it("puts the server's issues on the field that shows that path, the rest apart", () => {
    const { fields, rest } = issuesByField([
      { path: 'sites', message: 'fewer allowed sites than minSites' },
      { path: 'roundDeadlineMs', message: 'Too small' },
      { path: 'training.patchSize.1', message: 'Too small' },
      { path: 'requirements.minBatchSize', message: 'Too big' },
      { path: 'secureAggregation.threshold', message: 'Too small' },
      { path: 'secureAggregation', message: 'Unrecognized key: "rounds"' },
    ]);
    expect(fields).toEqual({
      sites: ['fewer allowed sites than minSites'],
      deadlineS: ['Too small'],
      patchSize: ['Too small'],
      secAggThreshold: ['Too small'],
      secAgg: ['Unrecognized key: "rounds"'],
    });
    expect(rest.map((i) => i.path)).toEqual(['requirements.minBatchSize']);
  });
});
