import { Card, CardHeader, Text, Title3 } from '@fluentui/react-components';
import { usePageStyles, when, type ConnectorView } from '../common';
import { RunStatus } from '../runs/RunStatus';

/** The connector at a glance: where it reads from, its last and next run, what is still failing, automatic mapping. */
export function ConnectorStatus({ view }: { view: ConnectorView }) {
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
        <Text weight="semibold">Failures</Text>
        <Text>
          {view.status.failures.outstandingItems} items still failing, {view.status.failures.acknowledgedItems} acknowledged (every window; a run's detail lists its own)
        </Text>
        <Text weight="semibold">Automatic mapping</Text>
        <Text>{view.settings.automaticMapping ? 'on' : 'off'}</Text>
      </div>
    </Card>
  );
}
