// The Teams host page's script (runs in the browser; server.ts bundles it). It frames the tab as
// Teams does and answers what @microsoft/teams-js posts to its host, in the shapes the library's
// own code reads (packages/teams-js/src/internal/communication.ts, public/app/app.ts,
// public/authentication.ts): a request is { id, uuidAsString, func, args, … }, an answer
// { id, uuidAsString, args }, an event { func, args }.

/** What the server writes into the page: the Teams app and the directory it runs in. */
export interface HostSetup {
  /** The static tab's contentUrl, as the manifest names it. */
  tabUrl: string;
  /** The Teams app's id (manifest id) and the static tab's entityId: what a deep link to the tab names. */
  appId: string;
  entityId: string;
  tenantId: string;
  users: { oid: string; name: string; preferredUsername: string }[];
}

export type HostTheme = 'default' | 'dark' | 'contrast';

interface Request {
  id: number;
  uuidAsString?: string;
  func: string;
  args?: unknown[];
}

/** How long the host waits for the tab's app.initialize before it says the tab did not start. */
const INITIALIZE_WAIT_MS = 15_000;
/** A cached SSO token is handed out until this long before it expires, as Teams caches them. */
const TOKEN_MARGIN_MS = 5 * 60_000;
/** teams-js's ErrorCode.NOT_SUPPORTED_ON_PLATFORM: what Teams answers for a capability it lacks. */
const NOT_SUPPORTED = 100;

// What this host offers (teams-js applies it at initialize): a tab, its deep links and theme events.
const RUNTIME = {
  apiVersion: 4,
  isLegacyTeams: false,
  hostVersionsInfo: { adaptiveCardSchemaVersion: { majorVersion: 1, minorVersion: 5 } },
  supports: { app: {}, appEntity: {}, pages: { appButton: {}, tabs: {}, config: {}, backStack: {} }, teamsCore: {} },
};

const setup = JSON.parse(document.getElementById('host-setup')!.textContent!) as HostSetup;
const tabOrigin = new URL(setup.tabUrl).origin;
const params = new URLSearchParams(location.search);
const state = {
  user: setup.users.find((u) => u.oid === params.get('user')) ?? setup.users[0],
  theme: (['default', 'dark', 'contrast'].includes(params.get('theme') ?? '') ? params.get('theme') : 'default') as HostTheme,
  locale: params.get('locale') ?? 'en-us',
  /** Set: getAuthToken fails with this reason, as Teams does when it cannot get the token. */
  ssoError: params.get('ssoError') ?? undefined,
  subPageId: params.get('subPageId') ?? undefined,
  sessionId: crypto.randomUUID(),
};
let token: Promise<{ value: string; expiresAt: number } | undefined> | undefined;
let frame: HTMLIFrameElement | undefined;
/** How many times the tab was opened: each frame carries its number (data-opened), for whoever waits for the next. */
let opens = 0;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (text: string) => ($('host-status').textContent = text);
const log = (text: string) => {
  const line = document.createElement('li');
  line.textContent = `${new Date().toISOString().slice(11, 19)} ${text}`;
  $('host-log').prepend(line);
};

/** (Re)opens the tab in a new frame, as Teams does when a link opens it: a fresh page with the context of the moment. */
function openTab(subPageId: string | undefined): void {
  state.subPageId = subPageId;
  $('host-tab').dataset.initialized = 'false';
  frame?.remove();
  frame = document.createElement('iframe');
  frame.title = 'Enterprise Number Archiver tab';
  frame.dataset.opened = String(++opens);
  frame.src = setup.tabUrl;
  $('host-tab').append(frame);
  status(`Opening the tab${subPageId ? ` at sub-page ${subPageId}` : ''}…`);
  const opened = frame;
  setTimeout(() => {
    if (frame === opened && $('host-tab').dataset.initialized !== 'true') {
      status(
        `The tab has not called app.initialize. If the browser's console says it refused to frame it (frame-ancestors), the tab does not allow this host's origin ${location.origin}: set LOCAL_DEV_TEAMS_HOST_ORIGIN=${location.origin} on its server.`,
      );
    }
  }, INITIALIZE_WAIT_MS);
}

/** The context as Teams sends it to getContext (teams-js's v1 shape, which app.getContext maps). */
function context(): Record<string, unknown> {
  return {
    entityId: setup.entityId,
    subEntityId: state.subPageId,
    appId: setup.appId,
    locale: state.locale,
    theme: state.theme,
    tid: setup.tenantId,
    userObjectId: state.user.oid,
    userPrincipalName: state.user.preferredUsername,
    loginHint: state.user.preferredUsername,
    userDisplayName: state.user.name,
    hostClientType: 'web',
    hostName: 'Teams',
    frameContext: 'content',
    sessionId: state.sessionId,
    appSessionId: state.sessionId,
    isFullScreen: false,
    ringId: 'general',
  };
}

/** authentication.getAuthToken: a v2 token for the app (the sign-in emulator's), or Teams's failure. */
async function authToken(): Promise<[boolean, string]> {
  if (state.ssoError) return [false, state.ssoError];
  // The tab asks for each of its calls, several at once as it opens: one token serves them all.
  const cached = await token;
  if (!cached || cached.expiresAt - TOKEN_MARGIN_MS <= Date.now()) token = fetchToken();
  const current = await token;
  return current ? [true, current.value] : [false, 'tokenmissing'];
}

