import type { UserRoleName as UserRole } from '@fedseg/protocol';

/** Who is calling a REST route, as the auth guard established it. */
export interface Caller {
  userId: string;
  name: string;
  role: UserRole;
  /** The site a site-admin speaks for. */
  siteId: string | null;
  tokenId: string;
}

export function actorOf(caller: Caller): string {
  return `user:${caller.name}`;
}
