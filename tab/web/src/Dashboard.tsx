import { Suspense, lazy, useCallback, useEffect, useRef, useState } from 'react';
import {
  Badge,
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
import { RunCollection } from './RunCollection';
import { TabApiError, type ConnectorView, type Run, type RunLogRow, type TabApiClient, type UnmappedNumber } from './tabApiClient';
import { loadSchemas } from './loadSchemas';
import { when } from './when';
import { usePageStyles } from './pageStyles';
import { announce, useRefetchOn } from './viewRefresh';

// The chart library is a third of the page's code: loaded after the dashboard, not before it.
const DailyChart = lazy(() => import('./chart/DailyChart').then((m) => ({ default: m.DailyChart })));

// While a run is going, the page asks again this often: progress without a reload.
const POLL_MS = 3_000;
// Otherwise this often, to see a run the schedule or the bot started.
const IDLE_POLL_MS = 30_000;

const STATUS_COLOR: Record<Run['status'], 'success' | 'warning' | 'danger' | 'informative' | 'subtle'> = {
  succeeded: 'success',
  partial: 'warning',
  failed: 'danger',
  running: 'informative',
  interrupted: 'subtle',
};

// The run counts as Microsoft's connector log names them.
const COUNT_LABELS: Record<string, string> = {
  availableFromSource: 'Available from source',
  afterFanOut: 'After fan-out',
  imported: 'Imported',
  partiallyImported: 'Partially imported',
  skippedDuplicates: 'Skipped (duplicates)',
  failed: 'Failed',
  unmapped: 'Unmapped participants',
  unmappedArchivedLines: '… archived lines',
  unmappedEmployees: '… employees',
  unmappedOutsideParties: '… outside parties',
  notImported: 'Not imported',
};

export function Problem({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error">
      <MessageBarBody>{message}</MessageBarBody>
    </MessageBar>
  );
}

function RunStatus({ run }: { run: Run }) {
  return (
    <Badge appearance="filled" color={STATUS_COLOR[run.status]}>
      {run.status}
    </Badge>
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
        <Text weight="semibold">Automatic mapping</Text>
        <Text>{view.settings.automaticMapping ? 'on' : 'off'}</Text>
      </div>
    </Card>
  );
}

function RunsTable({ runs, onOpen }: { runs: Run[]; onOpen: (runId: string) => void }) {
  return (
    <Table aria-label="Imports" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Started</TableHeaderCell>
          <TableHeaderCell>Trigger</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
          <TableHeaderCell>From source</TableHeaderCell>
          <TableHeaderCell>Imported</TableHeaderCell>
          <TableHeaderCell>Partial</TableHeaderCell>
          <TableHeaderCell>Failed</TableHeaderCell>
          <TableHeaderCell>Not imported</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {runs.map((run) => (
          <TableRow key={run.runId}>
            <TableCell>
              <Button appearance="transparent" onClick={() => onOpen(run.runId)}>
                {when(run.startedAt)}
              </Button>
            </TableCell>
            <TableCell>{run.trigger}</TableCell>
            <TableCell>
              <RunStatus run={run} />
            </TableCell>
            <TableCell>{run.counts.availableFromSource}</TableCell>
            <TableCell>{run.counts.imported}</TableCell>
            <TableCell>{run.counts.partiallyImported}</TableCell>
            <TableCell>{run.counts.failed}</TableCell>
            <TableCell>{run.counts.notImported}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** One archived line or employee without a mailbox, with a field to map it; checked with the API's own schema first. */
function UnmappedRow({ api, entry, onMapped }: { api: TabApiClient; entry: UnmappedNumber; onMapped: (message: string) => void }) {
  const [mailbox, setMailbox] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const map = async () => {
    const checked = (await loadSchemas()).mapNumberBody.safeParse({ number: entry.number, mailbox: mailbox.trim() });
    if (!checked.success) return setProblem('Enter the Microsoft 365 mailbox (an email address).');
    setBusy(true);
    try {
      const change = await api.mapNumber(checked.data.number, checked.data.mailbox);
      setProblem(undefined);
      const held =
        change.replay.status === 'done'
          ? `${change.replay.run.counts.imported} held items imported`
          : change.replay.status === 'deferred'
            ? 'its held items will be imported after the current run'
            : 'no held items';
      onMapped(`${entry.number} mapped to ${checked.data.mailbox}: ${held}.`);
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <TableRow>
      <TableCell>{entry.number}</TableCell>
      <TableCell>{entry.kind === 'archivedLine' ? 'archived line' : 'employee'}</TableCell>
      <TableCell>{entry.lastName ?? entry.lastEmail ?? '—'}</TableCell>
      <TableCell>{entry.itemCount}</TableCell>
      <TableCell>
        <Field label={`Mailbox for ${entry.number}`} validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Input value={mailbox} onChange={(_e, d) => setMailbox(d.value)} placeholder="name@contoso.com" type="email" />
        </Field>
      </TableCell>
      <TableCell>
        <Button disabled={busy} onClick={map} aria-label={`Map ${entry.number}`}>
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

export function RunDetail({ api, runId, onBack }: { api: TabApiClient; runId: string; onBack: () => void }) {
  const styles = usePageStyles();
  const [detail, setDetail] = useState<{ run: Run; log: RunLogRow[]; logTruncated: boolean }>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();

  const load = useCallback(() => api.run(runId).then(setDetail, setError), [api, runId]);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (detail?.run.status !== 'running') return;
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [detail?.run.status, load]);

  if (error) return <Problem error={error} />;
  if (!detail) return <Spinner label="Loading the run" />;
  const { run, log } = detail;
  const rerun = () => api.rerun(run.runId).then((r) => setNotice(`Rerun started (${r.run.runId}).`), setError);
  return (
    <div className={styles.page}>
      <div className={styles.actions}>
        <Button onClick={onBack}>Back to imports</Button>
        <Button onClick={() => api.downloadRunLog(run.runId).catch(setError)}>Download the run log (CSV)</Button>
        <Button appearance="primary" disabled={run.status === 'running'} onClick={rerun}>
          Rerun what failed
        </Button>
      </div>
      {notice && (
        <MessageBar intent="success">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      <Title3 as="h2">
        Run of {when(run.startedAt)} <RunStatus run={run} />
      </Title3>
      <div className={styles.facts}>
        <Text weight="semibold">Window</Text>
        <Text>
          {when(run.window.from)} – {when(run.window.to)}
        </Text>
        {Object.entries(run.counts).map(([name, value]) => [
          <Text key={`${name}-label`} weight="semibold">
            {COUNT_LABELS[name] ?? name}
          </Text>,
          <Text key={name}>{value}</Text>,
        ])}
        {run.error && [
          <Text key="error-label" weight="semibold">
            Error
          </Text>,
          <Text key="error">{run.error}</Text>,
        ]}
        {run.verification && [
          <Text key="verification-label" weight="semibold">
            Verification
          </Text>,
          <Text key="verification">{run.verification}</Text>,
        ]}
      </div>
      {run.collection && <RunCollection collection={run.collection} />}
      <Table aria-label="Failed, partial and not imported items" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell className={styles.logMedium}>Item</TableHeaderCell>
            <TableHeaderCell className={styles.logNarrow}>Source user</TableHeaderCell>
            <TableHeaderCell className={styles.logMedium}>Microsoft 365 user</TableHeaderCell>
            <TableHeaderCell className={styles.logNarrow}>Outcome</TableHeaderCell>
            <TableHeaderCell className={styles.logWide}>Reason</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {log.map((row, i) => (
            <TableRow key={`${row.itemId}-${i}`}>
              <TableCell className={styles.wrapAnywhere}>{row.itemId}</TableCell>
              <TableCell>{row.sourceUserId}</TableCell>
              <TableCell className={styles.wrapAnywhere}>{row.m365UserId ?? '—'}</TableCell>
              <TableCell>{row.outcome}</TableCell>
              <TableCell>{row.reason}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {detail.logTruncated && <Text>Only the first {log.length} lines are shown; the CSV has them all.</Text>}
    </div>
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
