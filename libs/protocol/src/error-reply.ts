import { z } from 'zod';
import type { ErrorBody } from './errors';

/** The body of every refused REST reply and socket ack (ErrorBody in errors.ts), as a schema. */
export const ErrorReply = z.object({
  code: z.string(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
}) satisfies z.ZodType<ErrorBody>;
