import { useState } from 'react';
import { Button, Field, Input, Link, Text } from '@fluentui/react-components';
import { credentialsBody } from '../../../shared/apiSchemas';
import { Problem, when } from '../common';
import { Notice, StepHeading, useStepAction, useStepStyles, type StepProps } from './stepParts';
import { DeliveredSetup, DeliveryChoice, type DeliveryKind } from './DeliveryStep';

/** Step 1: the terms of use, accepted once (the time is recorded). */
export function TermsStep({ view, save, open }: StepProps) {
  const styles = useStepStyles();
  const { busy, error, run } = useStepAction();
  const accepted = view.settings.termsAcceptedAt;
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="terms">
        Enterprise Number Archiver imports the items your TeleMessage account archives into your Microsoft 365 mailboxes. Read the{' '}
        <Link href="/tab/terms.html" target="_blank" rel="noopener">
          terms of use
        </Link>{' '}
        (they open in a new tab) before you accept them.
      </StepHeading>
      {accepted && <Notice>Accepted on {when(accepted)}.</Notice>}
      {error !== undefined && <Problem error={error} />}
      <div className={styles.actions}>
        {accepted ? (
          <Button appearance="primary" onClick={() => open('telemessage')}>
            Next
          </Button>
        ) : (
          <Button appearance="primary" disabled={busy} onClick={() => run(() => save({ termsAccepted: true }))}>
            Accept the terms
          </Button>
        )}
      </div>
    </section>
  );
}

/**
 * Step 2: how TeleMessage delivers. The archive API: a sign-in the server tries with TeleMessage
 * before it stores anything; the page only ever learns the username, and the password field
 * starts empty. SMTP or SFTP: DeliveredSetup.
 */
export function TeleMessageStep(props: StepProps) {
  const styles = useStepStyles();
  const [kind, setKind] = useState<DeliveryKind>(props.view.telemessage.delivery ?? 'api');
  return (
    <section className={styles.section} aria-labelledby="step-heading">
      <StepHeading step="telemessage">
        TeleMessage either lets the archiver read its archive API, or delivers the archive itself: by email into a capture mailbox (SMTP), or as ZIP files over SFTP. Choose what your TeleMessage
        account is set up for.
      </StepHeading>
      <Text>
        TeleMessage: <strong>{props.view.telemessage.description}</strong>
      </Text>
      <DeliveryChoice value={kind} onChange={setKind} />
      {kind === 'api' ? <ApiSignIn {...props} /> : <DeliveredSetup key={kind} kind={kind} {...props} />}
    </section>
  );
}

function ApiSignIn({ api, view, advance, open }: StepProps) {
  const styles = useStepStyles();
  const [username, setUsername] = useState(view.telemessage.username ?? '');
  const [password, setPassword] = useState('');
  const [problems, setProblems] = useState<{ username?: string; password?: string }>({});
  const { busy, error: refusal, run } = useStepAction();

  const signIn = async () => {
    const checked = credentialsBody.safeParse({ username, password });
    if (!checked.success) {
      const fields = checked.error.issues.map((i) => i.path[0]);
      return setProblems({
        username: fields.includes('username') ? 'Enter your TeleMessage username.' : undefined,
        password: fields.includes('password') ? 'Enter your TeleMessage password.' : undefined,
      });
    }
    setProblems({});
    await run(async () => {
      await api.setTeleMessage(checked.data.username, checked.data.password, view.etag);
      if (view.telemessage.delivery !== 'api') await api.setDelivery({ delivery: 'api' }, (await api.connector()).etag);
      setPassword('');
      await advance();
    });
  };

  const signedIn = view.telemessage.delivery === 'api' && view.telemessage.configured;
  return (
    <div className={styles.section}>
      <Text as="p">
        The archiver signs in to TeleMessage with your TeleMessage account to read the archived traffic. The sign-in is tried with TeleMessage before it is saved; the password is kept encrypted in
        your Key Vault and is never shown again.
      </Text>
      {refusal !== undefined && <Problem title="Not saved." error={refusal} />}
      <form
        className={styles.section}
        onSubmit={(e) => {
          e.preventDefault();
          void signIn();
        }}
      >
        <Field className={styles.field} label="TeleMessage username" required validationMessage={problems.username} validationState={problems.username ? 'error' : 'none'}>
          <Input value={username} onChange={(_e, d) => setUsername(d.value)} autoComplete="username" />
        </Field>
        <Field className={styles.field} label="TeleMessage password" required validationMessage={problems.password} validationState={problems.password ? 'error' : 'none'}>
          <Input type="password" value={password} onChange={(_e, d) => setPassword(d.value)} autoComplete="new-password" />
        </Field>
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={busy}>
            {signedIn ? 'Change the TeleMessage sign-in' : 'Sign in to TeleMessage'}
          </Button>
          {signedIn && <Button onClick={() => open('mapping')}>Next</Button>}
        </div>
      </form>
    </div>
  );
}
