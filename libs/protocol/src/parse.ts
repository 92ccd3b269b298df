import { z } from 'zod';
import { ValidationError } from './errors';

/**
 * Parses untrusted input with a schema; on failure throws a ValidationError whose message names every
 * offending field (`training.epochs: Too small: expected number to be >=1`).
 */
export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(`Invalid ${what}: ${summary}`, {
    fields: issues.map((i) => i.path),
    issues,
  });
}
