import { useCallback, useEffect, useState } from 'react';
import { Button, Spinner, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { ConnectorPatch } from '../../../shared/apiSchemas';
import { SETUP_STEPS, resumeStep, stepDone, type SetupStepId } from '../../../shared/setupProgress';
import type { TabConfig } from '../signIn/signIn';
import { TabApiError, Problem, type ConnectorView, type TabApiClient } from '../common';
import { setupStateOf, type StepProps } from './stepParts';
import { TermsStep, TeleMessageStep } from './signInSteps';
import { MappingStep } from './MappingStep';
import { ConsentStep } from './ConsentStep';
import { ScheduleStep } from './ScheduleStep';
import { FinishStep, ReviewStep } from './ReviewSteps';

const useStyles = makeStyles({
  page: { display: 'flex', gap: tokens.spacingHorizontalXXL, padding: tokens.spacingHorizontalXL, alignItems: 'flex-start', flexWrap: 'wrap' },
  steps: { flex: '0 0 260px' },
  list: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  step: { width: '100%', justifyContent: 'space-between', textAlign: 'start', gap: tokens.spacingHorizontalS },
  content: { flex: '1 1 480px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '820px' },
});

const STEPS: Record<SetupStepId, (props: StepProps) => React.ReactNode> = {
  terms: TermsStep,
  telemessage: TeleMessageStep,
  mapping: MappingStep,
  consent: ConsentStep,
  schedule: ScheduleStep,
  review: ReviewStep,
  finish: FinishStep,
};

/**
 * The connector's setup, Microsoft's connector's steps one at a time. Its progress is the
 * connector's own settings: it opens on the first step not saved yet (a finished setup on the
 * review), and any step can be opened again and saved on its own.
 */
export function SetupWizard({ api, onFinished }: { api: TabApiClient; onFinished: () => void }) {
  const styles = useStyles();
  const [view, setView] = useState<ConnectorView>();
  const [config, setConfig] = useState<TabConfig>();
  const [current, setCurrent] = useState<SetupStepId>();
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    Promise.all([api.connector(), fetch('/tab/config.json').then((r) => r.json() as Promise<TabConfig>)]).then(([connector, tabConfig]) => {
      setView(connector);
      setConfig(tabConfig);
      setCurrent(resumeStep(setupStateOf(connector)));
    }, setError);
  }, [api]);

  /** After a step is saved: the next step not done yet, or the review. */
  const moveOn = useCallback((next: ConnectorView) => {
    setView(next);
    setError(undefined);
    setCurrent(resumeStep(setupStateOf(next)));
  }, []);

  const save = useCallback(
    async (patch: ConnectorPatch) => {
      try {
        moveOn(await api.patchConnector(patch, view?.etag));
      } catch (err) {
        // Someone else changed the connector in between: show theirs, and the step again.
        if (err instanceof TabApiError && err.status === 412) setView(await api.connector());
        throw err;
      }
    },
    [api, view?.etag, moveOn],
  );
  const advance = useCallback(async () => moveOn(await api.connector()), [api, moveOn]);
  const reload = useCallback(async () => setView(await api.connector()), [api]);

  if (error instanceof TabApiError && error.status === 403) return <Problem error={error} />;
  if (!view || !config || !current) return error ? <Problem error={error} /> : <Spinner label="Loading the setup" />;
  const state = setupStateOf(view);
  const Step = STEPS[current];
  return (
    <main className={styles.page}>
      <nav aria-label="Setup steps" className={styles.steps}>
        <ol className={styles.list}>
          {SETUP_STEPS.map((s, i) => {
            const done = stepDone(state, s.id);
            return (
              <li key={s.id}>
                <Button className={styles.step} appearance={s.id === current ? 'primary' : 'subtle'} aria-current={s.id === current ? 'step' : undefined} onClick={() => setCurrent(s.id)}>
                  <span>
                    {i + 1}. {s.label}
                  </span>
                  <Text size={200}>{done ? 'done' : 'to do'}</Text>
                </Button>
              </li>
            );
          })}
        </ol>
      </nav>
      <div className={styles.content}>
        <Step key={current} api={api} view={view} config={config} save={save} advance={advance} reload={reload} open={setCurrent} onFinished={onFinished} />
      </div>
    </main>
  );
}
