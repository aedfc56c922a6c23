import { StrictMode, useEffect, useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { FluentProvider, Spinner, teamsDarkTheme, teamsHighContrastTheme, teamsLightTheme, type Theme } from '@fluentui/react-components';
import { Dashboard, RunDetail } from './Dashboard';
import { startSignIn, type SignIn, type TabConfig, type TeamsTheme } from './signIn';
import { TabApiClient } from './tabApiClient';

const THEMES: Record<TeamsTheme, Theme> = { default: teamsLightTheme, dark: teamsDarkTheme, contrast: teamsHighContrastTheme };

/** #/runs/<id> opens a run (the bot's cards link there); anything else is the dashboard. */
function useRoute(): [string | undefined, (runId?: string) => void] {
  const read = () => /^#\/runs\/([^/]+)$/.exec(location.hash)?.[1];
  const [runId, setRunId] = useState(read);
  useEffect(() => {
    const onHash = () => setRunId(read());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return [runId && decodeURIComponent(runId), (id) => (location.hash = id ? `#/runs/${encodeURIComponent(id)}` : '#/')];
}

function App({ signIn }: { signIn: SignIn }) {
  const [theme, setTheme] = useState(signIn.theme);
  useEffect(() => signIn.onThemeChange(setTheme), [signIn]);
  const api = useMemo(() => new TabApiClient(signIn), [signIn]);
  const [runId, open] = useRoute();
  return (
    <FluentProvider theme={THEMES[theme] ?? teamsLightTheme} style={{ minHeight: '100vh' }}>
      {runId ? <RunDetail api={api} runId={runId} onBack={() => open()} /> : <Dashboard api={api} onOpenRun={open} />}
    </FluentProvider>
  );
}

async function boot(): Promise<void> {
  const root = createRoot(document.getElementById('root')!);
  root.render(<Spinner label="Signing in" />);
  const config = (await (await fetch('/tab/config.json')).json()) as TabConfig;
  const signIn = await startSignIn(config);
  root.render(
    <StrictMode>
      <App signIn={signIn} />
    </StrictMode>,
  );
}

boot().catch((err: Error) => {
  document.getElementById('root')!.textContent = `The tab could not start: ${err.message}`;
});
