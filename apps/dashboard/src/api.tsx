import { z } from 'zod';
import { ErrorReply } from '@fedseg/protocol/web';

/** A refused or failed call, with the coordinator's error code and message (shown to the user as is). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (a ValidationError lists `issues`, each a config path and a message). */
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export interface Api {
  get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>>;
  post<T extends z.ZodType>(path: string, schema: T, body?: unknown): Promise<z.infer<T>>;
  /** A binary reply (a model download) with its headers; refused calls throw ApiError as above. */
  bytes(path: string): Promise<{ data: ArrayBuffer; headers: Headers }>;
  /** The Authorization header, for a library that fetches by itself (the volume viewer). */
  authHeaders(): Record<string, string>;
}

/** REST on the page's own origin; every reply is parsed with its @fedseg/protocol schema before use. */
export function createApi(token: string, onUnauthenticated: () => void = () => undefined): Api {
  async function send(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The coordinator did not answer; is it running?');
    }
    if (!res.ok) {
      const json: unknown = await res.json().catch(() => null);
      const err = ErrorReply.safeParse(json);
      if (res.status === 401) onUnauthenticated();
      throw new ApiError(
        res.status,
        err.success ? err.data.error.code : 'HTTP_' + res.status,
        err.success ? err.data.error.message : `The coordinator answered ${res.status}.`,
        err.success ? (err.data.error.details ?? {}) : {},
      );
    }
    return res;
  }
  async function call<T extends z.ZodType>(method: string, path: string, schema: T, body?: unknown) {
    const res = await send(method, path, body);
    const json: unknown = await res.json().catch(() => null);
    const parsed = schema.safeParse(json);
    if (!parsed.success)
      throw new ApiError(res.status, 'BAD_REPLY', `Unexpected reply from ${path}: ${parsed.error.message}`);
    return parsed.data as z.infer<T>;
  }
  return {
    get: (path, schema) => call('GET', path, schema),
    post: (path, schema, body = {}) => call('POST', path, schema, body),
    async bytes(path) {
      const res = await send('GET', path);
      return { data: await res.arrayBuffer(), headers: res.headers };
    },
    authHeaders: () => ({ authorization: `Bearer ${token}` }),
  };
}

/** `details.issues` of a VALIDATION_FAILED reply (parse.ts in libs/protocol writes them): path and message. */
const ValidationIssues = z.object({
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type ValidationIssue = z.infer<typeof ValidationIssues>['issues'][number];

/** The field issues of a refused call; empty for any other error. */
export function validationIssues(err: unknown): ValidationIssue[] {
  if (!(err instanceof ApiError)) return [];
  const parsed = ValidationIssues.safeParse(err.details);
  return parsed.success ? parsed.data.issues : [];
}
