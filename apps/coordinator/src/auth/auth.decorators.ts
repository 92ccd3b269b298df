import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Action } from './policy';
import type { Caller } from './caller';

export const ACTION_KEY = 'fedseg:action';
export const PUBLIC_KEY = 'fedseg:public';

/** The policy action a route performs; the guard checks the caller's role against POLICY. */
export const Permission = (action: Action) => SetMetadata(ACTION_KEY, action);

/** A route anyone may call (health, enrollment with a token, connection challenges). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthedRequest {
  caller?: Caller;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
  method: string;
  url: string;
}

/** The authenticated caller of the current request. */
export const CurrentCaller = createParamDecorator((_: unknown, ctx: ExecutionContext): Caller => {
  const caller = ctx.switchToHttp().getRequest<AuthedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller on a route without a policy');
  return caller;
});

/** The remote address of the current request, for the audit log. */
export const RemoteAddress = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): string | undefined =>
    ctx.switchToHttp().getRequest<AuthedRequest>().ip,
);
