import { Controller, Get, Inject } from '@nestjs/common';
import { AuditExport, signMessage } from '@fedseg/protocol';
import { Permission } from '../auth/auth.decorators';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import { ApiReply } from '../common/api-reply.decorator';
import { AUDIT_EXPORT_DOMAIN, GENESIS_HASH } from './audit-chain';
import { AuditRepository } from './audit.repository';

@Controller('audit')
export class AuditController {
  constructor(
    private readonly audit: AuditRepository,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
  ) {}

  /** The whole hash chain, signed at its head, for `fedseg audit verify` to check offline. */
  @Get('export')
  @Permission('audit.export')
  @ApiReply(AuditExport, 'The audit hash chain, signed at its head by the coordinator')
  async export(): Promise<AuditExport> {
    const entries = await this.audit.exportChain();
    const last = entries[entries.length - 1];
    const head = { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS_HASH };
    const exportedAt = new Date().toISOString();
    const format = 'fedseg-audit/v1' as const;
    return {
      format,
      exportedAt,
      coordinator: { ...this.identity.public, fingerprint: this.identity.fingerprint },
      head,
      signature: signMessage(
        AUDIT_EXPORT_DOMAIN,
        { format, exportedAt, head },
        this.identity.secret.signingSecretKey,
      ),
      entries,
    };
  }
}
