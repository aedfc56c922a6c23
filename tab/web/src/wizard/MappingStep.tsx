import { useCallback, useEffect, useState } from 'react';
import { Button, Checkbox, Switch, Text, Title3 } from '@fluentui/react-components';
import { Problem, type MappingChange, type MappingVersionListing } from '../common';
import { MappingFilePreview, type CheckedFile } from '../mapping/MappingFilePreview';
import { Notice, StepHeading, useStepAction, useStepStyles, type StepProps } from './stepParts';

/**
 * Step 3: the user mapping. Automatic mapping on or off, and optionally TeleMessage's mapping CSV:
 * the server checks it row by row and compares it with the active mapping before anything is
 * applied; a file with a bad row cannot be applied.
 */
export function MappingStep({ api, view, save, reload }: StepProps) {
  const styles = useStepStyles();
  const [automatic, setAutomatic] = useState(view.settings.automaticMapping);
  const [active, setActive] = useState<MappingVersionListing>();
  const [checked, setChecked] = useState<CheckedFile>();
  // A new one empties the file field, once a file is applied.
  const [round, setRound] = useState(0);
  const [error, setError] = useState<unknown>();
  const [confirmRemovals, setConfirmRemovals] = useState(false);
  const [applied, setApplied] = useState<MappingChange>();
  const [busy, setBusy] = useState(false);
  const step = useStepAction();

  const loadActive = useCallback(() => api.mappingVersions().then((v) => setActive(v.versions.find((x) => x.active)), setError), [api]);
  useEffect(() => void loadActive(), [loadActive]);

  const choose = (next: CheckedFile | undefined) => {
    setChecked(next);
    setError(undefined);
    setApplied(undefined);
    setConfirmRemovals(false);
  };

  const apply = async () => {
    if (!checked?.preview.check.ok) return;
    setBusy(true);
    setError(undefined);
    try {
      setApplied(await api.applyMapping(checked.file, confirmRemovals, view.etag));
      setChecked(undefined);
      setRound((r) => r + 1);
      await Promise.all([reload(), loadActive()]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const removals = checked?.preview.diff.removed ?? 0;
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="mapping">
        Each participant of an item is matched to a Microsoft 365 mailbox: first by the custom mapping (TeleMessage's CSV of mobile numbers and mailboxes), then, with automatic mapping on, by the
        email address TeleMessage has for them.
      </StepHeading>
      <Switch label="Automatic user mapping (by the email address at TeleMessage)" checked={automatic} onChange={(_e, d) => setAutomatic(d.checked)} />
      <Text>
        Custom mapping now: <strong>{active ? `${active.rows} numbers` : 'none'}</strong>
      </Text>

      <Title3 as="h3">Custom mapping file (optional)</Title3>
      <MappingFilePreview key={round} api={api} checked={checked} onChecked={choose} disabled={busy} />
      {checked?.preview.check.ok && (
        <>
          {removals > 0 && <Checkbox label={`Remove the ${removals} numbers this file leaves out`} checked={confirmRemovals} onChange={(_e, d) => setConfirmRemovals(d.checked === true)} />}
          <div className={styles.actions}>
            <Button disabled={busy || (removals > 0 && !confirmRemovals)} onClick={apply}>
              Apply this mapping
            </Button>
          </div>
        </>
      )}
      {error !== undefined && <Problem title="The file was not used." error={error} />}
      {applied && (
        <Notice>
          Mapping applied: {applied.version ? `${applied.version.rows} numbers` : 'the same as the active one, nothing changed'}
          {applied.newlyMapped.length ? `; the held items of ${applied.newlyMapped.length} newly mapped numbers are replayed` : ''}.
        </Notice>
      )}

      {step.error !== undefined && <Problem error={step.error} />}
      <div className={styles.actions}>
        <Button appearance="primary" disabled={busy || step.busy} onClick={() => step.run(() => save({ automaticMapping: automatic, mappingConfirmed: true }))}>
          Save and continue
        </Button>
      </div>
    </section>
  );
}
