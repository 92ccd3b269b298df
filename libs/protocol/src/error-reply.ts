import { z } from 'zod';
import type { ErrorBody } from './errors';

/** What was wrong (ErrorBody in errors.ts, as a schema): the socket acks' `error` and REST's `error`. */
export const ErrorInfo = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
}) satisfies z.ZodType<ErrorBody>;

/** The body of every refused REST reply: `{ "error": { "code", "message", "details"? } }`. */
export const ErrorReply = z.object({ error: ErrorInfo });
export type ErrorReply = z.infer<typeof ErrorReply>;
