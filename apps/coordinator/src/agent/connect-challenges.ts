import crypto from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ConnectChallenge } from '@fedseg/protocol';

const TTL_MS = 60_000;
const MAX_OUTSTANDING = 20_000;

/**
 * Single-use nonces for the socket handshake: an agent asks for one, signs it with its site key and presents
 * the signature when it connects. A nonce is gone once presented (accepted or not) or a minute after issue,
 * so a captured handshake cannot be replayed. Process memory: one coordinator instance serves a nonce.
 */
@Injectable()
export class ConnectChallenges {
  private readonly outstanding = new Map<string, number>();

  issue(now = Date.now()): ConnectChallenge {
    if (this.outstanding.size >= MAX_OUTSTANDING) this.prune(now);
    if (this.outstanding.size >= MAX_OUTSTANDING)
      this.outstanding.delete(this.outstanding.keys().next().value!);
    const nonce = crypto.randomBytes(32).toString('base64');
    const expiresAt = now + TTL_MS;
    this.outstanding.set(nonce, expiresAt);
    return { nonce, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** True once per issued, unexpired nonce. */
  consume(nonce: string, now = Date.now()): boolean {
    const expiresAt = this.outstanding.get(nonce);
    this.outstanding.delete(nonce);
    return expiresAt !== undefined && expiresAt > now;
  }

  private prune(now: number): void {
    for (const [nonce, expiresAt] of this.outstanding) if (expiresAt <= now) this.outstanding.delete(nonce);
  }
}
