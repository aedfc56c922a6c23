import { useCallback, useEffect, useState } from 'react';
import { Button, Field, Input, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { MAX_AUDIT_DAYS, auditQuery } from '../../../shared/apiSchemas';
import { Problem, when, useRefetchOn, type AuditEntry, type TabApiClient } from '../common';

const useStyles = makeStyles({
  page: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, padding: tokens.spacingHorizontalXL },
  row: { display: 'flex', gap: tokens.spacingHorizontalL, flexWrap: 'wrap', alignItems: 'flex-end' },
  details: { wordBreak: 'break-word' },
  when: { width: '16%' },
  who: { width: '20%' },
  what: { width: '64%' },
});

const dayInput = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);

/** The window as the API takes it: from the first day's midnight on the admin's clock to the end of the last day (or now). */
function windowOf(fromDay: string, toDay: string): { from: string; to: string } {
  const from = new Date(`${fromDay}T00:00`);
  const end = new Date(`${toDay}T00:00`);
  end.setDate(end.getDate() + 1);
  if (Number.isNaN(from.getTime()) || Number.isNaN(end.getTime())) return { from: fromDay, to: toDay };
  return { from: from.toISOString(), to: new Date(Math.min(end.getTime(), Date.now())).toISOString() };
}

/** Who did what to the connector, newest first, over a window of up to 93 days. */
export function AuditPage({ api }: { api: TabApiClient }) {
  const styles = useStyles();
  const [fromDay, setFromDay] = useState(() => dayInput(daysAgo(6)));
  const [toDay, setToDay] = useState(() => dayInput(new Date()));
  const [problem, setProblem] = useState<string>();
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [error, setError] = useState<unknown>();

  const load = useCallback(
    async (from: string, to: string) => {
      const window = windowOf(from, to);
      const checked = auditQuery.safeParse(window);
      if (!checked.success) return setProblem(`The window ${checked.error.issues[0].message} (at most ${MAX_AUDIT_DAYS} days, the first day first).`);
      setProblem(undefined);
      setError(undefined);
      setEntries(undefined);
      try {
        setEntries((await api.audit(window.from, window.to)).entries.slice().reverse());
      } catch (err) {
        setError(err);
      }
    },
    [api],
  );
  useEffect(() => void load(fromDay, toDay), [load]); // eslint-disable-line react-hooks/exhaustive-deps
  // A change made on another page is in the trail: the window shown is read again.
  useRefetchOn(['settingsChanged', 'runEnded'], () => void load(fromDay, toDay));
  const download = async () => {
    const window = windowOf(fromDay, toDay);
    if (!auditQuery.safeParse(window).success) return;
    await api.downloadAudit(window.from, window.to).catch(setError);
  };

  return (
    <main className={styles.page}>
      <Title3 as="h2">Audit trail</Title3>
      <div className={styles.row}>
        <Field label="From" validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Input type="date" value={fromDay} onChange={(_e, d) => setFromDay(d.value)} />
        </Field>
        <Field label="To">
          <Input type="date" value={toDay} onChange={(_e, d) => setToDay(d.value)} />
        </Field>
        <Button appearance="primary" onClick={() => void load(fromDay, toDay)}>
          Show
        </Button>
        <Button disabled={!entries} onClick={() => void download()}>
          Download as CSV
        </Button>
      </div>
      {error !== undefined && <Problem error={error} />}
      {!entries && !problem && error === undefined && <Spinner label="Loading the audit trail" />}
      {entries && (
        <>
          <Text>
            {entries.length} entr{entries.length === 1 ? 'y' : 'ies'}, newest first.
          </Text>
          <Table aria-label="Audit trail" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell className={styles.when}>When</TableHeaderCell>
                <TableHeaderCell className={styles.who}>Who</TableHeaderCell>
                <TableHeaderCell className={styles.what}>What happened</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {entries.map((e, i) => (
                <TableRow key={`${e.at}-${i}`}>
                  <TableCell>{when(e.at)}</TableCell>
                  <TableCell title={e.actor}>{e.who}</TableCell>
                  <TableCell className={styles.details}>{e.text}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </>
      )}
    </main>
  );
}
