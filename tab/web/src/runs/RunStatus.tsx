import { Badge } from '@fluentui/react-components';
import type { Run } from '../common';

const STATUS_COLOR: Record<Run['status'], 'success' | 'warning' | 'danger' | 'informative' | 'subtle'> = {
  succeeded: 'success',
  partial: 'warning',
  failed: 'danger',
  running: 'informative',
  interrupted: 'subtle',
};

/** A run's status as a coloured badge: the imports table's and the run detail's. */
export function RunStatus({ run }: { run: Run }) {
  return (
    <Badge appearance="filled" color={STATUS_COLOR[run.status]}>
      {run.status}
    </Badge>
  );
}
