import { z } from 'zod';

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
