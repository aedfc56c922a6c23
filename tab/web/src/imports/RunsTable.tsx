import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow } from '@fluentui/react-components';
import { countFact } from '../../../shared/countFacts';
import { when, type Run } from '../common';
import { RunStatus } from '../runs/RunStatus';

// The figures the imports table shows, labelled and valued as the card and the run detail do.
const COLUMNS = ['Items from source', 'Items imported', 'Items failed', 'Items not imported', 'Deliveries after fan-out', 'Deliveries imported'];

/** The imports, newest first: each opens its detail. */
export function RunsTable({ runs, onOpen }: { runs: Run[]; onOpen: (runId: string) => void }) {
  return (
    <Table aria-label="Imports" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Started</TableHeaderCell>
          <TableHeaderCell>Trigger</TableHeaderCell>
          <TableHeaderCell>Status</TableHeaderCell>
          {COLUMNS.map((label) => (
            <TableHeaderCell key={label}>{label}</TableHeaderCell>
          ))}
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
            {COLUMNS.map((label) => (
              <TableCell key={label}>{countFact(label, run.counts)}</TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
