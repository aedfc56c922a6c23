import { useState } from 'react';
import { Button, Field, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { MAX_MAPPING_UPLOAD_BYTES } from '../../../shared/apiSchemas';
import { displayNumber } from '../../../../phone/phoneDisplay';
import { Problem, saveFile, usePageStyles, type MappingPreview, type TabApiClient } from '../common';
import { formatSize } from './mappingText';

// The rows with problems shown in the page; the downloadable report has them all.
const PROBLEMS_SHOWN = 200;

/** A mapping file the server has read: what it found, and the file itself to apply when `preview.check.ok`. */
export interface CheckedFile {
  file: File;
  preview: MappingPreview;
}

/** The rows the server found wrong, by line, and the report to download. */
function RowReport({ preview, fileName }: { preview: MappingPreview; fileName: string }) {
  const styles = usePageStyles();
  const { problems } = preview.check;
  const many = problems.length !== 1;
  const report = () => saveFile(new Blob([preview.reportCsv ?? ''], { type: 'text/csv' }), fileName.replace(/(\.csv)?$/i, '-report.csv'));
  return (
    <div className={styles.stack}>
      <Problem
        title="This file cannot be applied."
        error={`${problems.length} ${many ? 'rows have problems' : 'row has a problem'}: fix ${many ? 'them' : 'it'} in the file (the report lists them all) and choose it again. Nothing was changed.`}
      />
      {preview.reportCsv && (
        <div className={styles.actions}>
          <Button onClick={report}>Download the row report (CSV)</Button>
        </div>
      )}
      <Table aria-label="Rows with problems" size="small">
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
              <TableCell>{p.value || '(empty)'}</TableCell>
              <TableCell>{p.message}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {problems.length > PROBLEMS_SHOWN && <Text>Only the first {PROBLEMS_SHOWN} rows with problems are shown; the report has them all.</Text>}
    </div>
  );
}

/** What the file would change in the active mapping: the counts, and the server's examples of each kind. */
function Comparison({ preview }: { preview: MappingPreview }) {
  const styles = usePageStyles();
  const { diff } = preview;
  const examples = (['added', 'changed', 'removed'] as const).flatMap((change) => diff.examples[change].map((e) => ({ change, ...e })));
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
                <TableCell className={styles.wrapAnywhere}>{e.from ?? '—'}</TableCell>
                <TableCell className={styles.wrapAnywhere}>{e.to ?? '—'}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

/**
 * A mapping CSV chosen, checked and shown, the same on the mapping page and in the setup: a file
 * over the cap is refused here, unsent; the server reads the rest row by row (the rows with
 * problems by line, and the report) and compares it with the active mapping. Nothing is applied
 * here: the page applies `checked` its own way. A new `key` empties the field.
 */
export function MappingFilePreview({ api, checked, onChecked, disabled }: { api: TabApiClient; checked?: CheckedFile; onChecked(checked: CheckedFile | undefined): void; disabled?: boolean }) {
  const styles = usePageStyles();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const choose = async (file: File | undefined) => {
    onChecked(undefined);
    setError(undefined);
    if (!file) return;
    // Checked here first, so a file the server would refuse is not sent at all.
    if (file.size > MAX_MAPPING_UPLOAD_BYTES) {
      return setError(`${file.name} is ${formatSize(file.size)}: a mapping file may be ${formatSize(MAX_MAPPING_UPLOAD_BYTES)} at most. Keep only the number and mailbox columns, or split the file.`);
    }
    setBusy(true);
    try {
      onChecked({ file, preview: await api.previewMapping(file) });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const preview = checked?.preview;
  // The field is disabled while a file is checked: one preview at a time, never a late one over a newer.
  return (
    <div className={styles.stack}>
      <Field
        label="Mapping file (CSV)"
        hint={`TeleMessage's export: the mobile number (External User ID), then the Microsoft 365 mailbox, one per line; at most ${formatSize(MAX_MAPPING_UPLOAD_BYTES)}.`}
      >
        {(fieldProps) => <input {...fieldProps} type="file" accept=".csv,text/csv" disabled={disabled || busy} onChange={(e) => void choose(e.target.files?.[0])} />}
      </Field>
      {busy && <Spinner size="small" label="Checking the file and its mailboxes" />}
      {error !== undefined && <Problem title="The file was not used." error={error} />}
      {checked && preview && (
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
              <MessageBarBody>Every row of {checked.file.name} is correct. Nothing is changed until you apply it.</MessageBarBody>
            </MessageBar>
          ) : (
            <RowReport preview={preview} fileName={checked.file.name} />
          )}
          <Comparison preview={preview} />
        </>
      )}
    </div>
  );
}
