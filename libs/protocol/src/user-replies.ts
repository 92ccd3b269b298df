import { z } from 'zod';
import { ApiTokenText } from './enrollment-replies';

/** Roles a user may hold (the coordinator's policy table says what each may do). */
export const UserRoleName = z.enum(['admin', 'researcher', 'site_admin']);
export type UserRoleName = z.infer<typeof UserRoleName>;

/** GET /whoami: who the coordinator takes the caller to be. */
export const WhoAmI = z.object({
  name: z.string(),
  role: UserRoleName,
  /** The site a site-admin speaks for; null for other roles. */
  siteId: z.string().nullable(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

/** One row of GET /users. */
export const UserView = z.object({
  id: z.uuid(),
  name: z.string(),
  role: UserRoleName,
  /** The site a site-admin speaks for, by name; null for other roles. */
  siteName: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type UserView = z.infer<typeof UserView>;

export const UserList = z.array(UserView);
export type UserList = z.infer<typeof UserList>;

/** POST /users/:name/tokens: a new API token, shown once (the coordinator keeps its hash). */
export const ApiTokenIssued = z.object({ token: ApiTokenText, tokenId: z.uuid() });
export type ApiTokenIssued = z.infer<typeof ApiTokenIssued>;

/** POST /users: the user and its first API token, shown once. */
export const UserCreated = ApiTokenIssued.extend({ user: UserView.omit({ createdAt: true }) });
export type UserCreated = z.infer<typeof UserCreated>;

/** POST /tokens/:id/revoke (repeating it answers the first revocation's time). */
export const ApiTokenRevoked = z.object({ id: z.uuid(), revokedAt: z.iso.datetime() });
export type ApiTokenRevoked = z.infer<typeof ApiTokenRevoked>;
