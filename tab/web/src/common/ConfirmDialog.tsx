import { useCallback, useRef, useState } from 'react';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle } from '@fluentui/react-components';

interface Question {
  title: string;
  text: string;
  confirm: string;
}

/** A modal question the page awaits: `ask` settles true when the admin confirms, false when they cancel. */
export function useConfirm(): [React.ReactNode, (question: Question) => Promise<boolean>] {
  const [question, setQuestion] = useState<Question>();
  const answer = useRef<(yes: boolean) => void>(undefined);
  const ask = useCallback(
    (q: Question) =>
      new Promise<boolean>((resolve) => {
        answer.current = resolve;
        setQuestion(q);
      }),
    [],
  );
  const close = (yes: boolean) => {
    setQuestion(undefined);
    answer.current?.(yes);
  };
  const dialog = (
    <Dialog open={question !== undefined} modalType="alert" onOpenChange={(_e, d) => !d.open && close(false)}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{question?.title}</DialogTitle>
          <DialogContent>{question?.text}</DialogContent>
          <DialogActions>
            <Button appearance="primary" onClick={() => close(true)}>
              {question?.confirm}
            </Button>
            <Button onClick={() => close(false)}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
  return [dialog, ask];
}
