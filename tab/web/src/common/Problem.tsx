import { MessageBar, MessageBarBody, MessageBarTitle } from '@fluentui/react-components';

/** What went wrong, as every page and step shows it: an error bar with the message (the API's own sentence), after a title when given. */
export function Problem({ error, title }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <MessageBar intent="error">
      <MessageBarBody>
        {title && <MessageBarTitle>{title}</MessageBarTitle>}
        {message}
      </MessageBarBody>
    </MessageBar>
  );
}
