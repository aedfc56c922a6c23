import https from 'node:https';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { ensureLocalTls, type LocalTls } from '../tls/localCa';
import type { SigninEmulator, TestUser } from '../signin/server';
import type { HostSetup } from './hostPage';

/**
 * Stand-in for the Teams web client as a tab's host: a page that frames the tab at its contentUrl
 * and answers @microsoft/teams-js's messages (initialize, getContext, getAuthToken with a token from
 * the sign-in emulator, theme changes, deep links). HTTPS with the local CA, as Teams is https and
 * teams-js trusts no other host. The tab's CSP decides whether this origin may frame it, in the
 * browser, as with Teams: its server must list it (LOCAL_DEV_TEAMS_HOST_ORIGIN).
 */
export interface TeamsHostOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  tls?: LocalTls;
  /** The static tab's contentUrl: `${PUBLIC_URL}/tab/index.html`. */
  tabUrl: string;
  /** The Teams app's id (manifest id); deep links name it. */
  appId: string;
  /** The static tab's entityId (the manifest's "archiver"). */
  entityId?: string;
  tenantId: string;
  /** The app registration whose access_as_user tokens Teams hands the tab (webApplicationInfo.id). */
  clientId: string;
  /** Who can be signed in to this Teams; the first is, unless the page's ?user= names another. */
  users: TestUser[];
  /** Issues the SSO tokens, as Entra does for Teams. */
  signin: Pick<SigninEmulator, 'mintUserToken'>;
  tokenLifetimeSeconds?: number;
}

export interface TeamsHost {
  /** https://localhost:<port>: the host page. Query: user=<oid>, theme=default|dark|contrast, locale, ssoError=<reason>, subPageId, link=<Teams deep link>. */
  url: string;
  /** What the tab's frame-ancestors must allow. */
  origin: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 4 * 1024;

export async function startTeamsHost(options: TeamsHostOptions): Promise<TeamsHost> {
  const tls = options.tls ?? ensureLocalTls();
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const setup: HostSetup = {
    tabUrl: options.tabUrl,
    appId: options.appId,
    entityId: options.entityId ?? 'archiver',
    tenantId: options.tenantId,
    users: options.users.map((u) => ({ oid: u.oid, name: u.name, preferredUsername: u.preferredUsername })),
  };
  const script = await bundleHostScript();
  const page = hostHtml(setup);
  const tabOrigin = new URL(options.tabUrl).origin;
  const csp = `default-src 'self'; script-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src ${tabOrigin}; object-src 'none'; base-uri 'none'; form-action 'self'`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = `${req.method} ${new URL(req.url ?? '/', 'https://localhost').pathname}`;
    if (route === 'GET /') return send(res, 200, 'text/html; charset=utf-8', page, { 'content-security-policy': csp });
    if (route === 'GET /host.js') return send(res, 200, 'text/javascript; charset=utf-8', script);
    if (route === 'POST /token') {
      const body = await readJson(req);
      const user = options.users.find((u) => u.oid === body?.oid);
      if (!user) return send(res, 400, 'application/json', JSON.stringify({ error: 'No such user in this Teams.' }));
      const token = await options.signin.mintUserToken({
        tenantId: options.tenantId,
        audience: options.clientId,
        oid: user.oid,
        name: user.name,
        preferredUsername: user.preferredUsername,
        scopes: ['access_as_user'],
        lifetimeSeconds: lifetime,
      });
      return send(res, 200, 'application/json', JSON.stringify({ token, expiresIn: lifetime }));
    }
    send(res, 404, 'text/plain; charset=utf-8', 'Not found');
  }

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    handle(req, res).catch(() => send(res, 500, 'text/plain; charset=utf-8', 'Unexpected error.'));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const origin = `https://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The page's script, bundled for the browser from hostPage.ts. */
async function bundleHostScript(): Promise<string> {
  const out = await build({ entryPoints: [path.join(__dirname, 'hostPage.ts')], bundle: true, write: false, format: 'iife', platform: 'browser', target: ['chrome120'], logLevel: 'silent' });
  return out.outputFiles[0].text;
}

function hostHtml(setup: HostSetup): string {
  // JSON in a script element: "<" escaped so that no value can end the element.
  const data = JSON.stringify(setup).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Teams (local host)</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: light; --bg: #f5f5f5; --bar: #ebebeb; --fg: #242424; --line: #d1d1d1; }
  :root[data-theme="dark"] { color-scheme: dark; --bg: #1f1f1f; --bar: #141414; --fg: #ffffff; --line: #3d3d3d; }
  :root[data-theme="contrast"] { color-scheme: dark; --bg: #000000; --bar: #000000; --fg: #ffffff; --line: #ffff00; }
  body { margin: 0; font: 14px "Segoe UI", system-ui, sans-serif; background: var(--bg); color: var(--fg); display: flex; flex-direction: column; height: 100vh; }
  header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 8px 12px; background: var(--bar); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0 12px 0 0; }
  label { display: inline-flex; gap: 4px; align-items: center; }
  #host-link { width: 28em; }
  #host-status { padding: 4px 12px; margin: 0; border-bottom: 1px solid var(--line); }
  #host-tab { flex: 1; display: flex; }
  #host-tab iframe { flex: 1; border: 0; }
  details { padding: 4px 12px; border-top: 1px solid var(--line); max-height: 20vh; overflow: auto; }
</style>
<script id="host-setup" type="application/json">${data}</script>
<script src="/host.js" defer></script>
</head>
<body>
<header>
  <h1>Teams (local host)</h1>
  <label>Signed in as <select id="host-user"></select></label>
  <label>Theme <select id="host-theme"><option value="default">Light (default)</option><option value="dark">Dark</option><option value="contrast">High contrast</option></select></label>
  <label>Single sign-on <select id="host-sso"><option value="">works</option><option value="resourceRequiresConsent">fails: resourceRequiresConsent</option><option value="resourceDisabled">fails: resourceDisabled</option></select></label>
  <form id="host-link-form"><label>Teams link <input id="host-link" type="url" placeholder="https://teams.microsoft.com/l/entity/…"></label> <button type="submit">Open</button></form>
</header>
<p id="host-status" role="status"></p>
<main id="host-tab" aria-label="App"></main>
<details><summary>What the tab asked this host</summary><ol id="host-log" reversed></ol></details>
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
  res.end(body);
}

async function readJson(req: IncomingMessage): Promise<{ oid?: string } | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as { oid?: string };
  } catch {
    return undefined;
  }
}
