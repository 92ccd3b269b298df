import { isDatabaseUnavailable } from '../database/unavailable';
import { FedsegError, type ErrorBody } from '@fedseg/protocol';
import type { Logger } from './logger';

/** One mapping from any thrown value to what a client sees; unexpected errors are logged, not leaked. */
export function toErrorBody(err: unknown, log: Logger): ErrorBody {
  if (err instanceof FedsegError)
    return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  if (isDatabaseUnavailable(err)) {
    log.warn({ err: (err as Error).message }, 'database unreachable');
    return {
      code: 'UNAVAILABLE',
      message: "The coordinator's database is unreachable right now; nothing was stored. Try again shortly.",
    };
  }
  log.error({ err }, 'unexpected error');
  return {
    code: 'INTERNAL',
    message: 'The coordinator failed to handle this request; its log has the details.',
  };
}

export function httpStatusOf(code: string): number {
  if (code === 'VALIDATION_FAILED' || code === 'TENSOR_CODEC_INVALID' || code === 'MALFORMED_JSON')
    return 400;
  if (code === 'UNAUTHENTICATED' || code === 'BAD_SIGNATURE' || code.startsWith('ENROLLMENT_TOKEN_'))
    return 401;
  if (code === 'FORBIDDEN') return 403;
  if (code === 'PAYLOAD_TOO_LARGE') return 413;
  if (code === 'RATE_LIMITED') return 429;
  if (code.endsWith('_NOT_FOUND')) return 404;
  if (code.endsWith('_CONFLICT') || code.startsWith('DUPLICATE_')) return 409;
  if (code === 'INTERNAL') return 500;
  if (code === 'UNAVAILABLE') return 503;
  return 400;
}
