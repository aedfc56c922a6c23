import { Button, Card, MessageBar, MessageBarBody, MessageBarTitle, Text, Title2, makeStyles, mergeClasses, tokens } from '@fluentui/react-components';
import { usePageStyles, type Caller, type TabApiError } from '../common';

const useStyles = makeStyles({
  narrow: { maxWidth: '48rem' },
  list: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL },
  text: { margin: 0 },
  id: { fontFamily: tokens.fontFamilyMonospace },
});

/**
 * What a signed-in user who is not one of the connector's admins sees instead of the dashboard
 * (the API's 403): who can let them in, and what to ask them for.
 */
export function NotAnAdmin({ refusal, onSwitchAccount }: { refusal: TabApiError; onSwitchAccount?: () => void }) {
  const styles = useStyles();
  const layout = usePageStyles();
  const caller = refusal.details.caller as Caller | undefined;
  const admins = Array.isArray(refusal.details.admins) ? (refusal.details.admins as string[]) : [];
  const names = (refusal.details.adminNames ?? {}) as Record<string, string>;
  const you = caller ? [caller.name, caller.username && `(${caller.username})`].filter(Boolean).join(' ') : undefined;
  return (
    <main className={mergeClasses(layout.page, styles.narrow)}>
      <Title2 as="h1">Only the connector's admins can use this page</Title2>
      <MessageBar intent="warning">
        <MessageBarBody>
          <MessageBarTitle>You are not one of the connector's admins</MessageBarTitle>
          {you ? `You are signed in as ${you}, ` : 'You are signed in, '}
          but the Enterprise Number Archiver's setup, imports and mapping are open to its admins only.
        </MessageBarBody>
      </MessageBar>
      <Card>
        <Text as="h2" weight="semibold" size={400} className={styles.text}>
          How to get access
        </Text>
        <Text as="p" className={styles.text}>
          Ask one of the admins below to add you (by your email address or object id) on this tab's Settings page. Your object id is{' '}
          <Text className={styles.id} weight="semibold">
            {caller?.oid ?? 'in your Microsoft Entra profile'}
          </Text>
          .
        </Text>
        {admins.length ? (
          <>
            <Text as="p" className={styles.text}>
              The connector's admins (with the Microsoft Entra object id the Entra admin center's Users page finds each one by):
            </Text>
            <ul className={styles.list} aria-label="The connector's admins">
              {admins.map((id) => (
                <li key={id}>
                  {names[id.toLowerCase()] ? (
                    <>
                      <Text weight="semibold">{names[id.toLowerCase()]}</Text> (<span className={styles.id}>{id}</span>)
                    </>
                  ) : (
                    <span className={styles.id}>{id}</span>
                  )}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <Text as="p" className={styles.text}>
            The connector has no admins yet: whoever deployed it names the first ones (ADMIN_OBJECT_IDS in the app's settings, see the deployment guide).
          </Text>
        )}
      </Card>
      {onSwitchAccount && (
        <div>
          <Button appearance="primary" onClick={onSwitchAccount}>
            Sign in with another account
          </Button>
        </div>
      )}
    </main>
  );
}
