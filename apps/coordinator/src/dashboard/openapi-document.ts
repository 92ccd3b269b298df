import { z } from 'zod';
import { ErrorReply, StudyConfig, StudyList, StudyView } from '@fedseg/protocol';
import { POLICY } from '../auth/policy';
import type { RouteEntry } from './route-table';

export type JsonSchema = Record<string, unknown>;

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  tags: string[];
  security: Array<Record<string, string[]>>;
  'x-fedseg-action'?: string;
  'x-fedseg-roles'?: string[];
  parameters?: Array<{ name: string; in: 'path'; required: true; schema: JsonSchema }>;
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  components: { securitySchemes: Record<string, JsonSchema> };
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/**
 * StudyView carries the config loosely typed (the browser cannot bundle StudyConfig's node:crypto plan
 * hash); the document gives the full StudyConfig in its place.
 */
const StudyViewFull = StudyView.extend({ config: StudyConfig });
const SUBSTITUTES = new Map<z.ZodType, z.ZodType>([
  [StudyView, StudyViewFull],
  [StudyList, z.array(StudyViewFull)],
]);

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(SUBSTITUTES.get(schema) ?? schema, {
    io: 'output',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/**
 * OpenAPI 3.1 (whose schema dialect is JSON Schema 2020-12, what zod 4 writes) for every REST route: its
 * policy action and roles, its path parameters, its reply schema from @fedseg/protocol and the error body.
 */
export function openApiDocument(routes: readonly RouteEntry[], version: string): OpenApiDocument {
  const errorSchema = jsonSchemaOf(ErrorReply);
  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) {
    const openPath = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const reply = r.reply;
    const content: Record<string, { schema: JsonSchema }> =
      reply === undefined
        ? { 'application/json': { schema: {} } }
        : reply.schema === 'binary'
          ? {
              'application/octet-stream': {
                schema: { type: 'string', contentMediaType: 'application/octet-stream' },
              },
            }
          : { 'application/json': { schema: jsonSchemaOf(reply.schema) } };
    const op: OpenApiOperation = {
      operationId: `${r.controller.replace(/Controller$/, '')}.${r.handler}`,
      summary: reply?.summary ?? `${r.method} ${r.path}`,
      tags: [r.path.split('/')[1] || 'dashboard'],
      security: r.isPublic ? [] : [{ bearer: [] }],
      ...(r.action ? { 'x-fedseg-action': r.action, 'x-fedseg-roles': [...POLICY[r.action]] } : {}),
      ...(params.length
        ? {
            parameters: params.map((name) => ({
              name,
              in: 'path' as const,
              required: true as const,
              schema: { type: 'string' },
            })),
          }
        : {}),
      responses: {
        [String(r.status)]: { description: reply?.summary ?? 'OK', content },
        default: {
          description: 'An error: 400 names the field, 401 no or bad token, 403 role, 404, 409',
          content: { 'application/json': { schema: errorSchema } },
        },
      },
    };
    (paths[openPath] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'fedseg coordinator',
      version,
      description:
        'REST API of the fedseg coordinator. Send an API token as "Authorization: Bearer fsat_…". Live round ' +
        'events: the socket.io namespace /dashboard, authenticated with { auth: { token } }.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A fedseg API token (fsat_…)' },
      },
    },
    paths,
  };
}
