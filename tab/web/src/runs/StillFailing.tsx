import { useCallback, useEffect, useState } from 'react';
import { Button, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { TabApiError, usePageStyles, useRefetchOn, when, type FailureLine, type Run, type TabApiClient } from '../common';
import { AcknowledgeDialog } from './AcknowledgeDialog';

/** A failure reason from Graph or TeleMessage, capped: the run log has it whole. */
const MAX_REASON_SHOWN = 300;
const capped = (text: string) => (text.length > MAX_REASON_SHOWN ? `${text.slice(0, MAX_REASON_SHOWN)}…` : text);

/** One failed item of the run: its lines (per failed delivery, or the item's own), and the acknowledgement if any. */
interface FailedItem {
  itemId: string;
  archivedAt: string;
  lines: FailureLine[];
  acknowledgement?: FailureLine['acknowledgement'];
}

/** The failures among the run's items (its window; a replay's own items), one entry per item. */
function failedItemsOf(run: Run, lines: FailureLine[]): FailedItem[] {
  const only = run.itemIds && new Set(run.itemIds);
  const byItem = new Map<string, FailedItem>();
  for (const line of lines) {
    if (line.archivedAt < run.window.from || line.archivedAt >= run.window.to || (only && !only.has(line.itemId))) continue;
    const item = byItem.get(line.itemId) ?? { itemId: line.itemId, archivedAt: line.archivedAt, lines: [], acknowledgement: line.acknowledgement };
    item.lines.push(line);
    byItem.set(line.itemId, item);
  }
  return [...byItem.values()];
}

/** What a refused acknowledgement means for the admin, and what to do. */
function refusalText(err: unknown): string {
  if (err instanceof TabApiError && err.status === 412)
    return "Someone changed the connector's settings since this page read them. The page has read them again: check this is still the failure you mean, and acknowledge again.";
  if (err instanceof TabApiError && err.status === 409) return 'An import is running and holds the connector (it may be importing this very item). Acknowledge it once the import has ended.';
  if (err instanceof TabApiError && err.status === 404) return 'This failure is no longer outstanding: it was imported or acknowledged meanwhile. The list below has been read again.';
  return err instanceof Error ? err.message : String(err);
}

/**
 * What is still failing among the run's items, as it stands now (not as the run ended): each item
 * with why, and for one that can never be imported an "Acknowledge" that asks for the reason. An
 * acknowledged item stays listed, with who acknowledged it and why.
 */
export function StillFailing({ api, run }: { api: TabApiClient; run: Run }) {
  const styles = usePageStyles();
  const [items, setItems] = useState<FailedItem[]>();
  const [truncated, setTruncated] = useState(false);
  const [etag, setEtag] = useState<string>();
  const [asking, setAsking] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<unknown>();

  const load = useCallback(
    () =>
      Promise.all([api.failures(), api.connector()]).then(([listing, connector]) => {
        setItems(failedItemsOf(run, [...listing.outstanding, ...listing.acknowledged]));
        setTruncated(listing.truncated);
        setEtag(connector.etag);
        setError(undefined);
      }, setError),
    [api, run],
  );
  useEffect(() => void load(), [load]);
  useRefetchOn(['runEnded', 'settingsChanged'], () => void load());

  const acknowledge = async (itemId: string, reason: string): Promise<string | undefined> => {
    try {
      await api.acknowledgeFailure(itemId, reason, etag);
      setNotice(`${itemId} acknowledged: it is no longer outstanding, and stays listed below.`);
      await load();
      return undefined;
    } catch (err) {
      // A stale ETag or a failure gone meanwhile: the page reads afresh, so a second try can succeed.
      if (err instanceof TabApiError && (err.status === 412 || err.status === 404)) await load();
      return refusalText(err);
    }
  };

  if (error) return <Text role="alert">The failures could not be read: {error instanceof Error ? error.message : String(error)}</Text>;
  if (!items) return <Spinner label="Loading what is still failing" />;
  const outstanding = items.filter((i) => !i.acknowledgement).length;
  return (
    <section aria-labelledby="still-failing-heading" className={styles.stack}>
      <Text as="h3" weight="semibold" block id="still-failing-heading">
        Still failing
      </Text>
      <Text as="p">
        {items.length === 0
          ? 'Nothing among this run’s items is failing now.'
          : `Now: ${outstanding} of this run’s items still failing, ${items.length - outstanding} acknowledged. The figures above are as the run ended.`}
        {truncated && ' Only the first 500 failures of every window are listed; the run log has all of this run’s.'}
      </Text>
      {notice && (
        <MessageBar intent="success">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {items.length > 0 && (
        <Table aria-label="Still failing" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell className={styles.logMedium}>Item</TableHeaderCell>
              <TableHeaderCell className={styles.logNarrow}>Archived</TableHeaderCell>
              <TableHeaderCell className={styles.logWide}>Why it failed</TableHeaderCell>
              <TableHeaderCell className={styles.logMedium}>Acknowledgement</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {items.map((item) => (
              <TableRow key={item.itemId}>
                <TableCell className={styles.wrapAnywhere}>{item.itemId}</TableCell>
                <TableCell>{when(item.archivedAt)}</TableCell>
                <TableCell className={styles.wrapAnywhere}>
                  {item.lines.map((l, i) => (
                    <Text key={i} block>
                      {l.mailbox ? `${l.mailbox}: ` : ''}
                      {capped(l.reason)}
                    </Text>
                  ))}
                </TableCell>
                <TableCell>
                  {item.acknowledgement ? (
                    <Text>
                      Acknowledged by {item.acknowledgement.name}: {capped(item.acknowledgement.reason)}
                    </Text>
                  ) : (
                    <Button size="small" aria-label={`Acknowledge the failure of ${item.itemId}`} onClick={() => setAsking(item.itemId)}>
                      Acknowledge
                    </Button>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {asking && <AcknowledgeDialog itemId={asking} onSend={(reason) => acknowledge(asking, reason)} onClose={() => setAsking(undefined)} />}
    </section>
  );
}
