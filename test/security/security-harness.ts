import crypto from 'node:crypto';
import type { PrismaClient } from '@prisma/client';
import type { Socket } from 'socket.io-client';
import { expect } from '@jest/globals';

/**
 * What every attack case checks afterwards: no business row changed. Each table is fingerprinted as md5 over
 * its rows in id order, leaving out only bookkeeping that honest traffic touches (last-seen and
 * last-used times, the backend an agent reported). The audit log is left out: a refusal is recorded there.
 */
const TABLES: Record<string, string[]> = {
  site: ['last_seen_at', 'backend_info', 'max_concurrent_studies'],
  enrollment_token: [],
  app_user: [],
  api_token: ['last_used_at'],
  study: ['updated_at'],
  round: [],
  site_update: [],
  checkpoint: [],
  metric: [],
  study_approval: [],
  secagg_message: [],
};

export async function snapshot(prisma: PrismaClient): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, volatile] of Object.entries(TABLES)) {
    const minus = volatile.map((c) => ` - '${c}'`).join('');
    const rows = await prisma.$queryRawUnsafe<Array<{ n: bigint; h: string | null }>>(
      `SELECT count(*) AS n, md5(string_agg((to_jsonb(t)${minus})::text, '|' ORDER BY t.id)) AS h FROM "${table}" t`,
    );
    out[table] = `${rows[0]!.n}:${rows[0]!.h ?? '-'}`;
  }
  return out;
}

/** Runs an attack and asserts it changed no row. */
export async function unchanged<T>(prisma: PrismaClient, attack: () => Promise<T>): Promise<T> {
  const before = await snapshot(prisma);
  const result = await attack();
  // Give any (wrongly) asynchronous write a moment to land before comparing.
  await new Promise((r) => setTimeout(r, 50));
  expect(await snapshot(prisma)).toEqual(before);
  return result;
}

export function flipBit(bytes: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[at]! ^= 0x01;
  return copy;
}

export function randomUuid(): string {
  return crypto.randomUUID();
}

export function ack(
  socket: Socket,
  event: string,
  ...args: unknown[]
): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<{
    ok: boolean;
    error?: { code: string; message: string };
  }>;
}
