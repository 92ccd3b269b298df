import { RequestMethod } from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import type { ModulesContainer } from '@nestjs/core';
import { ACTION_KEY, PUBLIC_KEY } from '../auth/auth.decorators';
import type { Action } from '../auth/policy';
import { API_REPLY_KEY, type ApiReplyMeta } from '../common/api-reply.decorator';

/** One REST route as the application registered it, read from Nest's metadata (nothing listed by hand). */
export interface RouteEntry {
  method: string;
  /** Nest's path, `/studies/:id`. */
  path: string;
  handler: string;
  controller: string;
  action: Action | undefined;
  isPublic: boolean;
  status: number;
  reply: ApiReplyMeta | undefined;
}

/** Pass `app.get(ModulesContainer)`, or inject ModulesContainer. */
export function routeTable(modules: ModulesContainer): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!cls) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, cls) ?? '');
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        const verb = RequestMethod[method]!;
        routes.push({
          method: verb,
          path: `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
          handler: name,
          controller: cls.name,
          action: (Reflect.getMetadata(ACTION_KEY, handler) ?? Reflect.getMetadata(ACTION_KEY, cls)) as
            Action | undefined,
          isPublic: Boolean(Reflect.getMetadata(PUBLIC_KEY, handler) ?? Reflect.getMetadata(PUBLIC_KEY, cls)),
          status:
            (Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined) ??
            (verb === 'POST' ? 201 : 200),
          reply: Reflect.getMetadata(API_REPLY_KEY, handler) as ApiReplyMeta | undefined,
        });
      }
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
