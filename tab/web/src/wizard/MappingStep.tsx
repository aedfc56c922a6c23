import { useCallback, useEffect, useState } from 'react';
import { Button, Checkbox, Field, Switch, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { MAX_MAPPING_UPLOAD_BYTES } from '../../../shared/apiSchemas';
import { displayNumber } from '../../../shared/phoneDisplay';
import { saveFile, type MappingChange, type MappingPreview, type MappingVersionListing } from '../common';
import { Problem } from '../common';
import { Notice, StepHeading, useStepAction, useStepStyles, type StepProps } from './stepParts';

const mebibytes = (bytes: number) => `${Number((bytes / (1024 * 1024)).toFixed(1))} MiB`;

/** What a file would change, with the first few examples of each kind. */
function PreviewReport({ preview }: { preview: MappingPreview }) {
  const { diff } = preview;
  const examples = (['added', 'changed', 'removed'] as const).flatMap((kind) => diff.examples[kind].slice(0, 5).map((e) => ({ kind, ...e })));
  return (
    <>
      <Table aria-label="What this file changes" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Added</TableHeaderCell>
            <TableHeaderCell>Changed</TableHeaderCell>
            <TableHeaderCell>Removed</TableHeaderCell>
            <TableHeaderCell>Unchanged</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          <TableRow>
            <TableCell>{diff.added}</TableCell>
            <TableCell>{diff.changed}</TableCell>
            <TableCell>{diff.removed}</TableCell>
            <TableCell>{diff.unchanged}</TableCell>
          </TableRow>
        </TableBody>
      </Table>
      {examples.length > 0 && (
        <Table aria-label="Examples of the changes" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Change</TableHeaderCell>
              <TableHeaderCell>Number</TableHeaderCell>
              <TableHeaderCell>Mailbox now</TableHeaderCell>
              <TableHeaderCell>Mailbox after</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {examples.map((e) => (
              <TableRow key={`${e.kind}-${e.number}`}>
                <TableCell>{e.kind}</TableCell>
                <TableCell>{displayNumber(e.number)}</TableCell>
                <TableCell>{e.from ?? '—'}</TableCell>
                <TableCell>{e.to ?? '—'}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </>
  );
}

/** The rows the server found wrong, by line, and the report to download. */
function RowReport({ preview, filename }: { preview: MappingPreview; filename: string }) {
  const { problems } = preview.check;
  return (
    <>
      <Problem
        title="This file cannot be applied."
        error={`${problems.length} ${problems.length === 1 ? 'row has a problem' : 'rows have problems'}: fix ${problems.length === 1 ? 'it' : 'them'} in the file and choose it again. Nothing was changed.`}
      />
      <Table aria-label="Rows with problems" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Line</TableHeaderCell>
            <TableHeaderCell>Value</TableHeaderCell>
            <TableHeaderCell>Problem</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {problems.map((p, i) => (
            <TableRow key={`${p.line}-${i}`}>
              <TableCell>{p.line}</TableCell>
              <TableCell>{p.value || '(empty)'}</TableCell>
              <TableCell>{p.message}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {preview.reportCsv && (
        <div>
          <Button onClick={() => saveFile(new Blob([preview.reportCsv!], { type: 'text/csv' }), filename.replace(/(\.csv)?$/i, '-report.csv'))}>Download the row report (CSV)</Button>
        </div>
      )}
    </>
  );
}

/**
 * Step 3: the user mapping. Automatic mapping on or off, and optionally TeleMessage's mapping CSV:
 * the server checks it row by row and compares it with the active mapping before anything is
 * applied; a file with a bad row cannot be applied.
 */
export function MappingStep({ api, view, save, reload }: StepProps) {
  const styles = useStepStyles();
  const [automatic, setAutomatic] = useState(view.settings.automaticMapping);
  const [active, setActive] = useState<MappingVersionListing>();
  const [file, setFile] = useState<File>();
  const [preview, setPreview] = useState<MappingPreview>();
  const [fileError, setFileError] = useState<unknown>();
  const [confirmRemovals, setConfirmRemovals] = useState(false);
  const [applied, setApplied] = useState<MappingChange>();
  const [busy, setBusy] = useState(false);
  const step = useStepAction();

  const loadActive = useCallback(() => api.mappingVersions().then((v) => setActive(v.versions.find((x) => x.active)), setFileError), [api]);
  useEffect(() => void loadActive(), [loadActive]);

  const choose = async (chosen: File | undefined) => {
    setFile(chosen);
    setPreview(undefined);
    setFileError(undefined);
    setApplied(undefined);
    setConfirmRemovals(false);
    if (!chosen) return;
    // Checked here first, so a file over the cap is never sent.
    if (chosen.size > MAX_MAPPING_UPLOAD_BYTES) {
      return setFileError(`${chosen.name} is ${mebibytes(chosen.size)}; the most a mapping file may be is ${mebibytes(MAX_MAPPING_UPLOAD_BYTES)}. Split it, or remove the rows you do not need.`);
    }
    setBusy(true);
    try {
      setPreview(await api.previewMapping(chosen));
    } catch (err) {
      setFileError(err);
    } finally {
      setBusy(false);
    }
  };

  const apply = async () => {
    if (!file || !preview) return;
    setBusy(true);
    try {
      setApplied(await api.applyMapping(file, confirmRemovals, view.etag));
      setPreview(undefined);
      await Promise.all([reload(), loadActive()]);
    } catch (err) {
      setFileError(err);
    } finally {
      setBusy(false);
    }
  };

  const removals = preview?.diff.removed ?? 0;
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
      <Field className={styles.field} label="Mapping CSV file" hint={`TeleMessage's export: External User ID, Microsoft 365 User Mailbox. At most ${mebibytes(MAX_MAPPING_UPLOAD_BYTES)}.`}>
        {(fieldProps) => <input {...fieldProps} type="file" accept=".csv,text/csv" disabled={busy} onChange={(e) => void choose(e.target.files?.[0])} />}
      </Field>
      {fileError !== undefined && <Problem title="The file was not used." error={fileError} />}
      {preview && !preview.check.ok && file && <RowReport preview={preview} filename={file.name} />}
      {preview?.check.ok && (
        <>
          <Notice intent="info">
            {file?.name} maps {preview.check.entries} numbers; {preview.check.mailboxes.checked} mailboxes were checked with Microsoft 365. Nothing is changed until you apply it.
          </Notice>
          <PreviewReport preview={preview} />
          {removals > 0 && <Checkbox label={`Remove the ${removals} numbers this file leaves out`} checked={confirmRemovals} onChange={(_e, d) => setConfirmRemovals(d.checked === true)} />}
          <div className={styles.actions}>
            <Button disabled={busy || (removals > 0 && !confirmRemovals)} onClick={apply}>
              Apply this mapping
            </Button>
          </div>
        </>
      )}
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
