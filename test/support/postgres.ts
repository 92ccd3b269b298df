import { createThrowawayDatabase } from '@fedseg/coordinator';

export const POSTGRES_ADMIN_URL =
  process.env.FEDSEG_TEST_POSTGRES ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

/** A fresh PostgreSQL database for one test file, dropped afterwards. */
export function createTestDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  return createThrowawayDatabase(POSTGRES_ADMIN_URL, prefix);
}
