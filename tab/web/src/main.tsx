// First: in Teams it starts loading teams-js as soon as the page's code runs.
import { TeamsSignInError, startSignIn, type SignIn, type TabConfig, type TeamsTheme } from './signIn/signIn';
import { StrictMode, Suspense, lazy, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { FluentProvider, Spinner, teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme, type Theme } from '@fluentui/react-components';
import { Dashboard, dashboardReads } from './imports/Dashboard';
import { Navigation, type PageLink } from './Navigation';
import { TabApiClient, TabApiError, ThemeName } from './common';
import { useLanding } from './wizard/landing';

// The pages other than the imports are loaded when first opened: the dashboard comes up sooner.
const MappingPage = lazy(() => import('./mapping/MappingPage').then((m) => ({ default: m.MappingPage })));
const AuditPage = lazy(() => import('./audit/AuditPage').then((m) => ({ default: m.AuditPage })));
const SettingsPage = lazy(() => import('./settings/SettingsPage').then((m) => ({ default: m.SettingsPage })));
const RunDetail = lazy(() => import('./runs/RunDetail').then((m) => ({ default: m.RunDetail })));
const SetupWizard = lazy(() => import('./wizard/SetupWizard').then((m) => ({ default: m.SetupWizard })));

const THEMES: Record<TeamsTheme, Theme> = { default: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };

/** Where the page is: `#/runs/<id>` opens a run (the bot's cards link there), `#/<page>` one of the pages. */
interface Route {
  page: string;
  runId?: string;
}

function readRoute(): Route {
  const run = /^#\/runs\/([^/]+)$/.exec(location.hash)?.[1];
  if (run) return { page: 'imports', runId: decodeURIComponent(run) };
  const page = /^#\/([a-z-]+)$/.exec(location.hash)?.[1];
  return { page: page && PAGES.some((p) => p.id === page) ? page : 'imports' };
}

const go = (hash: string) => (location.hash = hash);

function useRoute(): Route {
  const [route, setRoute] = useState(readRoute);
  useEffect(() => {
    const onHash = () => setRoute(readRoute());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

/** The page's sections, in the order the navigation lists them. */
const PAGES: (PageLink & { render(api: TabApiClient): React.ReactNode })[] = [
  { id: 'imports', label: 'Imports', render: (api) => <Dashboard api={api} onOpenRun={(id) => go(`#/runs/${encodeURIComponent(id)}`)} /> },
  { id: 'mapping', label: 'Mapping', render: (api) => <MappingPage api={api} /> },
  { id: 'audit', label: 'Audit trail', render: (api) => <AuditPage api={api} /> },
  { id: 'settings', label: 'Settings', render: (api) => <SettingsPage api={api} /> },
  { id: 'setup', label: 'Setup', render: (api) => <SetupWizard api={api} onFinished={() => go('#/imports')} /> },
];

function Themed({ signIn, children }: { signIn: SignIn; children: React.ReactNode }) {
  const [theme, setTheme] = useState(signIn.theme);
  useEffect(() => signIn.onThemeChange(setTheme), [signIn]);
  return (
    <FluentProvider theme={THEMES[theme] ?? teamsLightTheme} style={{ minHeight: '100vh' }}>
      <ThemeName.Provider value={theme}>{children}</ThemeName.Provider>
    </FluentProvider>
  );
}

function App({ api }: { api: TabApiClient }) {
  const route = useRoute();
  const landed = useLanding(api);
  const current = PAGES.find((p) => p.id === route.page) ?? PAGES[0];
  return (
    <>
      <Navigation pages={PAGES} current={current.id} onSelect={(id) => go(`#/${id}`)} />
      <Suspense fallback={<Spinner label="Opening the page" />}>
        {!landed ? <Spinner label="Opening the tab" /> : route.runId ? <RunDetail api={api} runId={route.runId} onBack={() => go('#/imports')} /> : current.render(api)}
      </Suspense>
    </>
  );
}

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  root.render(<Spinner label="Signing in" />);
  const config = (await (await fetch('/tab/config.json')).json()) as TabConfig;
  const signIn = await startSignIn(config);
  if (signIn.locale) document.documentElement.lang = signIn.locale;
  // Teams opened the tab at a run (the bot's "Open in the tab" deep link): that run's page.
  const linkedRun = /^run:(.+)$/.exec(signIn.subPageId ?? '')?.[1];
  if (linkedRun) history.replaceState(null, '', `#/runs/${encodeURIComponent(linkedRun)}`);
  const api = new TabApiClient(signIn);
  // Opening on the imports (or, set up, landing there): its reads go out now, beside the admin check.
  const route = readRoute();
  if (route.page === 'imports' && !route.runId) api.prefetch(dashboardReads);
  // Signed in but not an admin: the page that says who can grant access, not a dashboard of errors.
  // No token from Teams: the page that says what to do about it.
  const refusal = await api.me().then(
    () => undefined,
    (err: unknown) => ((err instanceof TabApiError && err.code === 'NotAnAdmin') || err instanceof TeamsSignInError ? err : Promise.reject(err)),
  );
  // The refusal pages load only when one is shown: an admin's first load does without them.
  let page = <App api={api} />;
  if (refusal instanceof TeamsSignInError) {
    const { TeamsSignInFailed } = await import('./signIn/TeamsSignInFailed');
    page = <TeamsSignInFailed failure={refusal} />;
  } else if (refusal) {
    const { NotAnAdmin } = await import('./signIn/NotAnAdmin');
    page = <NotAnAdmin refusal={refusal} onSwitchAccount={signIn.switchAccount && (() => void signIn.switchAccount!())} />;
  }
  root.render(
    <StrictMode>
      <Themed signIn={signIn}>{page}</Themed>
    </StrictMode>,
  );
}

boot().catch((err: Error) => {
  document.getElementById('root')!.textContent = `The tab could not start: ${err.message}`;
});
