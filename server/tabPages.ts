import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'restify';
import { tabSignsIn, type Config } from './config';

/**
 * The tab's page, served by the one process: its static HTML (tab/web/public) and the bundle
 * esbuild writes to dist/tab-web (`npm run build:tab`, `npm start`, `npm test`). Teams and
 * Microsoft 365 may frame it; nothing else may.
 */
const FRAME_ANCESTORS = [
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://teams.cloud.microsoft',
  'https://*.cloud.microsoft',
  'https://*.office.com',
  'https://outlook.office365.com',
  'https://*.microsoft365.com',
];

const PAGES = ['index.html', 'privacy.html', 'terms.html'];
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

/** The first folder that exists: beside the compiled server in Azure (dist/), or the repository's dist/ in development. */
function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((dir) => fs.existsSync(dir));
}

export function contentSecurityPolicy(config: Config): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Fluent UI (Griffel) writes its styles at run time.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    // MSAL (outside Teams) talks to the sign-in authority from the page; teams-js fetches the
    // list of Teams host origins it trusts from Microsoft's CDN.
    `connect-src 'self' ${new URL(config.authorityHost).origin} https://res.cdn.office.net`,
    "frame-src 'self' " + new URL(config.authorityHost).origin,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${FRAME_ANCESTORS.join(' ')}`,
  ].join('; ');
}

export function mountTabPages(server: Server, config: Config): void {
  const publicDir = firstExisting([path.resolve(__dirname, '..', 'tab', 'web', 'public'), path.resolve(__dirname, '..', '..', 'tab', 'web', 'public')]);
  const bundleDir = () => firstExisting([path.resolve(__dirname, '..', 'tab-web'), path.resolve(__dirname, '..', 'dist', 'tab-web')]);
  const csp = contentSecurityPolicy(config);

  const send = (res: import('restify').Response, file: string) => {
    const body = fs.readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-cache',
    });
    res.end(body);
  };

  for (const page of PAGES) {
    server.get(`/tab/${page}`, (_req, res, next) => {
      const file = publicDir && path.join(publicDir, page);
      if (!file || !fs.existsSync(file)) return next(new Error(`tab page ${page} missing from the deployment`));
      send(res, file);
      next(false);
    });
  }

  // What the page needs to sign in outside Teams; all of it is public (it is in every token's claims).
  server.get('/tab/config.json', (_req, res, next) => {
    res.header('cache-control', 'no-cache');
    res.json(200, { clientId: config.clientId, tenantId: config.tenantId, authorityHost: config.authorityHost, localDevUnauthenticated: !tabSignsIn(config) });
    next(false);
  });

  // The bundle: only the files esbuild wrote, by their plain names.
  server.get('/tab/assets/:file', (req, res, next) => {
    const name = String(req.params.file ?? '');
    const dir = bundleDir();
    if (!/^[A-Za-z0-9_.-]+\.(js|css|map)$/.test(name) || !dir || !fs.existsSync(path.join(dir, name))) {
      res.json(404, { error: { code: 'NotFound', message: 'No such file in the tab.' } });
      return next(false);
    }
    send(res, path.join(dir, name));
    next(false);
  });
}
