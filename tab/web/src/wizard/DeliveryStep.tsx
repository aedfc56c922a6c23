import { useState } from 'react';
import { Button, Field, Input, Radio, RadioGroup, Text } from '@fluentui/react-components';
import { deliveryBody, type DeliveryBody } from '../../../shared/apiSchemas';
import { Problem, type DeliveryPreflight, type SftpEndpoint } from '../common';
import { Notice, useStepAction, useStepStyles, type StepProps } from './stepParts';

export type DeliveryKind = DeliveryBody['delivery'];

/** The three ways TeleMessage delivers, as the admin reads them. */
export function DeliveryChoice({ value, onChange }: { value: DeliveryKind; onChange: (kind: DeliveryKind) => void }) {
  return (
    <Field label="How does TeleMessage deliver your archive?">
      <RadioGroup value={value} onChange={(_e, d) => onChange(d.value as DeliveryKind)}>
        <Radio value="api" label="Archive API: the archiver signs in to TeleMessage's API" />
        <Radio value="smtp" label="SMTP: an email per item into a capture mailbox in your tenant" />
        <Radio value="sftp" label="SFTP: ZIP files of EML items into this deployment's landing container" />
      </RadioGroup>
    </Field>
  );
}

/**
 * SMTP or SFTP: the preflight reads the capture mailbox (a delta read and one email's MIME) or
 * the landing container (its ZIPs and the newest one's manifest), changing nothing; then the
 * choice is saved with the connector's ETag.
 */
export function DeliveredSetup({ kind, api, view, advance, open }: StepProps & { kind: 'smtp' | 'sftp' }) {
  const styles = useStepStyles();
  const [mailbox, setMailbox] = useState(view.telemessage.captureMailbox ?? '');
  const [problem, setProblem] = useState<string>();
  const [report, setReport] = useState<DeliveryPreflight>();
  const { busy, error, run } = useStepAction();
  const saved = view.telemessage.delivery === kind && view.telemessage.configured && (kind === 'sftp' || view.telemessage.captureMailbox === mailbox.trim().toLowerCase());

  const choice = (): DeliveryBody | undefined => {
    const checked = deliveryBody.safeParse(kind === 'smtp' ? { delivery: kind, captureMailbox: mailbox.trim() } : { delivery: kind });
    setProblem(checked.success ? undefined : 'Enter the capture mailbox address, e.g. telemessage-capture@contoso.com.');
    return checked.success ? checked.data : undefined;
  };
  const check = () => {
    const body = choice();
    if (body) void run(async () => setReport(await api.checkDelivery(body)));
  };
  const save = () => {
    const body = choice();
    if (body) void run(async () => (await api.setDelivery(body, view.etag), await advance()));
  };
  const endpoint = report?.sftp ?? view.telemessage.sftp;

  return (
    <div className={styles.section}>
      {kind === 'smtp' ? (
        <Text as="p">
          TeleMessage sends an email per archived item to a mailbox of your tenant (a shared mailbox such as telemessage-capture@contoso.com). The archiver only reads it, with Mail.Read granted on
          that one mailbox.
        </Text>
      ) : (
        <Text as="p">
          TeleMessage writes ZIP files of EML items over SFTP into this deployment&apos;s landing container. Give TeleMessage the host, user and container below, and the SSH key pair whose public key
          the deployment holds.
        </Text>
      )}
      {kind === 'smtp' && (
        <Field className={styles.field} label="Capture mailbox address" required validationMessage={problem} validationState={problem ? 'error' : 'none'}>
          <Input value={mailbox} onChange={(_e, d) => (setMailbox(d.value), setReport(undefined))} type="email" autoComplete="off" />
        </Field>
      )}
      {kind === 'sftp' && endpoint && <SftpFacts endpoint={endpoint} />}
      {error !== undefined && <Problem title="Not done." error={error} />}
      {report && <PreflightResult report={report} />}
      <div className={styles.actions}>
        <Button onClick={check} disabled={busy}>
          {kind === 'smtp' ? 'Check the capture mailbox' : 'Check the landing container'}
        </Button>
        <Button appearance="primary" onClick={save} disabled={busy}>
          {kind === 'smtp' ? 'Use this capture mailbox' : 'Use SFTP delivery'}
        </Button>
        {saved && <Button onClick={() => open('mapping')}>Next</Button>}
      </div>
    </div>
  );
}

function SftpFacts({ endpoint }: { endpoint: SftpEndpoint }) {
  const styles = useStepStyles();
  return (
    <div className={styles.facts} aria-label="What to give TeleMessage">
      <Text weight="semibold">Host</Text>
      <Text>{endpoint.host}</Text>
      <Text weight="semibold">User</Text>
      <Text>{endpoint.username}</Text>
      <Text weight="semibold">Container</Text>
      <Text>{endpoint.container}</Text>
    </div>
  );
}

function PreflightResult({ report }: { report: DeliveryPreflight }) {
  const noun = report.delivery === 'smtp' ? 'email' : 'ZIP';
  return (
    <div role="status">
      <Notice intent={report.ok ? 'success' : 'warning'}>
        {report.ok ? 'The archiver can read it.' : 'The archiver cannot read it yet.'}
        {report.waiting !== undefined && ` ${report.waiting} ${noun}${report.waiting === 1 ? '' : 's'} waiting.`}
      </Notice>
      <ul>
        {report.checks.map((c) => (
          <li key={c.name}>
            <Text>
              {c.title}: <strong>{c.status}</strong>. {c.detail}
            </Text>
          </li>
        ))}
      </ul>
    </div>
  );
}
