import { useCallback, useEffect, useState } from 'react';
import { Button, Card, Field, Input, MessageBar, MessageBarBody, Select, Spinner, Table, TableBody, TableCell, TableHeader, TableHeaderCell, TableRow, Text, Title3 } from '@fluentui/react-components';
import { connectorPatch } from '../../../shared/apiSchemas';
import { Problem, usePageStyles, announce, type AdminListing, type ConnectorView, type TabApiClient } from '../common';

// The countries a mapping file's national numbers are most often from; any other two-letter code can be typed.
const COUNTRIES = ['US', 'GB', 'CA', 'AU', 'DE', 'FR', 'IE', 'IL', 'IN', 'NL', 'ES', 'IT', 'CH', 'SG', 'JP', 'BR', 'MX', 'ZA'];
const countryName = (code: string) => new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code;

/** The connector's default country, for mapping files that write numbers without their country code. */
function DefaultCountry({ api, view, onSaved }: { api: TabApiClient; view: ConnectorView; onSaved: (view: ConnectorView, message: string) => void }) {
  const styles = usePageStyles();
  const [country, setCountry] = useState(view.settings.defaultCountry ?? '');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const choices = [...new Set([...COUNTRIES, ...(view.settings.defaultCountry ? [view.settings.defaultCountry] : [])])];
  const save = async () => {
    const checked = connectorPatch.safeParse({ defaultCountry: country });
    if (!checked.success) return setProblem('Choose a country.');
    setBusy(true);
    try {
      const next = await api.patchConnector(checked.data, view.etag);
      setProblem(undefined);
      onSaved(next, `The default country is now ${countryName(country)} (${country}).`);
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card>
      <Text as="h3" weight="semibold" size={400}>
        Default country
      </Text>
      <Text>A mapping file may write a mobile number without its country code (07700 900123); the archiver reads such a number as one of this country.</Text>
      <div className={styles.actions}>
        <Field label="Country for national numbers" validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Select value={country} onChange={(_e, d) => setCountry(d.value)}>
            <option value="">Not set</option>
            {choices.map((c) => (
              <option key={c} value={c}>
                {countryName(c)} ({c})
              </option>
            ))}
          </Select>
        </Field>
        <Button appearance="primary" disabled={busy || country === (view.settings.defaultCountry ?? '')} onClick={() => void save()}>
          Save the default country
        </Button>
      </div>
    </Card>
  );
}

/** The admins by display name; one is added by email or object id, removed while another is left. */
function Admins({ api, etag, onChanged }: { api: TabApiClient; etag: string | undefined; onChanged: (message: string) => void }) {
  const styles = usePageStyles();
  const [admins, setAdmins] = useState<AdminListing[]>();
  const [user, setUser] = useState('');
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => api.admins().then((v) => setAdmins(v.admins), setProblem), [api]);
  useEffect(() => void load(), [load]);

  const act = async <T extends { admins: AdminListing[] }>(change: () => Promise<T>, message: (result: T) => string) => {
    setBusy(true);
    try {
      const next = await change();
      setAdmins(next.admins);
      setProblem(undefined);
      onChanged(message(next));
    } catch (err) {
      setProblem((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const name = (a: AdminListing) => a.displayName ?? a.userPrincipalName ?? a.id;
  const add = () =>
    user.trim().length < 3
      ? setProblem('Enter their email address or Microsoft Entra object id.')
      : act(
          () => api.addAdmin(user.trim(), etag).then((v) => (setUser(''), v)),
          (result) => `${name(result.added)} is now an admin.`,
        );
  const remove = (admin: AdminListing) =>
    act(
      () => api.removeAdmin(admin.id, etag),
      () => `${name(admin)} is no longer an admin.`,
    );

  return (
    <Card>
      <Text as="h3" weight="semibold" size={400}>
        Admins
      </Text>
      <Text>Only the admins can open this tab and act on the bot&apos;s cards. There is always at least one.</Text>
      {!admins ? (
        <Spinner label="Loading the admins" />
      ) : (
        <Table aria-label="Admins" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Sign-in name</TableHeaderCell>
              <TableHeaderCell>Object id</TableHeaderCell>
              <TableHeaderCell />
            </TableRow>
          </TableHeader>
          <TableBody>
            {admins.map((a) => (
              <TableRow key={a.id}>
                <TableCell>{a.displayName ?? 'Unknown to Microsoft 365'}</TableCell>
                <TableCell>{a.userPrincipalName ?? '—'}</TableCell>
                <TableCell>{a.id}</TableCell>
                <TableCell>
                  <Button disabled={busy} onClick={() => void remove(a)} aria-label={`Remove ${name(a)}`}>
                    Remove
                  </Button>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <form
        className={styles.actions}
        onSubmit={(e) => {
          e.preventDefault();
          void add();
        }}
      >
        <Field label="Add an admin (email address or object id)">
          <Input value={user} onChange={(_e, d) => setUser(d.value)} placeholder="name@contoso.com" />
        </Field>
        <Button appearance="primary" type="submit" disabled={busy}>
          Add admin
        </Button>
      </form>
      {problem && (
        <MessageBar intent="error">
          <MessageBarBody>{problem}</MessageBarBody>
        </MessageBar>
      )}
    </Card>
  );
}

/** The connector's settings an admin changes after the setup: the default country and the admins. */
export function SettingsPage({ api }: { api: TabApiClient }) {
  const styles = usePageStyles();
  const [view, setView] = useState<ConnectorView>();
  const [error, setError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const load = useCallback(() => api.connector().then(setView, setError), [api]);
  useEffect(() => void load(), [load]);
  const changed = (message: string) => {
    setNotice(message);
    announce('settingsChanged');
    // Every change moves the connector's ETag: the next one is sent with the new one.
    void load();
  };
  return (
    <main className={styles.page}>
      <Title3 as="h2">Settings</Title3>
      {error !== undefined && <Problem error={error} />}
      {notice && (
        <MessageBar intent="success" role="status">
          <MessageBarBody>{notice}</MessageBarBody>
        </MessageBar>
      )}
      {!view ? (
        <Spinner label="Loading the settings" />
      ) : (
        <>
          <DefaultCountry key={view.etag} api={api} view={view} onSaved={(next, message) => (setView(next), changed(message))} />
          <Admins api={api} etag={view.etag} onChanged={changed} />
        </>
      )}
    </main>
  );
}
