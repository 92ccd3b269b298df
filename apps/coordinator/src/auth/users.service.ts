import fs from 'node:fs';
import path from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { parseOrThrow, type UserCreated } from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { FedsegError } from '@fedseg/protocol';
import { childLogger } from '../common/logger';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import { Transactions } from '../database/transactions';
import { SitesRepository } from '../sites/sites.repository';
import { newSecretToken, tokenHash } from './api-token';
import { UnauthenticatedError } from './auth.errors';
import type { Caller } from './caller';
import { UsersRepository } from './users.repository';

export const CreateUserRequest = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9._@-]*$/, 'letters, digits, dot, dash, underscore, @'),
    role: z.enum(['admin', 'researcher', 'site_admin']),
    /** For a site_admin: the enrolled site it speaks for. */
    siteName: z.string().min(1).max(64).optional(),
    tokenLabel: z.string().max(200).optional(),
  })
  .refine((u) => (u.role === 'site_admin') === (u.siteName !== undefined), {
    path: ['siteName'],
    message: 'a site_admin needs siteName; other roles take none',
  });

export const IssueTokenRequest = z.strictObject({ label: z.string().max(200).optional() });

/** Users, roles and API tokens. A token is shown once, when issued; only its hash is stored. */
@Injectable()
export class UsersService {
  private readonly log = childLogger('users');

  constructor(
    private readonly users: UsersRepository,
    private readonly audit: AuditRepository,
    private readonly sites: SitesRepository,
    private readonly transactions: Transactions,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  /**
   * First start: with no user at all, an `admin` is made and its token written to `<home>/admin.token`
   * (mode 0600), as other servers hand over their first password. Returns the token only that once.
   */
  async bootstrapAdmin(): Promise<string | null> {
    if ((await this.users.count()) > 0) return null;
    const { token } = await this.createUser(
      { name: 'admin', role: 'admin', tokenLabel: 'bootstrap' },
      'system',
    );
    const file = path.resolve(this.config.homeDir, 'admin.token');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
    this.log.warn(
      { file },
      'first start: created user "admin"; its API token is in this file (shown once, keep it safe)',
    );
    return token;
  }

  async createUser(input: unknown, actor: string): Promise<UserCreated> {
    const req = parseOrThrow(CreateUserRequest, input, 'user');
    if (await this.users.byName(req.name))
      throw new FedsegError(
        'USER_CONFLICT',
        `A user named ${req.name} exists already; GET /users lists them.`,
      );
    let siteId: string | null = null;
    if (req.siteName) {
      const site = await this.sites.byName(req.siteName);
      if (!site || !site.publicKey)
        throw new FedsegError('SITE_NOT_FOUND', `No enrolled site named ${req.siteName}; enroll it first.`);
      siteId = site.id;
    }
    const token = newSecretToken('fsat');
    return this.transactions.run(async (tx) => {
      const user = await this.users.create({ name: req.name, role: req.role, siteId }, tx);
      const row = await this.users.createToken(
        { userId: user.id, tokenHash: tokenHash(token), label: req.tokenLabel ?? null },
        tx,
      );
      await this.audit.record(
        {
          actor,
          action: 'user.created',
          subject: user.id,
          details: { name: user.name, role: user.role, site: req.siteName ?? null },
        },
        tx,
      );
      return {
        user: { id: user.id, name: user.name, role: user.role, siteName: req.siteName ?? null },
        token,
        tokenId: row.id,
      };
    });
  }

  async issueToken(
    userName: string,
    input: unknown,
    actor: string,
  ): Promise<{ token: string; tokenId: string }> {
    const req = parseOrThrow(IssueTokenRequest, input ?? {}, 'token request');
    const user = await this.users.byName(userName);
    if (!user) throw new FedsegError('USER_NOT_FOUND', `No user named ${userName}; GET /users lists them.`);
    const token = newSecretToken('fsat');
    return this.transactions.run(async (tx) => {
      const row = await this.users.createToken(
        { userId: user.id, tokenHash: tokenHash(token), label: req.label ?? null },
        tx,
      );
      await this.audit.record(
        { actor, action: 'token.issued', subject: user.id, details: { tokenId: row.id } },
        tx,
      );
      return { token, tokenId: row.id };
    });
  }

  async revokeToken(tokenId: string, actor: string): Promise<{ id: string; revokedAt: string }> {
    const row = await this.users.tokenById(tokenId);
    if (!row) throw new FedsegError('TOKEN_NOT_FOUND', `No API token ${tokenId}.`);
    if (row.revokedAt) return { id: row.id, revokedAt: row.revokedAt.toISOString() };
    return this.transactions.run(async (tx) => {
      const revoked = await this.users.revokeToken(tokenId, tx);
      await this.audit.record(
        { actor, action: 'token.revoked', subject: row.userId, details: { tokenId } },
        tx,
      );
      return { id: revoked.id, revokedAt: revoked.revokedAt!.toISOString() };
    });
  }

  async list() {
    return (await this.users.list()).map((u) => ({
      id: u.id,
      name: u.name,
      role: u.role,
      siteName: u.site?.name ?? null,
      createdAt: u.createdAt,
    }));
  }

  /** Resolves a bearer token to its user, or says why not (never which part of a forged token was wrong). */
  async authenticate(token: string | undefined): Promise<Caller> {
    if (!token)
      throw new UnauthenticatedError('This route needs an API token: send "Authorization: Bearer fsat_…".');
    if (!/^fsat_[A-Za-z0-9_-]{43}$/.test(token))
      throw new UnauthenticatedError('The Authorization header does not hold a fedseg API token (fsat_…).');
    const row = await this.users.tokenByHash(tokenHash(token));
    if (!row) throw new UnauthenticatedError('Unknown API token; ask an admin for one.');
    if (row.revokedAt)
      throw new UnauthenticatedError('This API token was revoked; ask an admin for a new one.');
    if (row.user.disabledAt) throw new UnauthenticatedError(`User ${row.user.name} is disabled.`);
    void this.users.touchToken(row.id).catch(() => undefined);
    return {
      userId: row.user.id,
      name: row.user.name,
      role: row.user.role,
      siteId: row.user.siteId,
      tokenId: row.id,
    };
  }
}
