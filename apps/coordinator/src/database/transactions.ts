import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '@prisma/client';
import { PRISMA } from '../core/tokens';

/** What a repository query runs on: the client, or a transaction in progress. Repositories only. */
export type Db = PrismaClient | Prisma.TransactionClient;

declare const transaction: unique symbol;

/**
 * A transaction in progress as services hold it: something to hand to repository methods, nothing to query.
 * Opaque, so Prisma's client and types stay inside repositories (issue 19).
 */
export interface Tx {
  readonly [transaction]: true;
}

/** The caller's transaction if it passed one (a Tx is a Prisma transaction client underneath), else `client`. */
export function dbOf(db: Db | Tx | undefined, client: PrismaClient): Db {
  return (db ?? client) as Db;
}

/** Several repository writes (and their audit rows) that commit together or not at all. */
@Injectable()
export class Transactions {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.prisma.$transaction((tx) => work(tx as unknown as Tx));
  }
}
