/**
 * Base of every error fedseg throws on purpose. `code` is stable (clients match on it); `message` says what
 * was wrong and what to do. The coordinator maps these once to HTTP statuses and socket acks.
 */
export class FedsegError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** Extra fields a client may use (the offending field, an id), never secrets or data. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('VALIDATION_FAILED', message, details);
  }
}

export class TensorCodecError extends FedsegError {
  constructor(message: string) {
    super('TENSOR_CODEC_INVALID', message);
  }
}

/** The shape of a failed reply on sockets and REST alike. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
