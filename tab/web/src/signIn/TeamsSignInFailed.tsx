import { Button, Card, MessageBar, MessageBarBody, MessageBarTitle, Text, Title2, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { usePageStyles } from '../common';
import type { TeamsSignInError } from './signIn';

const useStyles = makeStyles({
  narrow: { maxWidth: '48rem' },
  list: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL, display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalXS },
  text: { margin: 0 },
  code: { fontFamily: tokens.fontFamilyMonospace },
});

/**
 * What the tab shows in Teams when Teams gives it no SSO token: Teams's reason, and what the admin
 * does about it. Consent is the usual cause; the rest are the app registration's settings
 * (docs/deploy.md, step 7) not matching the Teams app's.
 */
export function TeamsSignInFailed({ failure }: { failure: TeamsSignInError }) {
  const styles = useStyles();
  const layout = usePageStyles();
  const consent = /consent/i.test(failure.reason);
  return (
    <main className={mergeClasses(layout.page, styles.narrow)}>
      <Title2 as="h1">Teams could not sign you in to the Enterprise Number Archiver</Title2>
      <MessageBar intent="error">
        <MessageBarBody>
          <MessageBarTitle>No sign-in token from Teams</MessageBarTitle>
          Teams answered: <span className={styles.code}>{failure.reason}</span>. Nothing was read or changed.
        </MessageBarBody>
      </MessageBar>
      <Card>
        <Text as="h2" weight="semibold" size={400} className={styles.text}>
          What to do
        </Text>
        <ol className={styles.list}>
          {consent ? (
            <li>
              Ask a Microsoft 365 admin (Global or Application Administrator) to consent for your organisation: in the Microsoft Entra admin center, open the app registration of the Enterprise Number
              Archiver, then <b>API permissions</b> → <b>Grant admin consent</b>.
            </li>
          ) : (
            <li>
              Ask whoever deployed the connector to check its app registration (deployment guide, step 7): the Application ID URI equals the Teams app's{' '}
              <span className={styles.code}>webApplicationInfo.resource</span>, the <span className={styles.code}>access_as_user</span> scope is enabled, and the Teams clients are authorised for it.
            </li>
          )}
          <li>Then open the tab again, or select Try again.</li>
        </ol>
      </Card>
      <div>
        <Button appearance="primary" onClick={() => location.reload()}>
          Try again
        </Button>
      </div>
    </main>
  );
}
