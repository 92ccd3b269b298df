/**
 * Whether an error means "the database cannot be reached right now" (server down, restarting, connection
 * dropped), as opposed to a query that is wrong. The first kind is retried; the second is a bug to surface.
 * Kept here so that Prisma's and pg's error shapes stay inside the database layer.
 */
const UNAVAILABLE_CODES = new Set([
  // Prisma: can't reach the server, timed out, the server closed the connection, pool timeout
  'P1001',
  'P1002',
  'P1008',
  'P1017',
  'P2024',
  // PostgreSQL SQLSTATE: connection exceptions, admin shutdown, crash shutdown, cannot connect now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  // Node sockets
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

const UNAVAILABLE_MESSAGE =
  /ECONNREFUSED|ECONNRESET|Connection terminated|terminating connection|database system is (starting up|shutting down|in recovery mode)|Can't reach database server|Server has closed the connection|Connection refused|DatabaseNotReachable|Client has encountered a connection error/i;

export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): boolean => {
    if (value === null || typeof value !== 'object' || seen.has(value) || depth > 6) return false;
    seen.add(value);
    const record = value as Record<string, unknown>;
    for (const key of ['code', 'errorCode', 'originalCode']) {
      const code = record[key];
      if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
    }
    if (record.kind === 'DatabaseNotReachable' || record.kind === 'ConnectionClosed') return true;
    if (typeof record.message === 'string' && UNAVAILABLE_MESSAGE.test(record.message)) return true;
    return ['cause', 'meta', 'error', 'driverAdapterError'].some((key) => visit(record[key], depth + 1));
  };
  return visit(err, 0);
}
