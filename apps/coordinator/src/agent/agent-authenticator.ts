import { Inject, Injectable } from '@nestjs/common';
import {
  ConnectAuth,
  FedsegError,
  SignatureDomains,
  verifyMessage,
  type ConnectProof,
} from '@fedseg/protocol';
import { z } from 'zod';
import { RateLimiter } from '../auth/rate-limiter';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import { SitesRepository } from '../sites/sites.repository';

export interface AuthenticatedSite {
  siteId: string;
  name: string;
  signingPublicKey: string;
}

export class ConnectRefusedError extends FedsegError {}

/**
 * The socket handshake: the agent presents a challenge nonce signed with its enrolled key, bound to its site
 * id and to this coordinator's key. Runs on every connect and reconnect (connection-state recovery included),
 * before any handler. Unknown, revoked and wrong-key sites never reach the gateway.
 */
@Injectable()
export class AgentAuthenticator {
  private readonly attempts: RateLimiter;

  constructor(
    private readonly sites: SitesRepository,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.attempts = new RateLimiter(config.connectAttemptsPerMinute, 60_000);
  }

  async authenticate(
    auth: unknown,
    source: string,
    consumeNonce: (nonce: string) => boolean,
  ): Promise<AuthenticatedSite> {
    const wait = this.attempts.hit(source);
    if (wait > 0)
      throw new ConnectRefusedError(
        'RATE_LIMITED',
        `Too many connection attempts from ${source}; retry in ${Math.ceil(wait / 1000)} s.`,
      );
    const parsed = ConnectAuth.safeParse(auth);
    if (!parsed.success)
      throw new ConnectRefusedError(
        'UNAUTHENTICATED',
        `The handshake carries no valid site credentials (${z.prettifyError(parsed.error).replace(/\n/g, ' ')}); enroll the site and connect with fedseg-agent.`,
      );
    const { siteId, nonce, signature } = parsed.data;
    if (!consumeNonce(nonce))
      throw new ConnectRefusedError(
        'CHALLENGE_INVALID',
        'The handshake nonce is unknown, used or expired; fetch a new one from POST /agent/challenge.',
      );
    const site = await this.sites.byId(siteId);
    if (!site || !site.publicKey)
      throw new ConnectRefusedError(
        'UNKNOWN_SITE',
        `No enrolled site ${siteId}; enroll with a token from the coordinator's admin.`,
      );
    if (site.revokedAt)
      throw new ConnectRefusedError(
        'SITE_REVOKED',
        `Site ${site.name} was revoked at ${site.revokedAt.toISOString()}; it can no longer connect.`,
      );
    const proof: ConnectProof = {
      siteId,
      nonce,
      coordinatorSigningPublicKey: this.identity.public.signingPublicKey,
    };
    if (!verifyMessage(SignatureDomains.connect, proof, signature, site.publicKey))
      throw new ConnectRefusedError(
        'BAD_SIGNATURE',
        `The handshake signature does not verify with site ${site.name}'s enrolled key.`,
      );
    return { siteId: site.id, name: site.name, signingPublicKey: site.publicKey };
  }
}
