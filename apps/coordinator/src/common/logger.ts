import pino, { type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

/** One pino root per process; components take children named after themselves. */
export function rootLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  root ??= pino({ level, base: { service: 'coordinator' } });
  return root;
}

export function childLogger(component: string): Logger {
  return rootLogger().child({ component });
}
