import { Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import type { RunCollection as Collection } from './tabApiClient';
import { when } from './when';

const SOURCE = { smtp: 'the capture mailbox', sftp: 'the SFTP landing container' } as const;

/**
 * What a run of a delivered source collected before it imported: items newly taken, items seen
 * again, and each batch refused (a ZIP set aside, an email kept as received) with its reason. The
 * names and reasons come from outside (ZIP entry names, Graph ids): React shows them as text.
 */
export function RunCollection({ collection }: { collection: Collection }) {
  const { rejected } = collection;
  return (
    <section aria-labelledby="collection-heading">
      <Text as="h3" weight="semibold" block id="collection-heading">
        Collected from {SOURCE[collection.kind]}
      </Text>
      <Text as="p">
        {collection.collected} new item{collection.collected === 1 ? '' : 's'} collected, {collection.alreadyCollected} already collected before
        {rejected.length ? `, ${rejected.length} refused.` : ', nothing refused.'}
      </Text>
      {rejected.length > 0 && (
        <Table aria-label={collection.kind === 'sftp' ? 'Rejected ZIPs' : 'Refused emails'} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{collection.kind === 'sftp' ? 'ZIP' : 'Email'}</TableHeaderCell>
              <TableHeaderCell>Reason</TableHeaderCell>
              <TableHeaderCell>When</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rejected.map((batch, i) => (
              <TableRow key={`${batch.name}-${i}`}>
                <TableCell>{batch.name}</TableCell>
                <TableCell>{batch.reason}</TableCell>
                <TableCell>{when(batch.at)}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}
