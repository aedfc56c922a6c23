import { Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react';
import { Button, Spinner, Title3 } from '@fluentui/react-components';
import { TabApiError, Problem, usePageStyles, announce, useRefetchOn, type ConnectorView, type Run, type TabApiClient } from '../common';
import { BackfillForm } from './BackfillForm';
import { ConnectorStatus } from './ConnectorStatus';
import { RunsTable } from './RunsTable';
import { UnmappedNumbers } from './UnmappedNumbers';

// The chart library is a third of the page's code: loaded after the dashboard, not before it.
const DailyChart = lazy(() => import('./DailyChart').then((m) => ({ default: m.DailyChart })));

// While a run is going, the page asks again this often: progress without a reload.
const POLL_MS = 3_000;
// Otherwise this often, to see a run the schedule or the bot started.
const IDLE_POLL_MS = 30_000;

/** The reads the imports page makes as it opens (the boot starts them beside the sign-in check). */
export function dashboardReads(api: TabApiClient): void {
  void api.connector();
  void api.runs();
  void api.unmapped();
  void api.dailyStats(); // the chart's, of the client's default 30 days
}

/** The imports page: the connector, the 30-day chart, "Import now", the imports (polled while one runs), the backfill, the numbers without a mailbox. */
export function Dashboard({ api, onOpenRun }: { api: TabApiClient; onOpenRun: (runId: string) => void }) {
  const styles = usePageStyles();
  const [view, setView] = useState<ConnectorView>();
  const [runs, setRuns] = useState<Run[]>([]);
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<unknown>();

  const load = useCallback(async () => {
    try {
      const [connector, page] = await Promise.all([api.connector(), api.runs()]);
      setView(connector);
      setRuns(page.runs);
      setNext(page.next);
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  }, [api]);
  useEffect(() => void load(), [load]);
  useRefetchOn(['settingsChanged'], () => void load());
  const running = runs.some((r) => r.status === 'running');
  useEffect(() => {
    const timer = setInterval(load, running ? POLL_MS : IDLE_POLL_MS);
    return () => clearInterval(timer);
  }, [running, load]);
  // A run that ends changes the runs, the numbers without a mailbox and the chart: every view reads again.
  // A run this page started counts as seen running even when it ended before the page read the runs again.
  const wasRunning = useRef(false);
  useEffect(() => {
    if (wasRunning.current && !running) announce('runEnded');
    wasRunning.current = running;
  }, [running, runs]);
  const started = useCallback(() => {
    wasRunning.current = true;
    return load();
  }, [load]);

  if (error instanceof TabApiError && error.status === 403) return <Problem error={error} />;
  const more = () =>
    api.runs(next).then((page) => {
      setRuns((shown) => [...shown, ...page.runs]);
      setNext(page.next);
    }, setError);
  return (
    <main className={styles.page}>
      {error !== undefined && <Problem error={error} />}
      {!view ? <Spinner label="Loading the connector" /> : <ConnectorStatus view={view} />}
      {/* The chart's code is asked for once the connector and the runs are on screen: they come first. */}
      {view && (
        <Suspense fallback={<Spinner label="Loading the chart of the last 30 days" />}>
          <DailyChart api={api} refresh={running ? 'running' : runs[0]?.runId} />
        </Suspense>
      )}
      <div className={styles.actions}>
        <Button appearance="primary" disabled={running} onClick={() => api.startRun(view?.etag).then(started, setError)}>
          Import now
        </Button>
      </div>
      <Title3 as="h2">Imports</Title3>
      <RunsTable runs={runs} onOpen={onOpenRun} />
      {next && <Button onClick={more}>Show older imports</Button>}
      <BackfillForm api={api} etag={view?.etag} onStarted={() => void started()} />
      <UnmappedNumbers api={api} onChanged={() => void load()} />
    </main>
  );
}
