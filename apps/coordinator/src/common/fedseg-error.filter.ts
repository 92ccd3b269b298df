import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import { toErrorBody, httpStatusOf } from './error-body';
import { childLogger } from './logger';

interface JsonResponse {
  status(code: number): { json(body: unknown): void };
}

/** Maps every error once for REST: named fedseg errors keep their code; Nest's own (404 route) pass through. */
@Catch()
export class FedsegErrorFilter implements ExceptionFilter {
  private readonly log = childLogger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<JsonResponse>();
    // Express's body parser: a body that is not JSON, or too large, is the client's mistake, said plainly.
    const parserError = (err as { type?: unknown } | null)?.type;
    const nestParserError =
      err instanceof HttpException && err.getStatus() === 400 && /JSON/i.test(err.message);
    if (parserError === 'entity.parse.failed' || nestParserError) {
      res
        .status(400)
        .json({ error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } });
      return;
    }
    if (parserError === 'entity.too.large') {
      res
        .status(413)
        .json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large.' } });
      return;
    }
    if (err instanceof HttpException) {
      const status = err.getStatus();
      res.status(status).json({ error: { code: `HTTP_${status}`, message: err.message } });
      return;
    }
    const body = toErrorBody(err, this.log);
    res.status(httpStatusOf(body.code)).json({ error: body });
  }
}
