import { SetMetadata } from '@nestjs/common';
import type { z } from 'zod';

export const API_REPLY_KEY = 'fedseg:api-reply';

/** What a route answers, for the OpenAPI document: a zod schema from @fedseg/protocol, or raw bytes. */
export interface ApiReplyMeta {
  summary: string;
  schema: z.ZodType | 'binary';
}

/**
 * Names a route's reply schema and a one-line summary; GET /api/docs is generated from these and the routes'
 * policy actions, so the document and the types the controllers return come from the same schemas.
 */
export const ApiReply = (schema: ApiReplyMeta['schema'], summary: string) =>
  SetMetadata(API_REPLY_KEY, { schema, summary } satisfies ApiReplyMeta);