async function fetchToken(): Promise<{ value: string; expiresAt: number } | undefined> {
  const res = await fetch('/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ oid: state.user.oid }) });
  if (!res.ok) return undefined;
  const answer = (await res.json()) as { token: string; expiresIn: number };
  return { value: answer.token, expiresAt: Date.now() + answer.expiresIn * 1000 };
}

/** A Teams deep link to this app's tab opens the tab again with the link's sub-page id; another app's is refused; any other https link opens in a new window. */
function followLink(link: string): [boolean, string?] {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return [false, `Not a link: ${link}`];
  }
  const entity = /^\/l\/entity\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (/^teams\.(microsoft\.com|cloud\.microsoft)$/.test(url.hostname) && entity) {
    const [appId, entityId] = entity.slice(1).map(decodeURIComponent);
    if (appId !== setup.appId || entityId !== setup.entityId) return [false, `This host has no app ${appId} with a tab ${entityId}.`];
    let subEntityId: string | undefined;
    try {
      subEntityId = (JSON.parse(url.searchParams.get('context') ?? '{}') as { subEntityId?: string }).subEntityId;
    } catch {
      return [false, "The link's context is not JSON."];
    }
    log(`deep link to the tab${subEntityId ? `, sub-page ${subEntityId}` : ''}`);
    // Answered first: the page that asked is replaced.
    setTimeout(() => openTab(subEntityId));
    return [true];
  }
  if (url.protocol !== 'https:') return [false, `Teams opens only https links: ${link}`];
  window.open(url.href, '_blank', 'noopener');
  return [true];
}

async function answer(request: Request): Promise<unknown[] | undefined> {
  switch (request.func) {
    case 'initialize':
      $('host-tab').dataset.initialized = 'true';
      status(`The tab is running (teams-js ${String(request.args?.[0])}), signed in as ${state.user.name}${state.subPageId ? `, at sub-page ${state.subPageId}` : ''}.`);
      return ['content', 'web', JSON.stringify(RUNTIME), '2.0.1'];
    case 'getContext':
      return [context()];
    case 'authentication.getAuthToken':
      return authToken();
    case 'executeDeepLink':
      return followLink(String(request.args?.[0] ?? ''));
    // One-way messages: a handler registered, the app's loading state.
    case 'registerHandler':
    case 'appInitialization.appLoaded':
    case 'appInitialization.success':
    case 'appInitialization.failure':
    case 'appInitialization.expectedFailure':
      return undefined;
    default:
      log(`not supported by this host: ${request.func}`);
      return [{ errorCode: NOT_SUPPORTED, message: `${request.func} is not supported by the local Teams host.` }];
  }
}

window.addEventListener('message', (event: MessageEvent) => {
  // Teams answers only the app it framed, at the origin it framed it at.
  if (event.source !== frame?.contentWindow || event.origin !== tabOrigin) return;
  const request = event.data as Request;
  if (!request || typeof request.func !== 'string' || typeof request.id !== 'number') return;
  log(`${request.func}${request.func === 'executeDeepLink' ? ` ${String(request.args?.[0])}` : ''}`);
  const source = event.source as Window;
  answer(request).then(
    (args) => args && source.postMessage({ id: request.id, uuidAsString: request.uuidAsString, args }, tabOrigin),
    (err: Error) => source.postMessage({ id: request.id, uuidAsString: request.uuidAsString, args: [false, err.message] }, tabOrigin),
  );
});

function setTheme(theme: HostTheme): void {
  state.theme = theme;
  document.documentElement.dataset.theme = theme;
  // Teams tells the running app; it does not reload it.
  frame?.contentWindow?.postMessage({ func: 'themeChange', args: [theme] }, tabOrigin);
  log(`theme ${theme}`);
}

/** A change of who is signed in, or of whether SSO works, restarts the app, as signing in again to Teams does. */
function restart(change: Record<string, string | undefined>): void {
  const next = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(change)) {
    if (value) next.set(key, value);
    else next.delete(key);
  }
  next.set('theme', state.theme);
  next.delete('link');
  location.search = next.toString();
}

function start(): void {
  const users = $<HTMLSelectElement>('host-user');
  for (const user of setup.users) users.add(new Option(`${user.name} (${user.preferredUsername})`, user.oid, false, user.oid === state.user.oid));
  users.addEventListener('change', () => restart({ user: users.value }));
  const theme = $<HTMLSelectElement>('host-theme');
  theme.value = state.theme;
  document.documentElement.dataset.theme = state.theme;
  theme.addEventListener('change', () => setTheme(theme.value as HostTheme));
  const sso = $<HTMLSelectElement>('host-sso');
  if (state.ssoError && !Array.from(sso.options).some((o) => o.value === state.ssoError)) sso.add(new Option(`fails: ${state.ssoError}`, state.ssoError));
  sso.value = state.ssoError ?? '';
  sso.addEventListener('change', () => restart({ ssoError: sso.value || undefined }));
  $<HTMLFormElement>('host-link-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const [ok, reason] = followLink($<HTMLInputElement>('host-link').value.trim());
    if (!ok) status(`Teams could not open the link: ${reason}`);
  });
  // ?link=<Teams deep link> opens Teams at that link, as a link clicked outside Teams does.
  const link = params.get('link');
  if (link) {
    const [ok, reason] = followLink(link);
    if (!ok) status(`Teams could not open the link: ${reason}`);
  } else openTab(state.subPageId);
}

start();
