import type { UserRoleName as UserRole } from '@fedseg/protocol';

/**
 * Who may do what, in one place. Every REST route names one action (or is public); the guard checks the
 * caller's role against this table and refuses everything else. A site-admin acts only for its own site:
 * services narrow what it sees (its own site's per-site metrics, never another site's).
 */
export const POLICY = {
  'study.create': ['admin', 'researcher'],
  'study.list': ['admin', 'researcher', 'site_admin'],
  'study.read': ['admin', 'researcher', 'site_admin'],
  'study.start': ['admin', 'researcher'],
  'study.pause': ['admin', 'researcher'],
  'study.stop': ['admin', 'researcher'],
  'study.update': ['admin', 'researcher'],
  'study.rounds': ['admin', 'researcher', 'site_admin'],
  'study.metrics': ['admin', 'researcher', 'site_admin'],
  'study.model': ['admin', 'researcher'],
  'study.approvals': ['admin', 'researcher', 'site_admin'],
  'study.declines': ['admin', 'researcher'],
  'site.list': ['admin', 'researcher'],
  'site.revoke': ['admin'],
  'enrollment.issue': ['admin'],
  'enrollment.list': ['admin'],
  'user.create': ['admin'],
  'user.list': ['admin'],
  'token.issue': ['admin'],
  'token.revoke': ['admin'],
  'audit.export': ['admin'],
  'metrics.read': ['admin'],
  whoami: ['admin', 'researcher', 'site_admin'],
} as const satisfies Record<string, readonly UserRole[]>;

export type Action = keyof typeof POLICY;

export function allows(role: UserRole, action: Action): boolean {
  return (POLICY[action] as readonly UserRole[]).includes(role);
}
