import { useId, useState } from 'react';
import { Button, Card, CardHeader, Label, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { MAX_MAPPING_UPLOAD_BYTES } from '../../../shared/apiSchemas';
import { displayNumber } from '../../../shared/phoneDisplay';
import { useConfirm } from '../common/ConfirmDialog';
import { Problem } from '../common';
import { when } from '../common';
import { TabApiError, saveFile, type MappingChange, type MappingChangeExample, type MappingPreview, type TabApiClient } from '../common';
import { formatSize, replayText } from './mappingText';
import { usePageStyles } from '../common';

// The report's rows shown in the page; the downloadable report has them all.
const PROBLEMS_SHOWN = 200;

function ProblemsTable({ preview, fileName }: { preview: MappingPreview; fileName: string }) {
  const styles = usePageStyles();
  const { problems } = preview.check;
  const report = () => saveFile(new Blob([preview.reportCsv ?? ''], { type: 'text/csv' }), `${fileName.replace(/\.csv$/i, '')}-report.csv`);
  return (
    <div className={styles.stack}>
      <MessageBar intent="error">
        <MessageBarBody>
          The file has {problems.length} problem{problems.length === 1 ? '' : 's'}, so it cannot be applied. Fix the lines below (or those the report lists) and upload it again.
        </MessageBarBody>
      </MessageBar>
      <div className={styles.actions}>
        <Button onClick={report}>Download the report (CSV)</Button>
      </div>
      <Table aria-label="Problems in the file" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Line</TableHeaderCell>
            <TableHeaderCell>Value</TableHeaderCell>
            <TableHeaderCell>Problem</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {problems.slice(0, PROBLEMS_SHOWN).map((p, i) => (
            <TableRow key={`${p.line}-${i}`}>
              <TableCell>{p.line}</TableCell>
              <TableCell>{p.value}</TableCell>
              <TableCell>{p.message}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {problems.length > PROBLEMS_SHOWN && <Text>Only the first {PROBLEMS_SHOWN} problems are shown; the report has them all.</Text>}
    </div>
  );
}

function DiffView({ preview }: { preview: MappingPreview }) {
  const styles = usePageStyles();
  const { diff } = preview;
  const examples: (MappingChangeExample & { change: string })[] = [
    ...diff.examples.added.map((e) => ({ ...e, change: 'added' })),
    ...diff.examples.changed.map((e) => ({ ...e, change: 'changed' })),
    ...diff.examples.removed.map((e) => ({ ...e, change: 'removed' })),
  ];
  return (
    <section aria-label="Compared with the active mapping" className={styles.stack}>
      <Title3 as="h3">Compared with the active mapping</Title3>
      <Text>
        The active mapping has {diff.activeRows} numbers. This file: {diff.added} added, {diff.changed} changed, {diff.removed} removed, {diff.unchanged} unchanged.
      </Text>
      {diff.confirmationRequired && (
        <MessageBar intent="warning">
          <MessageBarBody>It removes more than half of the active mapping: applying it asks you to confirm.</MessageBarBody>
        </MessageBar>
      )}
      {examples.length > 0 && (
        <Table aria-label="Examples of the changes" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Change</TableHeaderCell>
              <TableHeaderCell>Number</TableHeaderCell>
              <TableHeaderCell>Mailbox now</TableHeaderCell>
              <TableHeaderCell>Mailbox in the file</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {examples.map((e) => (
              <TableRow key={`${e.change}-${e.number}`}>
                <TableCell>{e.change}</TableCell>
                <TableCell>{displayNumber(e.number)}</TableCell>
                <TableCell>{e.from ?? '—'}</TableCell>
                <TableCell>{e.to ?? '—'}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

function removalText(preview: MappingPreview): string {
  const { diff } = preview;
  return `This file removes ${diff.removed} of the ${diff.activeRows} numbers in the active mapping, more than half: their items will no longer reach those mailboxes (unless automatic mapping finds them). Apply it anyway?`;
}

/** Choose a CSV, read its row report and its comparison with the active mapping, then apply it. */
export function MappingUpload({ api, onApplied }: { api: TabApiClient; onApplied: () => void }) {
  const styles = usePageStyles();
  const inputId = useId();
  const [file, setFile] = useState<File>();
  const [inputKey, setInputKey] = useState(0);
  const [preview, setPreview] = useState<MappingPreview>();
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [applied, setApplied] = useState<string>();
  const [dialog, ask] = useConfirm();

  const choose = async (chosen: File | undefined) => {
    setPreview(undefined);
    setApplied(undefined);
    setError(undefined);
    setFile(chosen);
    if (!chosen) return;
    // Checked here first, so a file the server would refuse is not sent at all.
    if (chosen.size > MAX_MAPPING_UPLOAD_BYTES) {
      return setError(
        new Error(`${chosen.name} is ${formatSize(chosen.size)}: a mapping file may be ${formatSize(MAX_MAPPING_UPLOAD_BYTES)} at most. Keep only the number and mailbox columns, or split the file.`),
      );
    }
    setBusy('Checking the file and its mailboxes');
    try {
      setPreview(await api.previewMapping(chosen));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  const apply = async () => {
    if (!file || !preview?.check.ok) return;
    setBusy('Applying the mapping');
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
      setPreview(undefined);
      setFile(undefined);
      setInputKey((k) => k + 1);
      onApplied();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <Card>
      <CardHeader
        header={<Title3 as="h2">Upload a mapping</Title3>}
        description={<Text>TeleMessage's format: the mobile number, then the Microsoft 365 mailbox, one per line; up to {formatSize(MAX_MAPPING_UPLOAD_BYTES)}.</Text>}
      />
      <div className={styles.stack}>
        <div className={styles.actions}>
          <Label htmlFor={inputId}>Mapping file (CSV)</Label>
          <input key={inputKey} id={inputId} type="file" accept=".csv,text/csv" onChange={(e) => void choose(e.target.files?.[0])} />
        </div>
        {busy && <Spinner size="small" label={busy} />}
        {error !== undefined && <Problem error={error} />}
        {applied && (
          <MessageBar intent="success">
            <MessageBarBody>{applied}</MessageBarBody>
          </MessageBar>
        )}
        {preview && file && (
          <>
            <div className={styles.facts}>
              <Text weight="semibold">Rows read</Text>
              <Text>{preview.check.rows}</Text>
              <Text weight="semibold">Numbers it maps</Text>
              <Text>{preview.check.entries}</Text>
              <Text weight="semibold">Rows repeated</Text>
              <Text>{preview.check.repeated}</Text>
              <Text weight="semibold">Mailboxes checked</Text>
              <Text>
                {preview.check.mailboxes.checked}, of which {preview.check.mailboxes.unknown} unknown to Microsoft 365
              </Text>
            </div>
            {preview.check.ok ? (
              <MessageBar intent="success">
                <MessageBarBody>Every row of {file.name} is correct.</MessageBarBody>
              </MessageBar>
            ) : (
              <ProblemsTable preview={preview} fileName={file.name} />
            )}
            <DiffView preview={preview} />
            <div className={styles.actions}>
              <Button appearance="primary" disabled={!preview.check.ok || busy !== undefined} onClick={() => void apply()}>
                Apply this mapping
              </Button>
            </div>
          </>
        )}
      </div>
      {dialog}
    </Card>
  );
}
