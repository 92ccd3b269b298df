import { FedsegError } from '@fedseg/protocol';

/** A model config that names something this library cannot build (unknown architecture, bad group count). */
export class ModelConfigError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('MODEL_CONFIG_INVALID', message, details);
  }
}

/** Weights whose manifest does not match the model (another architecture, depth or filter count). */
export class WeightsMismatchError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('WEIGHTS_MISMATCH', message, details);
  }
}

/** A training or evaluation sample whose arrays, shape or labels do not fit the model. */
export class SampleShapeError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('SAMPLE_SHAPE_INVALID', message, details);
  }
}

/** No tfjs backend could be started (or the one asked for explicitly is unknown). */
export class BackendUnavailableError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BACKEND_UNAVAILABLE', message, details);
  }
}

/** Local training stopped because the caller's AbortSignal fired; the model keeps the last finished step. */
export class TrainingAbortedError extends FedsegError {
  constructor(message: string) {
    super('TRAINING_ABORTED', message);
  }
}

/** An exported model directory that is missing files or does not parse. */
export class ExportedModelError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('EXPORTED_MODEL_INVALID', message, details);
  }
}
