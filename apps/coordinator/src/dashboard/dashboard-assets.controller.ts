import fs from 'node:fs';
import path from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { FedsegError } from '@fedseg/protocol';
import { Public } from '../auth/auth.decorators';
import { ApiReply } from '../common/api-reply.decorator';

/** Where `npm run dashboard:build` (also run by `npm ci`'s postinstall) writes the dashboard. */
export const DASHBOARD_DIST = path.resolve(__dirname, '../../../dashboard/dist');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** Everything the page loads comes from this origin; sockets too. No CDN, no inline scripts. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fedseg</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>The fedseg dashboard is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm run dashboard:build</code>) in the fedseg checkout, then reload.
The REST API and its OpenAPI document at <a href="/api/docs">/api/docs</a> work without it.</p></body></html>`;

interface FileResponse {
  status(code: number): FileResponse;
  setHeader(name: string, value: string): void;
  end(body: Buffer | string): void;
}

export class DashboardAssetNotFoundError extends FedsegError {
  constructor(file: string) {
    super('DASHBOARD_ASSET_NOT_FOUND', `No dashboard file ${file}; reload the page at /.`);
  }
}

/**
 * Serves the built dashboard (apps/dashboard, Vite) at `/` and `/assets/*`. Public: the page holds no data;
 * it signs in with an API token and every REST call and socket then checks that token.
 */
@Controller()
export class DashboardAssetsController {
  @Get()
  @Public()
  @ApiReply('binary', 'The dashboard page (text/html)')
  index(@Res() res: FileResponse): void {
    const file = path.join(DASHBOARD_DIST, 'index.html');
    const built = fs.existsSync(file);
    res.status(built ? 200 : 503);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('content-security-policy', CSP);
    res.setHeader('x-content-type-options', 'nosniff');
    res.end(built ? fs.readFileSync(file) : NOT_BUILT);
  }

  @Get('assets/:file')
  @Public()
  @ApiReply('binary', "The dashboard's scripts and styles (content-hashed names)")
  asset(@Param('file') file: string, @Res() res: FileResponse): void {
    const type = CONTENT_TYPES[path.extname(file)];
    const full = path.join(DASHBOARD_DIST, 'assets', file);
    if (!/^[\w.-]+$/.test(file) || file.startsWith('.') || !type || !fs.existsSync(full))
      throw new DashboardAssetNotFoundError(file);
    res.status(200);
    res.setHeader('content-type', type);
    // Vite puts a content hash in every asset's name.
    res.setHeader('cache-control', 'public, max-age=31536000, immutable');
    res.setHeader('x-content-type-options', 'nosniff');
    res.end(fs.readFileSync(full));
  }
}
