import { FedsegError } from '@fedseg/protocol';

export class UnauthenticatedError extends FedsegError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

export class ForbiddenError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', message, details);
  }
}

export class RateLimitedError extends FedsegError {
  constructor(retryAfterMs: number) {
    super('RATE_LIMITED', `Too many attempts; retry in ${Math.ceil(retryAfterMs / 1000)} s.`, {
      retryAfterMs,
    });
  }
}

export class EnrollmentRefusedError extends FedsegError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}
