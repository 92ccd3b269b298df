import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PlanHash, PublicIdentity, SecretIdentity, SiteName } from '@fedseg/protocol';

/**
 * What the agent keeps under its home (`--home`, FEDSEG_AGENT_HOME, default ~/.fedseg-agent): its identity
 * (secret keys; file mode 0600; never sent) with the coordinator key it pinned at enrollment, and the plans
 * its admin approved. Nothing here ever leaves the site.
 */
export const AgentIdentityFile = z.strictObject({
  siteId: z.uuid(),
  siteName: SiteName,
  coordinatorUrl: z.string().url(),
  keys: SecretIdentity,
  coordinator: PublicIdentity,
  coordinatorFingerprint: z.string(),
  enrolledAt: z.iso.datetime(),
});
export type AgentIdentityFile = z.infer<typeof AgentIdentityFile>;

const ApprovalsFile = z.record(z.uuid(), z.array(PlanHash));

export class AgentHomeError extends Error {}

export function defaultAgentHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.FEDSEG_AGENT_HOME || path.join(os.homedir(), '.fedseg-agent');
}

export class AgentHome {
  constructor(readonly dir: string) {}

  private get identityPath(): string {
    return path.join(this.dir, 'identity.json');
  }

  private get approvalsPath(): string {
    return path.join(this.dir, 'approvals.json');
  }

  hasIdentity(): boolean {
    return fs.existsSync(this.identityPath);
  }

  loadIdentity(): AgentIdentityFile {
    if (!this.hasIdentity())
      throw new AgentHomeError(
        `This site is not enrolled (no ${this.identityPath}); run fedseg-agent enroll --coordinator URL --token TOKEN --site NAME first.`,
      );
    const mode = fs.statSync(this.identityPath).mode & 0o777;
    if (mode & 0o077)
      throw new AgentHomeError(
        `${this.identityPath} is readable by other users (mode ${mode.toString(8)}); chmod 600 it.`,
      );
    const parsed = AgentIdentityFile.safeParse(JSON.parse(fs.readFileSync(this.identityPath, 'utf8')));
    if (!parsed.success) throw new AgentHomeError(`${this.identityPath} is not a fedseg agent identity.`);
    return parsed.data;
  }

  saveIdentity(identity: AgentIdentityFile): void {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(this.identityPath, JSON.stringify(identity, null, 2), { mode: 0o600, flag: 'wx' });
  }

  approvedPlans(studyId: string): string[] {
    return this.readApprovals()[studyId] ?? [];
  }

  isApproved(studyId: string, planHash: string): boolean {
    return this.approvedPlans(studyId).includes(planHash);
  }

  recordApproval(studyId: string, planHash: string): void {
    const all = this.readApprovals();
    all[studyId] = [...new Set([...(all[studyId] ?? []), planHash])];
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.approvalsPath}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(all, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.approvalsPath);
  }

  private readApprovals(): Record<string, string[]> {
    if (!fs.existsSync(this.approvalsPath)) return {};
    const parsed = ApprovalsFile.safeParse(JSON.parse(fs.readFileSync(this.approvalsPath, 'utf8')));
    if (!parsed.success)
      throw new AgentHomeError(`${this.approvalsPath} is damaged; remove it and approve again.`);
    return parsed.data;
  }
}
