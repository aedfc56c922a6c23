import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Request, Response, Server } from 'restify';
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

// esbuild names the chunks by their content's hash: a name never changes content, so browsers keep
// them a year without asking again. The rest (the pages, app.js) is checked each time by its ETag.
const HASHED_CHUNK = /^chunk-[A-Z0-9]+\.js$/;
const YEAR_SECONDS = 365 * 86_400;

/** A file as it is sent: read, hashed and compressed once, again only when it changes on disk. */
interface SentFile {
  stamp: string;
  body: Buffer;
  /** Absent for a source map. */
  gzipped?: Buffer;
  etag: string;
}

/** The first folder that exists: beside the compiled server in Azure (dist/), or the repository's dist/ in development. */
function firstExisting(candidates: string[]): string | undefined {
  return candidates.find((dir) => fs.existsSync(dir));
}

/** The hosts besides Teams and Microsoft 365 that may frame the page and that it trusts as Teams: the configured local one. */
function teamsHostOrigins(config: Config): string[] {
  return config.localDevTeamsHostOrigin ? [config.localDevTeamsHostOrigin] : [];
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
    // Locally, also the Teams host emulator's origin, when configured (never in production).
    `frame-ancestors ${[...FRAME_ANCESTORS, ...teamsHostOrigins(config)].join(' ')}`,
  ].join('; ');
}

export function mountTabPages(server: Server, config: Config): void {
  const publicDir = firstExisting([path.resolve(__dirname, '..', 'tab', 'web', 'public'), path.resolve(__dirname, '..', '..', 'tab', 'web', 'public')]);
  const bundleDir = () => firstExisting([path.resolve(__dirname, '..', 'tab-web'), path.resolve(__dirname, '..', 'dist', 'tab-web')]);
  const csp = contentSecurityPolicy(config);

  const files = new Map<string, SentFile>();
  const read = (file: string): SentFile => {
    const stat = fs.statSync(file);
    const stamp = `${stat.mtimeMs}:${stat.size}`;
    const known = files.get(file);
    if (known?.stamp === stamp) return known;
    const body = fs.readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    // Source maps are for debugging, big and seldom asked for: read each time, sent as they are, not kept.
    if (file.endsWith('.map')) return { stamp, body, etag };
    const sent = { stamp, body, etag, gzipped: zlib.gzipSync(body) };
    files.set(file, sent);
    return sent;
  };

  // Read and compressed as the server starts, not while the first admin waits for the tab.
  setImmediate(() => {
    const dir = bundleDir();
    const names = [
      ...(dir
        ? fs
            .readdirSync(dir)
            .filter((n) => /\.(js|css)$/.test(n))
            .map((n) => path.join(dir, n))
        : []),
      ...(publicDir ? PAGES.map((p) => path.join(publicDir, p)) : []),
    ];
    for (const file of names) {
      try {
        read(file);
      } catch {
        // Gone meanwhile (a rebuild): read when asked for.
      }
    }
  });

  const send = (req: Request, res: Response, file: string) => {
    const { body, gzipped, etag } = read(file);
    const headers: Record<string, string | number> = {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': HASHED_CHUNK.test(path.basename(file)) ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache',
      etag,
      vary: 'Accept-Encoding',
    };
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      return res.end();
    }
    const sent = gzipped && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? gzipped : body;
    res.writeHead(200, { ...headers, 'content-length': sent.length, ...(sent === gzipped ? { 'content-encoding': 'gzip' } : {}) });
    res.end(sent);
  };

  for (const page of PAGES) {
    server.get(`/tab/${page}`, (req, res, next) => {
      const file = publicDir && path.join(publicDir, page);
      if (!file || !fs.existsSync(file)) return next(new Error(`tab page ${page} missing from the deployment`));
      send(req, res, file);
      next(false);
    });
  }

  // What the page needs to sign in outside Teams, and the extra host it may trust as Teams; all of it
  // is public (the ids are in every token's claims, the origin in the CSP).
  server.get('/tab/config.json', (_req, res, next) => {
    res.header('cache-control', 'no-cache');
    res.json(200, {
      clientId: config.clientId,
      tenantId: config.tenantId,
      authorityHost: config.authorityHost,
      localDevUnauthenticated: !tabSignsIn(config),
      ...(config.localDevTeamsHostOrigin && { teamsHostOrigins: teamsHostOrigins(config) }),
    });
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
    send(req, res, path.join(dir, name));
    next(false);
  });
}
