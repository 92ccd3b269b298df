import { FedsegError } from '@fedseg/protocol';

/**
 * Aggregation refused or could not finish: a wrong-length update, too few sites for a robust strategy,
 * a strategy state from another model. Nothing is half-applied: the global weights and the strategy
 * state passed in are never modified.
 */
export class AggregationError extends FedsegError {
  constructor(message: string, code = 'AGGREGATION_FAILED', details?: Record<string, unknown>) {
    super(code, message, details);
  }
}

/** An update whose parameter count differs from the global model's. */
export class UpdateLengthError extends AggregationError {
  constructor(siteId: string, actual: number, expected: number) {
    super(
      `Update from site ${siteId} has ${actual} parameters but the global model has ${expected}; the site trained another model version.`,
      'UPDATE_LENGTH_MISMATCH',
      { siteId, actual, expected },
    );
  }
}

/** A compressed update that cannot be decoded (unknown codec, inconsistent lengths, indices out of range). */
export class UpdateCodecError extends FedsegError {
  constructor(message: string) {
    super('UPDATE_CODEC_INVALID', message);
  }
}

/** The study's privacy budget would be exceeded by one more round; the study should stop. */
export class PrivacyBudgetExhaustedError extends FedsegError {
  constructor(epsilonSpent: number, epsilonNext: number, epsilonBudget: number) {
    super(
      'PRIVACY_BUDGET_EXHAUSTED',
      `Privacy budget spent: epsilon is ${epsilonSpent.toFixed(3)} and one more round would reach ${epsilonNext.toFixed(3)}, over the budget of ${epsilonBudget}. Start a new study with a larger budget or more noise to train further.`,
      { epsilonSpent, epsilonNext, epsilonBudget },
    );
  }
}

export function assertLength(weights: Float32Array, expected: number, siteId: string): void {
  if (weights.length !== expected) throw new UpdateLengthError(siteId, weights.length, expected);
}
