import { useState } from 'react';
import { Button, Dialog, DialogActions, DialogBody, DialogContent, DialogSurface, DialogTitle, Field, MessageBar, MessageBarBody, Textarea } from '@fluentui/react-components';
import { MAX_ACKNOWLEDGEMENT_REASON } from '../../../shared/limits';

/**
 * Asks why a failed item can never be imported, as ConfirmDialog asks its question: the reason is
 * required and capped as the importer keeps it. `send` answers with the refusal to show (a
 * connector changed meanwhile, a run holding it), or nothing once the acknowledgement is kept.
 */
export function AcknowledgeDialog({ itemId, onSend, onClose }: { itemId: string; onSend: (reason: string) => Promise<string | undefined>; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string>();
  const [refusal, setRefusal] = useState<string>();
  const [busy, setBusy] = useState(false);
  const send = async () => {
    if (!reason.trim()) return setProblem('Say why this item can never be imported: the reason is kept in the audit trail.');
    setProblem(undefined);
    setBusy(true);
    try {
      const refused = await onSend(reason.trim());
      if (refused) setRefusal(refused);
      else onClose();
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open modalType="alert" onOpenChange={(_e, d) => !d.open && onClose()}>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Acknowledge the failure of {itemId}</DialogTitle>
          <DialogContent>
            <p>
              Acknowledge only an item that can never be imported (malformed at the source). It stops counting as outstanding, stays listed as acknowledged with your name and reason, and the audit
              trail keeps both.
            </p>
            {refusal && (
              <MessageBar intent="error">
                <MessageBarBody>{refusal}</MessageBarBody>
              </MessageBar>
            )}
            <Field
              label="Why can it never be imported?"
              required
              validationMessage={problem ?? `${reason.length} of ${MAX_ACKNOWLEDGEMENT_REASON} characters`}
              validationState={problem ? 'error' : 'none'}
            >
              <Textarea value={reason} maxLength={MAX_ACKNOWLEDGEMENT_REASON} resize="vertical" onChange={(_e, d) => setReason(d.value)} />
            </Field>
          </DialogContent>
          <DialogActions>
            <Button appearance="primary" disabled={busy} onClick={() => void send()}>
              Acknowledge
            </Button>
            <Button onClick={onClose}>Cancel</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
