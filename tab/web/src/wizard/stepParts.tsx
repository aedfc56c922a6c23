import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { MessageBar, MessageBarBody, Text, makeStyles, tokens } from '@fluentui/react-components';
import type { ConnectorPatch } from '../../../shared/apiSchemas';
import { SETUP_STEPS, type SetupState, type SetupStepId } from '../../../shared/setupProgress';
import type { TabConfig } from '../signIn/signIn';
import type { ConnectorView, TabApiClient } from '../common';

/** What every step gets from the wizard. */
export interface StepProps {
  api: TabApiClient;
  view: ConnectorView;
  config: TabConfig;
  /** PATCHes the connector with the ETag its view was read with, then opens the next step to do. */
  save(patch: ConnectorPatch): Promise<void>;
  /** Reads the connector again after a change made through another route, then opens the next step to do. */
  advance(): Promise<void>;
  /** Reads the connector again and stays on the step. */
  reload(): Promise<void>;
  open(step: SetupStepId): void;
  onFinished(): void;
}

export const useStepStyles = makeStyles({
  section: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap', alignItems: 'center' },
  facts: { display: 'grid', gridTemplateColumns: 'max-content 1fr', columnGap: tokens.spacingHorizontalL, rowGap: tokens.spacingVerticalS, alignItems: 'center' },
  field: { maxWidth: '420px' },
  heading: { ':focus-visible': { outline: `${tokens.strokeWidthThick} solid ${tokens.colorStrokeFocus2}` } },
});

/**
 * The step's heading, focused when the step opens: a keyboard or screen reader user lands at the
 * top of the step, and Tab goes on into it.
 */
export function StepHeading({ step, children }: { step: SetupStepId; children?: ReactNode }) {
  const styles = useStepStyles();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const index = SETUP_STEPS.findIndex((s) => s.id === step);
  return (
    <div>
      <Text as="h2" size={600} weight="semibold" block id="step-heading" ref={ref} tabIndex={-1} className={styles.heading}>
        Step {index + 1} of {SETUP_STEPS.length}: {SETUP_STEPS[index].label}
      </Text>
      {children && <Text as="p">{children}</Text>}
    </div>
  );
}

export function Notice({ children, intent = 'success' }: { children: ReactNode; intent?: 'success' | 'info' | 'warning' }) {
  return (
    <MessageBar intent={intent}>
      <MessageBarBody>{children}</MessageBarBody>
    </MessageBar>
  );
}

/** A step's action: busy while it goes (its buttons disabled), and what it was refused, to show. */
export function useStepAction(): { busy: boolean; error: unknown; run(work: () => Promise<unknown>): Promise<void> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

export const setupStateOf = (view: ConnectorView): SetupState => ({ ...view.settings, telemessageConfigured: view.telemessage.configured });
