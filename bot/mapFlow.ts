import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationReference } from '@microsoft/agents-activity';
import { ImporterError, type Importer, type RunLogger, type UnmappedNumber } from '../importer';
import type { CardChannel } from './agentsAdapter';
import { formatNumber, unmappedCard, type AdaptiveCard } from './cards';

export interface MapFlowDeps {
  importer: Importer;
  channel: CardChannel;
  log: RunLogger;
  /** How long the card's click waits for the replay before answering "under way" (8 s unless set; Teams gives an invoke about 15 s). */
  answerWithinMs?: number;
}

type Result = { text: string; ok: boolean };

/**
 * "Map" on the alert card: the number is mapped to the mailbox typed in the card through the
 * importer's single edit (validated against Microsoft 365, a new mapping version, audited), its
 * held items are replayed into that mailbox, and the card is replaced in place with the outcome.
 */
export class MapFlow {
  /** What each card has shown so far, by activity id, so one card keeps every number's outcome. */
  private readonly shown = new Map<string, Map<string, Result>>();

  constructor(private readonly deps: MapFlowDeps) {}

  async map(number: string, mailbox: string, requestedBy: string, reference: Partial<ConversationReference>, activityId: string | undefined): Promise<AdaptiveCard> {
    const { importer, channel, log } = this.deps;
    const before = await importer.unmappedAlerts();
    const held = before.find((u) => u.number === number);
    const results = this.shown.get(activityId ?? '') ?? new Map<string, Result>();
    if (activityId) this.shown.set(activityId, results);
    const render = async () => unmappedCard(withKept(await importer.unmappedAlerts(), before, results), results);
    if (!mailbox.trim()) {
      results.set(number, { text: `Type the Microsoft 365 mailbox for ${formatNumber(number)} first.`, ok: false });
      return render();
    }
    const work = (async (): Promise<AdaptiveCard> => {
      try {
        const { etag } = await importer.settings();
        const change = await importer.mapNumber(number, mailbox, requestedBy, { etag });
        const replay = change.replay;
        const text =
          replay.status === 'done'
            ? `Mapped to ${mailbox.trim().toLowerCase()}: ${replay.run.counts.imported.toLocaleString('en-US')} held item${replay.run.counts.imported === 1 ? '' : 's'} imported.`
            : replay.status === 'deferred'
              ? `Mapped to ${mailbox.trim().toLowerCase()}. Another import is running: its held items are imported right after it.`
              : `Mapped to ${mailbox.trim().toLowerCase()}; no items were waiting.`;
        results.set(number, { text, ok: true });
      } catch (err) {
        // The importer's own words: they say what is wrong with the number or the mailbox.
        const text = err instanceof ImporterError ? err.message : 'The mapping could not be saved; nothing was changed. Try again in a minute.';
        if (!(err instanceof ImporterError)) log.warn({ err: { message: (err as Error).message } }, 'mapping from the card failed');
        results.set(number, { text, ok: false });
      }
      return render();
    })();
    const timeout = sleep(this.deps.answerWithinMs ?? 8000, undefined, { ref: false });
    const done = await Promise.race([work, timeout]);
    if (done) return done;
    // Still replaying: answer now, replace the card when it is done.
    void work.then((card) => (activityId ? channel.update(reference, activityId, card) : undefined)).catch(() => undefined);
    results.set(number, { text: `Mapping ${formatNumber(number)} to ${mailbox.trim()}: importing its ${held ? held.itemCount : ''} held items…`, ok: true });
    return render();
  }
}

/** Numbers mapped from this card stay on it, with their outcome, though they are no longer unmapped. */
function withKept(now: UnmappedNumber[], before: UnmappedNumber[], results: Map<string, Result>): UnmappedNumber[] {
  const present = new Set(now.map((u) => u.number));
  return [...now, ...before.filter((u) => results.has(u.number) && !present.has(u.number))];
}
