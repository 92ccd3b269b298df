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
    if (err instanceof HttpException) {
      const status = err.getStatus();
      res.status(status).json({ error: { code: `HTTP_${status}`, message: err.message } });
      return;
    }
    const body = toErrorBody(err, this.log);
    res.status(httpStatusOf(body.code)).json({ error: body });
  }
}
