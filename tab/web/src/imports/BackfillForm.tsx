import { useState } from 'react';
import { Button, Card, CardHeader, Field, Input, MessageBar, MessageBarBody, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { MAX_BACKFILL_DAYS } from '../../../shared/limits';
import { loadSchemas } from './loadSchemas';
import { Problem, when, type Run, type TabApiClient } from '../common';

const useStyles = makeStyles({
  row: { display: 'flex', gap: tokens.spacingHorizontalL, flexWrap: 'wrap', alignItems: 'flex-end' },
});

const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');

/** A datetime-local value ("2026-11-23T08:00", the admin's own clock) as ISO 8601 with the admin's offset. */
export function localToIso(value: string): string {
  const at = new Date(value);
  if (!value || Number.isNaN(at.getTime())) return value;
  const offset = -at.getTimezoneOffset();
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return `${date}${offset >= 0 ? '+' : '-'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

/** A Date as a datetime-local value on the admin's clock. */
function toLocalInput(at: Date): string {
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function midnight(daysAgo: number): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysAgo);
  return d;
}

/** Imports a chosen window again (in the admin's time zone); checked with the API's own schema before it is sent. */
/** `etag`: the connector's, as the page read it (a backfill is a write like any other). */
export function BackfillForm({ api, etag, onStarted }: { api: TabApiClient; etag: string | undefined; onStarted: (run: Run) => void }) {
  const styles = useStyles();
  const [from, setFrom] = useState(() => toLocalInput(midnight(1)));
  const [to, setTo] = useState(() => toLocalInput(midnight(0)));
  const [problems, setProblems] = useState<{ from?: string; to?: string }>({});
  const [error, setError] = useState<unknown>();
  const [started, setStarted] = useState<string>();
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setStarted(undefined);
    setError(undefined);
    const checked = (await loadSchemas()).backfillBody.safeParse({ from: localToIso(from), to: localToIso(to) });
    if (!checked.success) {
      const found: { from?: string; to?: string } = {};
      for (const issue of checked.error.issues) {
        const field = issue.path[0] === 'from' ? 'from' : 'to';
        found[field] ??= issue.code === 'invalid_format' ? 'Enter a date and time.' : `The window ${issue.message}.`;
      }
      return setProblems(found);
    }
    setProblems({});
    setBusy(true);
    try {
      const { run } = await api.backfill(checked.data, etag);
      setStarted(`Backfill of ${when(run.window.from)} – ${when(run.window.to)} started; it shows in the imports below.`);
      onStarted(run);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card>
      <CardHeader
        header={<Title3 as="h2">Backfill</Title3>}
        description={<Text>Imports a window again, at most {MAX_BACKFILL_DAYS} days, in your time zone; what is already archived is skipped.</Text>}
      />
      <div className={styles.row}>
        <Field label="From" validationMessage={problems.from} validationState={problems.from ? 'error' : 'none'}>
          <Input type="datetime-local" value={from} onChange={(_e, d) => setFrom(d.value)} />
        </Field>
        <Field label="To" validationMessage={problems.to} validationState={problems.to ? 'error' : 'none'}>
          <Input type="datetime-local" value={to} onChange={(_e, d) => setTo(d.value)} />
        </Field>
        <Button appearance="primary" disabled={busy} onClick={() => void start()}>
          Start the backfill
        </Button>
      </div>
      {error !== undefined && <Problem error={error} />}
      {started && (
        <MessageBar intent="success">
          <MessageBarBody>{started}</MessageBarBody>
        </MessageBar>
      )}
    </Card>
  );
}
