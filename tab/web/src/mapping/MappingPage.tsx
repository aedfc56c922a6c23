import { useCallback, useEffect, useState } from 'react';
import { Badge, Button, Card, CardHeader, MessageBar, MessageBarBody, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { useConfirm } from '../common/ConfirmDialog';
import { Problem, when, TabApiError, usePageStyles, type MappingChange, type MappingVersion, type TabApiClient } from '../common';
import { MappingUpload } from './MappingUpload';
import { originText, replayText } from './mappingText';

function ActiveMapping({ api, active, createdAtOf, onError }: { api: TabApiClient; active?: MappingVersion; createdAtOf: (v: string) => string | undefined; onError: (err: unknown) => void }) {
  const styles = usePageStyles();
  return (
    <Card>
      <CardHeader header={<Title3 as="h2">Active mapping</Title3>} />
      {active ? (
        <div className={styles.facts}>
          <Text weight="semibold">Numbers mapped</Text>
          <Text>{active.rows}</Text>
          <Text weight="semibold">Since</Text>
          <Text>{when(active.createdAt)}</Text>
          <Text weight="semibold">By</Text>
          <Text>{active.createdBy}</Text>
          <Text weight="semibold">How</Text>
          <Text>{originText(active, createdAtOf)}</Text>
          <Text weight="semibold">Version</Text>
          <Text>{active.version}</Text>
        </div>
      ) : (
        <Text>No custom mapping yet: numbers map only automatically (when that is on).</Text>
      )}
      <div className={styles.actions}>
        <Button disabled={!active} onClick={() => api.downloadMapping().catch(onError)}>
          Download the mapping (CSV)
        </Button>
      </div>
    </Card>
  );
}

function VersionsTable({
  versions,
  createdAtOf,
  onDownload,
  onRestore,
}: {
  versions: MappingVersion[];
  createdAtOf: (v: string) => string | undefined;
  onDownload: (v: MappingVersion) => void;
  onRestore: (v: MappingVersion) => void;
}) {
  const styles = usePageStyles();
  return (
    <Table aria-label="Mapping versions" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Created</TableHeaderCell>
          <TableHeaderCell>By</TableHeaderCell>
          <TableHeaderCell>Numbers</TableHeaderCell>
          <TableHeaderCell>How</TableHeaderCell>
          <TableHeaderCell>State</TableHeaderCell>
          <TableHeaderCell>Actions</TableHeaderCell>
        </TableRow>
      </TableHeader>
      <TableBody>
        {versions.map((v) => (
          <TableRow key={v.version}>
            <TableCell>{when(v.createdAt)}</TableCell>
            <TableCell>{v.createdBy}</TableCell>
            <TableCell>{v.rows}</TableCell>
            <TableCell>{originText(v, createdAtOf)}</TableCell>
            <TableCell>
              {v.active ? (
                <Badge appearance="filled" color="success">
                  active
                </Badge>
              ) : (
                'earlier'
              )}
            </TableCell>
            <TableCell>
              <div className={styles.actions}>
                <Button size="small" aria-label={`Download the version of ${when(v.createdAt)}`} onClick={() => onDownload(v)}>
                  Download
                </Button>
                {!v.active && (
                  <Button size="small" aria-label={`Restore the version of ${when(v.createdAt)}`} onClick={() => onRestore(v)}>
                    Restore
                  </Button>
                )}
              </div>
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** The custom mapping: the active one, a file's upload with its report and preview, every version with download and restore. */
export function MappingPage({ api }: { api: TabApiClient }) {
  const styles = usePageStyles();
  const [versions, setVersions] = useState<MappingVersion[]>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [dialog, ask] = useConfirm();

  const load = useCallback(() => api.mappingVersions().then((r) => setVersions(r.versions), setError), [api]);
  useEffect(() => void load(), [load]);

  const createdAtOf = (version: string) => {
    const found = versions?.find((v) => v.version === version);
    return found && when(found.createdAt);
  };

  const restore = async (v: MappingVersion) => {
    setNotice(undefined);
    setError(undefined);
    const confirmed = await ask({
      title: 'Restore this version?',
      text: `The mapping of ${when(v.createdAt)} (${v.rows} numbers) becomes the active mapping again, as a new version. The items held for numbers it maps are imported.`,
      confirm: 'Restore',
    });
    if (!confirmed) return;
    setBusy(true);
    try {
      let change: MappingChange;
      try {
        change = await api.restoreMapping(v.version);
      } catch (err) {
        if (!(err instanceof TabApiError && err.code === 'ConfirmationRequired')) throw err;
        if (!(await ask({ title: 'Remove more than half of the mapping?', text: err.message, confirm: 'Remove them and restore' }))) return;
        change = await api.restoreMapping(v.version, true);
      }
      setNotice(`The version of ${when(v.createdAt)} is active again (${change.version?.rows ?? v.rows} numbers). ${replayText(change)}`);
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const active = versions?.find((v) => v.active);
  return (
    <main className={styles.page}>
      {error !== undefined && <Problem error={error} />}
      {notice && (
        <MessageBar intent="success">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {!versions ? <Spinner label="Loading the mapping" /> : <ActiveMapping api={api} active={active} createdAtOf={createdAtOf} onError={setError} />}
      <MappingUpload api={api} onApplied={() => void load()} />
      <section aria-label="Mapping versions">
        <Title3 as="h2">Versions</Title3>
        {busy && <Spinner size="small" label="Restoring" />}
        {versions && <VersionsTable versions={versions} createdAtOf={createdAtOf} onDownload={(v) => api.downloadMapping(v.version).catch(setError)} onRestore={(v) => void restore(v)} />}
      </section>
      {dialog}
    </main>
  );
}
