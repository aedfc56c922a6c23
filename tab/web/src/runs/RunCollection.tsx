import { Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { collectionText } from '../../../shared/countFacts';
import { when, usePageStyles, type RunCollection as Collection } from '../common';

const SOURCE = { smtp: 'the capture mailbox', sftp: 'the SFTP landing container' } as const;

/**
 * What a run of a delivered source collected before it imported, in the card's words ("Collected:
 * 120 new, 3 already collected, 1 set aside"), and each batch set aside (a ZIP refused, an email
 * kept as received) with its reason. The names and reasons come from outside (ZIP entry names,
 * Graph ids): React shows them as text.
 */
export function RunCollection({ collection }: { collection: Collection }) {
  const styles = usePageStyles();
  const { rejected } = collection;
  return (
    <section aria-labelledby="collection-heading">
      <Text as="h3" weight="semibold" block id="collection-heading">
        Collected from {SOURCE[collection.kind]}
      </Text>
      <Text as="p">Collected: {collectionText(collection)}.</Text>
      {rejected.length > 0 && (
        <Table aria-label={collection.kind === 'sftp' ? 'ZIPs set aside' : 'Emails set aside'} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell className={styles.logMedium}>{collection.kind === 'sftp' ? 'ZIP' : 'Email'}</TableHeaderCell>
              <TableHeaderCell className={styles.logWide}>Why it was set aside</TableHeaderCell>
              <TableHeaderCell className={styles.logMedium}>When</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {rejected.map((batch, i) => (
              <TableRow key={`${batch.name}-${i}`}>
                <TableCell className={styles.wrapAnywhere}>{batch.name}</TableCell>
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
