import { useCallback, useEffect, useId, useState } from 'react';
import { Button, Card, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { COUNT_FACTS, count, itemsProgress } from '../../../shared/countFacts';
import { displayNumber } from '../../../../phone/phoneDisplay';
import { Problem, usePageStyles, when, type Run, type RunLogRow, type TabApiClient } from '../common';
import { RunCollection } from './RunCollection';
import { RunStatus } from './RunStatus';
import { StillFailing } from './StillFailing';

// While the run goes, the page asks again this often: progress without a reload.
const POLL_MS = 3_000;

// The card's figures, items then deliveries (docs/counts.md never mixes the two in one label).
const ITEM_FACTS = COUNT_FACTS.filter((f) => f.label.startsWith('Items'));
const DELIVERY_FACTS = COUNT_FACTS.filter((f) => f.label.startsWith('Deliveries'));

const TRIGGERS: Record<string, string> = { schedule: 'daily schedule', manual: 'import now', rerun: 'rerun', backfill: 'backfill', remap: 'replay of held items (a number was mapped)' };

// Side by side at 1,280 pixels, one under the other when the window is narrower.
const useStyles = makeStyles({
  figures: { display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(300px, 1fr))', gap: tokens.spacingHorizontalL },
});

function Figures({ title, facts, run }: { title: string; facts: typeof COUNT_FACTS; run: Run }) {
  const styles = usePageStyles();
  const id = useId();
  return (
    <section aria-labelledby={id}>
      <Card>
        <Text as="h3" weight="semibold" id={id}>
          {title}
        </Text>
        <div className={styles.facts}>
          {facts.map((f) => [
            <Text key={`${f.label}-label`}>{f.label}</Text>,
            <Text key={f.label} weight="semibold">
              {f.value(run.counts)}
            </Text>,
          ])}
        </div>
      </Card>
    </section>
  );
}

/** One run: its figures in the card's words, what it collected, what is still failing, its log. */
export function RunDetail({ api, runId, onBack }: { api: TabApiClient; runId: string; onBack: () => void }) {
  const styles = usePageStyles();
  const own = useStyles();
  const [detail, setDetail] = useState<{ run: Run; log: RunLogRow[]; logTruncated: boolean }>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();

  // The connector's ETag, as this page read it: a rerun is a write, refused if the connector changed since.
  const [etag, setEtag] = useState<string>();
  const load = useCallback(
    () =>
      Promise.all([api.run(runId), api.connector()]).then(([run, connector]) => {
        setDetail(run);
        setEtag(connector.etag);
      }, setError),
    [api, runId],
  );
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (detail?.run.status !== 'running') return;
    const timer = setInterval(load, POLL_MS);
    return () => clearInterval(timer);
  }, [detail?.run.status, load]);

  if (error) return <Problem error={error} />;
  if (!detail) return <Spinner label="Loading the run" />;
  const { run, log } = detail;
  const c = run.counts;
  const rerun = () => api.rerun(run.runId, etag).then((r) => setNotice(`Rerun started (${r.run.runId}).`), setError);
  const facts: [string, string][] = [
    ['Window', `${when(run.window.from)} – ${when(run.window.to)}`],
    ['Started by', TRIGGERS[run.trigger] ?? run.trigger],
  ];
  if (run.status === 'running') facts.push(['Progress', itemsProgress(c.availableFromSource, run.itemsTotal)]);
  if (c.unmapped > 0) facts.push(['Without a mailbox', `${count(c.unmapped)} unmapped participants from ${count(c.unmappedNumbers)} numbers; ${count(c.itemsHeld)} items held for an unmapped number`]);
  if (run.error) facts.push(['Error', run.error]);
  if (run.verification) facts.push(['Verification', run.verification]);
  return (
    <main className={styles.page}>
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
      {run.replaySummary && (
        <Text as="p" weight="semibold">
          {run.replaySummary}.
        </Text>
      )}
      <Text as="p">{run.summary}</Text>
      <div className={styles.facts}>
        {facts.map(([label, value]) => [
          <Text key={`${label}-label`} weight="semibold">
            {label}
          </Text>,
          <Text key={label} className={styles.wrapAnywhere}>
            {value}
          </Text>,
        ])}
      </div>
      <div className={own.figures}>
        <Figures title="Items" facts={ITEM_FACTS} run={run} />
        <Figures title="Deliveries" facts={DELIVERY_FACTS} run={run} />
      </div>
      {run.collection && <RunCollection collection={run.collection} />}
      <StillFailing api={api} run={run} />
      <Text as="h3" weight="semibold">
        The run log
      </Text>
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
              <TableCell className={styles.wrapAnywhere}>{displayNumber(row.sourceUserId)}</TableCell>
              <TableCell className={styles.wrapAnywhere}>{row.m365UserId ?? '—'}</TableCell>
              <TableCell>{row.outcome}</TableCell>
              <TableCell>{row.reason}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {detail.logTruncated && <Text>Only the first {log.length} lines are shown; the CSV has them all.</Text>}
    </main>
  );
}
