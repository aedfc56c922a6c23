import { useState } from 'react';
import { Button, Card, CardHeader, MessageBar, MessageBarBody, Spinner, Title3 } from '@fluentui/react-components';
import { useConfirm } from '../common/ConfirmDialog';
import { Problem, TabApiError, usePageStyles, when, type MappingChange, type MappingPreview, type TabApiClient } from '../common';
import { MappingFilePreview, type CheckedFile } from './MappingFilePreview';
import { replayText } from './mappingText';

function removalText(preview: MappingPreview): string {
  const { diff } = preview;
  return `This file removes ${diff.removed} of the ${diff.activeRows} numbers in the active mapping, more than half: their items will no longer reach those mailboxes (unless automatic mapping finds them). Apply it anyway?`;
}

/** Choose a CSV, read its row report and its comparison with the active mapping, then apply it. */
export function MappingUpload({ api, onApplied }: { api: TabApiClient; onApplied: () => void }) {
  const styles = usePageStyles();
  const [checked, setChecked] = useState<CheckedFile>();
  // A new one empties the file field, once a file is applied.
  const [round, setRound] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [applied, setApplied] = useState<string>();
  const [dialog, ask] = useConfirm();

  const choose = (next: CheckedFile | undefined) => {
    setChecked(next);
    setApplied(undefined);
    setError(undefined);
  };

  const apply = async () => {
    if (!checked?.preview.check.ok) return;
    const { file, preview } = checked;
    setBusy(true);
    setError(undefined);
    try {
      const confirmRemovals = () => ask({ title: 'Remove more than half of the mapping?', text: removalText(preview), confirm: 'Remove them and apply' });
      // The preview already says when the API will want a confirmation: asked first, not after a refusal.
      if (preview.diff.confirmationRequired && !(await confirmRemovals())) return;
      let change: MappingChange;
      try {
        change = await api.applyMapping(file, preview.diff.confirmationRequired);
      } catch (err) {
        // The active mapping changed since the preview (someone else's edit), and now this removes more than half.
        if (!(err instanceof TabApiError && err.code === 'ConfirmationRequired')) throw err;
        if (!(await ask({ title: 'Remove more than half of the mapping?', text: err.message, confirm: 'Remove them and apply' }))) return;
        change = await api.applyMapping(file, true);
      }
      setApplied(
        change.version
          ? `Mapping applied: ${change.version.rows} numbers, as the version of ${when(change.version.createdAt)}. ${replayText(change)}`
          : 'The file maps exactly what the active mapping maps: nothing changed.',
      );
      setChecked(undefined);
      setRound((r) => r + 1);
      onApplied();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card>
      <CardHeader header={<Title3 as="h2">Upload a mapping</Title3>} />
      <div className={styles.stack}>
        <MappingFilePreview key={round} api={api} checked={checked} onChecked={choose} disabled={busy} />
        {checked && (
          <div className={styles.actions}>
            <Button appearance="primary" disabled={!checked.preview.check.ok || busy} onClick={() => void apply()}>
              Apply this mapping
            </Button>
          </div>
        )}
        {busy && <Spinner size="small" label="Applying the mapping" />}
        {error !== undefined && <Problem error={error} />}
        {applied && (
          <MessageBar intent="success">
            <MessageBarBody>{applied}</MessageBarBody>
          </MessageBar>
        )}
      </div>
      {dialog}
    </Card>
  );
}
