import { z } from 'zod';

/**
 * Places where the fault suite, `npm run chaos` and `npm run soak` kill the coordinator on purpose, each at the
 * worst moment for its step:
 *   dispatch         a training task went to the first site of a round, the rest not yet
 *   mid-upload       a site's update is part-way through its chunks
 *   before-record    an update's bytes are in the blob store but not yet in the database
 *   mid-aggregation  the new global model is in the blob store but not yet committed
 *   mid-evaluation   a site's validation metrics are stored, its ack not yet sent (others still pending)
 */
export const FAULT_POINTS = [
  'dispatch',
  'mid-upload',
  'before-record',
  'mid-aggregation',
  'mid-evaluation',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** `FEDSEG_FAULT_KILL_AT=<point>[@<n>]`: SIGKILL at the n-th time (default the first) the point is reached. */
const FaultSpec = z.object({
  point: z.enum(FAULT_POINTS),
  nth: z.coerce.number().int().min(1).default(1),
});

function parseSpec(raw: string | undefined): { point: FaultPoint; nth: number } | null {
  if (!raw) return null;
  const [point, nth, ...rest] = raw.split('@');
  const parsed = FaultSpec.safeParse({ point, nth });
  if (!parsed.success || rest.length > 0 || nth === '')
    throw new Error(
      `FEDSEG_FAULT_KILL_AT=${raw} is not a fault point (${FAULT_POINTS.join(', ')}, optionally @<n>)`,
    );
  return parsed.data;
}

// Read once: a misspelt fault point fails the coordinator at start, not silently never.
const spec = parseSpec(process.env.FEDSEG_FAULT_KILL_AT);
let reached = 0;

/** A no-op unless FEDSEG_FAULT_KILL_AT names this point; then the process dies here, without any cleanup. */
export function faultPoint(point: FaultPoint): void {
  if (!spec || spec.point !== point) return;
  reached += 1;
  if (reached < spec.nth) return;
  process.stderr.write(`fault point ${point}@${reached}: SIGKILL (FEDSEG_FAULT_KILL_AT)\n`);
  process.kill(process.pid, 'SIGKILL');
}

export { parseSpec as parseFaultSpec };
