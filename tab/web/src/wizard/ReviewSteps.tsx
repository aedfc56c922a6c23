import { useEffect, useState } from 'react';
import { Button, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text } from '@fluentui/react-components';
import { stepLabel, unfinishedSteps, type SetupStepId } from '../../../shared/setupProgress';
import { Problem, when, type MappingVersionListing } from '../common';
import { describeSchedule } from './ScheduleStep';
import { Notice, StepHeading, setupStateOf, useStepAction, useStepStyles, type StepProps } from './stepParts';

/** Step 6: everything chosen, each with the way back to its step. */
export function ReviewStep({ api, view, open }: StepProps) {
  const styles = useStepStyles();
  const [active, setActive] = useState<MappingVersionListing | null>();
  useEffect(
    () =>
      void api.mappingVersions().then(
        (v) => setActive(v.versions.find((x) => x.active) ?? null),
        () => setActive(null),
      ),
    [api],
  );
  const s = view.settings;
  const rows: [SetupStepId, string][] = [
    ['terms', s.termsAcceptedAt ? `accepted on ${when(s.termsAcceptedAt)}` : 'not accepted yet'],
    ['telemessage', view.telemessage.description],
    [
      'mapping',
      `${s.mappingConfirmedAt ? '' : 'not saved yet; '}automatic mapping ${s.automaticMapping ? 'on' : 'off'}; custom mapping: ${active ? `${active.rows} numbers` : active === null ? 'none' : '…'}`,
    ],
    ['consent', s.consentedAt ? `recorded on ${when(s.consentedAt)}` : 'not recorded yet'],
    ['schedule', s.scheduleTimeZone ? `daily at ${describeSchedule(s.scheduleUtc, s.scheduleTimeZone, new Date())}` : `not saved yet (now daily at ${s.scheduleUtc} UTC)`],
  ];
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="review">What the connector is set to. Edit opens that step; saving it keeps everything else.</StepHeading>
      <Table aria-label="Setup review" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Step</TableHeaderCell>
            <TableHeaderCell>Chosen</TableHeaderCell>
            <TableHeaderCell>Change</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {rows.map(([step, chosen]) => (
            <TableRow key={step}>
              <TableCell>{stepLabel(step)}</TableCell>
              <TableCell>{chosen}</TableCell>
              <TableCell>
                <Button size="small" aria-label={`Edit ${stepLabel(step)}`} onClick={() => open(step)}>
                  Edit
                </Button>
              </TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      <div className={styles.actions}>
        <Button appearance="primary" onClick={() => open('finish')}>
          {s.setupCompletedAt ? 'Next' : 'Continue to finish'}
        </Button>
      </div>
    </section>
  );
}

/** Step 7: finish, once every step is saved; then the dashboard. */
export function FinishStep({ view, save, open, onFinished }: StepProps) {
  const styles = useStepStyles();
  const { busy, error, run } = useStepAction();
  const missing = unfinishedSteps(setupStateOf(view));
  const finish = () =>
    run(async () => {
      await save({ setupCompleted: true });
      onFinished();
    });
  if (view.settings.setupCompletedAt) {
    return (
      <section className={styles.section} aria-labelledby="step-heading">
        <StepHeading step="finish" />
        <Notice>The setup was finished on {when(view.settings.setupCompletedAt)}. A step saved since takes effect at once.</Notice>
        <div className={styles.actions}>
          <Button appearance="primary" onClick={onFinished}>
            Go to the imports
          </Button>
        </div>
      </section>
    );
  }
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="finish">Finishing turns the connector on: the daily import runs from its next scheduled time, and the imports page shows every run.</StepHeading>
      {missing.length > 0 && (
        <>
          <Problem title="Not ready to finish." error={`Still to do: ${missing.map(stepLabel).join(', ')}.`} />
          <div className={styles.actions}>
            {missing.map((step) => (
              <Button key={step} onClick={() => open(step)}>
                Open {stepLabel(step)}
              </Button>
            ))}
          </div>
        </>
      )}
      {error !== undefined && <Problem error={error} />}
      <div className={styles.actions}>
        <Button appearance="primary" disabled={busy || missing.length > 0} onClick={finish}>
          Finish setup
        </Button>
      </div>
      {missing.length === 0 && <Text>Everything is saved; nothing is imported until you finish.</Text>}
    </section>
  );
}
