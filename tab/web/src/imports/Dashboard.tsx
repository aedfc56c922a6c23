import { Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react';
import {
  Button,
  Card,
  CardHeader,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title3,
} from '@fluentui/react-components';
import { BackfillForm } from './BackfillForm';
import { RunStatus } from '../runs/RunStatus';
import { RunsTable } from './RunsTable';
import { TabApiError, type ConnectorView, type Run, type TabApiClient, type UnmappedNumber } from '../common/tabApiClient';
import { loadSchemas } from './loadSchemas';
import { when } from '../common/when';
import { usePageStyles } from '../common/pageStyles';
import { announce, useRefetchOn } from '../common/viewRefresh';

// The chart library is a third of the page's code: loaded after the dashboard, not before it.
const DailyChart = lazy(() => import('./DailyChart').then((m) => ({ default: m.DailyChart })));

// While a run is going, the page asks again this often: progress without a reload.
const POLL_MS = 3_000;
// Otherwise this often, to see a run the schedule or the bot started.
const IDLE_POLL_MS = 30_000;

export function Problem({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error">
      <MessageBarBody>{message}</MessageBarBody>
    </MessageBar>
  );
}

function ConnectorStatus({ view }: { view: ConnectorView }) {
  const styles = usePageStyles();
  const last = view.status.lastRun;
  return (
    <Card>
      <CardHeader header={<Title3 as="h2">Connector</Title3>} />
      <div className={styles.facts}>
        <Text weight="semibold">Source</Text>
        <Text>{view.telemessage.description}</Text>
        <Text weight="semibold">Last run</Text>
        <Text>
          {last ? (
            <>
              {when(last.startedAt)} <RunStatus run={last} />
            </>
          ) : (
            'none yet'
          )}
        </Text>
        <Text weight="semibold">Next run</Text>
        <Text>
          {when(view.status.nextRunAt)} (daily at {view.settings.scheduleUtc} UTC)
        </Text>
        <Text weight="semibold">Failures</Text>
        <Text>
          {view.status.failures.outstandingItems} items still failing, {view.status.failures.acknowledgedItems} acknowledged (every window; a run's detail lists its own)
        </Text>
        <Text weight="semibold">Automatic mapping</Text>
        <Text>{view.settings.automaticMapping ? 'on' : 'off'}</Text>
      </div>
    </Card>
  );
}

/** One archived line or employee without a mailbox, with a field to map it; checked with the API's own schema first. */
function UnmappedRow({ api, entry, onMapped }: { api: TabApiClient; entry: UnmappedNumber; onMapped: (message: string) => void }) {
  const [mailbox, setMailbox] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const shown = entry.display;
  const map = async () => {
    const checked = (await loadSchemas()).mapNumberBody.safeParse({ number: entry.number, mailbox: mailbox.trim() });
    if (!checked.success) return setProblem('Enter the Microsoft 365 mailbox (an email address).');
    setBusy(true);
    try {
      const change = await api.mapNumber(checked.data.number, checked.data.mailbox);
      setProblem(undefined);
      // The importer's own sentence for the replay, in items: "35 held: 35 already archived, 0 new".
      const held = change.replay.status === 'done' ? change.replay.run.replaySummary : change.replay.status === 'deferred' ? 'its held items will be imported after the current run' : 'no held items';
      onMapped(`${shown} mapped to ${checked.data.mailbox}: ${held}.`);
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <TableRow>
      <TableCell>{shown}</TableCell>
      <TableCell>{entry.kind === 'archivedLine' ? 'archived line' : 'employee'}</TableCell>
      <TableCell>{entry.lastName ?? entry.lastEmail ?? '—'}</TableCell>
      <TableCell>{entry.itemCount}</TableCell>
      <TableCell>
        <Field label={`Mailbox for ${shown}`} validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Input value={mailbox} onChange={(_e, d) => setMailbox(d.value)} placeholder="name@contoso.com" type="email" />
        </Field>
      </TableCell>
      <TableCell>
        <Button disabled={busy} onClick={map} aria-label={`Map ${shown}`}>
          Map
        </Button>
      </TableCell>
    </TableRow>
  );
}

function UnmappedNumbers({ api, onChanged }: { api: TabApiClient; onChanged: () => void }) {
  const [entries, setEntries] = useState<UnmappedNumber[]>();
  const [outside, setOutside] = useState({ numbers: 0, items: 0 });
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<unknown>();
  const load = useCallback(
    () =>
      api.unmapped().then((report) => {
        setEntries([...report.archivedLines, ...report.employees]);
        setOutside(report.outsideParties);
      }, setError),
    [api],
  );
  useEffect(() => void load(), [load]);
  useRefetchOn(['runEnded', 'settingsChanged'], () => void load());
  if (error) return <Problem error={error} />;
  if (!entries) return <Spinner label="Loading the numbers without a mailbox" />;
  return (
    <section aria-label="Numbers without a mailbox">
      <Title3 as="h2">Numbers without a mailbox</Title3>
      {notice && (
        <MessageBar intent="success">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {entries.length === 0 ? (
        <Text>Every archived line and employee maps to a mailbox.</Text>
      ) : (
        <Table aria-label="Numbers without a mailbox" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Number</TableHeaderCell>
              <TableHeaderCell>Who</TableHeaderCell>
              <TableHeaderCell>Name or email at TeleMessage</TableHeaderCell>
              <TableHeaderCell>Items held</TableHeaderCell>
              <TableHeaderCell>Mailbox</TableHeaderCell>
              <TableHeaderCell />
            </TableRow>
          </TableHeader>
          <TableBody>
            {entries.map((entry) => (
              <UnmappedRow key={entry.number} api={api} entry={entry} onMapped={(message) => (setNotice(message), void load(), onChanged())} />
            ))}
          </TableBody>
        </Table>
      )}
      <Text>
        Outside parties (never mapped, by design): {outside.numbers} numbers in {outside.items} items.
      </Text>
    </section>
  );
}

/** The reads the imports page makes as it opens (the boot starts them beside the sign-in check). */
export function dashboardReads(api: TabApiClient): void {
  void api.connector();
  void api.runs();
  void api.unmapped();
  void api.dailyStats(); // the chart's, of the client's default 30 days
}

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
  const wasRunning = useRef(false);
  useEffect(() => {
    if (wasRunning.current && !running) announce('runEnded');
    wasRunning.current = running;
  }, [running]);

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
        <Button appearance="primary" disabled={running} onClick={() => api.startRun().then(load, setError)}>
          Import now
        </Button>
      </div>
      <Title3 as="h2">Imports</Title3>
      <RunsTable runs={runs} onOpen={onOpenRun} />
      {next && <Button onClick={more}>Show older imports</Button>}
      <BackfillForm api={api} onStarted={() => void load()} />
      <UnmappedNumbers api={api} onChanged={() => void load()} />
    </main>
  );
}
