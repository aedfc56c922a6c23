import { useState } from 'react';
import { Badge, Button, Field, Input, Link, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { preflightBody } from '../../../shared/apiSchemas';
import type { TabConfig } from '../signIn/signIn';
import { Problem, when, type PreflightCheck, type PreflightReport } from '../common';
import { Notice, StepHeading, useStepAction, useStepStyles, type StepProps } from './stepParts';

const useStyles = makeStyles({
  checks: { listStyleType: 'none', margin: 0, padding: 0, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  check: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXXS },
});

/** What the admin does when a check fails, as docs/deploy.md (step 10) has it. */
const WHAT_TO_DO: Record<string, string> = {
  token: "Entra ID issued the app no token: check the app registration's credential (the federated credential of the managed identity, or the client secret of the fallback).",
  permissions: 'Grant admin consent for User.Read.All (the link above), then run the preflight again; remove Mail.ReadWrite from the API permissions if it is listed.',
  user: "The address is no Microsoft 365 user: enter the user's sign-in name (UPN).",
  mailbox: 'The user has no Exchange Online mailbox Graph can reach (no licence, or on-premises): pick another mailbox.',
  folder: 'Access denied: the Exchange Online role assignment for the app (deployment guide, step 4) does not cover this mailbox yet; it can take a couple of hours to reach Graph.',
  nonDraftMessage: 'Do not start imports: archived items would read as unsent drafts. Report this with the answer above.',
  keyLookup: 'Do not start imports: without this lookup a retry could make a second copy. Report this with the answer above.',
  inlineAttachment: 'As for the folder: check the role assignment of the deployment guide, step 4.',
  uploadSession: 'Imports still run, but attachments from 2 MiB up stay in Blob Storage, each listed in a note on its message.',
  cleanup: 'Delete the message "Enterprise Number Archiver preflight (removed at the end)" from the test mailbox by hand.',
};

/** The tenant-wide admin consent page of this app registration in the configured authority. */
export function adminConsentUrl(config: TabConfig): string | undefined {
  if (!config.clientId || !config.tenantId) return undefined;
  return `${config.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(config.tenantId)}/adminconsent?client_id=${encodeURIComponent(config.clientId)}`;
}

const STATUS_COLOR = { passed: 'success', failed: 'danger', skipped: 'subtle' } as const;

function CheckResult({ check }: { check: PreflightCheck }) {
  const styles = useStyles();
  return (
    <li className={styles.check}>
      <Text>
        <Badge appearance="filled" color={STATUS_COLOR[check.status]}>
          {check.status}
        </Badge>{' '}
        <strong>{check.title}</strong>: {check.detail}
      </Text>
      {check.error && (
        <Text>
          Microsoft Graph answered {check.error.status} {check.error.code}: {check.error.message}
        </Text>
      )}
      {check.warning && <Text>Warning: {check.warning}</Text>}
      {check.status === 'failed' && WHAT_TO_DO[check.name] && <Text>What to do: {WHAT_TO_DO[check.name]}</Text>}
    </li>
  );
}

/** The checks that prove the consent: the app gets a token, and it holds the permissions. */
const consentProven = (report: PreflightReport) => ['token', 'permissions'].every((name) => report.checks.find((c) => c.name === name)?.status === 'passed');

/**
 * Step 4: admin consent for the app's Microsoft Graph permissions, proven by the tenant preflight
 * against a test mailbox the admin names (each check passed or failed, with what to do).
 */
export function ConsentStep({ api, view, config, save, open }: StepProps) {
  const styles = useStepStyles();
  const own = useStyles();
  const [mailbox, setMailbox] = useState('');
  const [problem, setProblem] = useState<string>();
  const [report, setReport] = useState<PreflightReport>();
  const { busy, error, run: act } = useStepAction();
  const consentUrl = adminConsentUrl(config);

  const run = async () => {
    const checked = preflightBody.safeParse({ mailbox: mailbox.trim() });
    if (!checked.success) return setProblem('Enter the test mailbox as an email address.');
    setProblem(undefined);
    setReport(undefined);
    await act(async () => setReport(await api.preflight(checked.data.mailbox)));
  };

  const failed = report?.checks.filter((c) => c.status === 'failed').length ?? 0;
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="consent">
        The archiver reads your users and writes to their mailboxes with the app's own Microsoft Graph permissions, which take effect only once an administrator consents for the whole organization.
      </StepHeading>
      {view.settings.consentedAt && <Notice>Admin consent recorded on {when(view.settings.consentedAt)}.</Notice>}
      <Title3 as="h3">1. Grant admin consent</Title3>
      {consentUrl ? (
        <Text>
          A Global Administrator (or a Privileged Role Administrator) opens the{' '}
          <Link href={consentUrl} target="_blank" rel="noopener">
            admin consent page
          </Link>{' '}
          (a new tab), signs in and accepts. The same is in the Entra admin center: App registrations, this app, API permissions, Grant admin consent.
        </Text>
      ) : (
        <Text>In the Entra admin center: App registrations, this app, API permissions, Grant admin consent (this server has no client id or tenant configured to link to).</Text>
      )}
      <Title3 as="h3">2. Check the tenant</Title3>
      <Text>The preflight tries each Microsoft Graph call the archiver relies on in one test mailbox, and removes what it created.</Text>
      <form
        className={styles.section}
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <Field
          className={styles.field}
          label="Test mailbox"
          hint="A mailbox the archiver may write to, such as a test user of your own."
          validationMessage={problem}
          validationState={problem ? 'error' : 'none'}
        >
          <Input type="email" value={mailbox} onChange={(_e, d) => setMailbox(d.value)} placeholder="archiver-test@contoso.com" />
        </Field>
        <div className={styles.actions}>
          <Button type="submit" disabled={busy}>
            Run the tenant preflight
          </Button>
        </div>
      </form>
      {busy && !report && <Text role="status">Checking the tenant…</Text>}
      {error !== undefined && <Problem error={error} />}
      {report && (
        <section aria-label="Preflight results" className={styles.section}>
          {report.ok ? (
            <Notice>Every check passed against {report.mailbox}.</Notice>
          ) : (
            <Problem error={`${failed} ${failed === 1 ? 'check' : 'checks'} did not pass against ${report.mailbox}: see what to do below, then run the preflight again.`} />
          )}
          <ul className={own.checks}>
            {report.checks.map((c) => (
              <CheckResult key={c.name} check={c} />
            ))}
          </ul>
        </section>
      )}
      <div className={styles.actions}>
        <Button appearance="primary" disabled={busy || !report || !consentProven(report)} onClick={() => act(() => save({ consented: true }))}>
          Record admin consent and continue
        </Button>
        {view.settings.consentedAt && <Button onClick={() => open('schedule')}>Next</Button>}
      </div>
      {!report && <Text>Run the preflight to record the consent: its token and permission checks prove it.</Text>}
    </section>
  );
}
