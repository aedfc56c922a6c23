import { useCallback, useEffect, useState } from 'react';
import { Button, Field, Input, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { Problem, useRefetchOn, type TabApiClient, type UnmappedNumber } from '../common';
import { loadSchemas } from './loadSchemas';

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

/** The archived lines and employees without a mailbox, each with a field to map it; outside parties only counted. */
export function UnmappedNumbers({ api, onChanged }: { api: TabApiClient; onChanged: () => void }) {
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
