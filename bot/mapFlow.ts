import { setTimeout as sleep } from 'node:timers/promises';
import type { ConversationReference } from '@microsoft/agents-activity';
import { ImporterError, type Importer, type RunLogger, type UnmappedNumber } from '../importer';
import { displayNumber } from '../phone/phoneDisplay';
import type { CardChannel } from './agentsAdapter';
import type { AlertKeeper } from './alertKeeper';
import { replayText, unmappedCard, type AdaptiveCard } from './cards';
import { cappedError } from './cardText';

export interface MapFlowDeps {
  importer: Importer;
  channel: CardChannel;
  log: RunLogger;
  alerts: AlertKeeper;
  /** How long the card's click waits for the replay before answering "under way" (8 s unless set; Teams gives an invoke about 15 s). */
  answerWithinMs?: number;
}

type Result = { text: string; ok: boolean };

/** Who clicked, as the card says it: their Teams name, with their Entra id for the importer's audit. */
export interface Clicker {
  aadObjectId: string;
  name?: string;
}

/**
 * "Map" on the alert card: the number is mapped to the mailbox typed in the card through the
 * importer's single edit (validated against Microsoft 365, a new mapping version, audited), its
 * held items are replayed into that mailbox, and the card is replaced in place with the outcome;
 * then every other card offering the number is updated to say it is mapped.
 */
export class MapFlow {
  /** What each untracked card has shown so far, by activity id, so one card keeps every number's outcome. */
  private readonly shown = new Map<string, Map<string, Result>>();

  constructor(private readonly deps: MapFlowDeps) {}

  async map(number: string, mailbox: string, by: Clicker, reference: Partial<ConversationReference>, activityId: string | undefined): Promise<AdaptiveCard> {
    const { importer, channel, log, alerts } = this.deps;
    const conversationId = reference.conversation?.id ?? '';
    const before = await importer.mapping.unmappedAlerts();
    const held = before.find((u) => u.number === number);
    const results = this.shown.get(activityId ?? '') ?? new Map<string, Result>();
    if (activityId) this.shown.set(activityId, results);
    const show = async (result: Result): Promise<AdaptiveCard> => {
      results.set(number, result);
      await alerts.settle(conversationId, activityId, number, result);
      return (await alerts.render(conversationId, activityId)) ?? unmappedCard(withKept(await importer.mapping.unmappedAlerts(), before, results), results);
    };
    if (!mailbox.trim()) return show({ text: `Type the Microsoft 365 mailbox for ${displayNumber(number)} first.`, ok: false });
    const to = mailbox.trim().toLowerCase();
    const who = by.name?.trim() || 'an admin';
    const work = alerts.whileAnswering(conversationId, activityId, async (): Promise<AdaptiveCard> => {
      let result: Result;
      try {
        const { etag } = await importer.connector.settings();
        const { replay } = await importer.mapping.mapNumber(number, mailbox, by.aadObjectId, { etag });
        const text =
          replay.status === 'done'
            ? `Mapped to ${to} by ${who}. ${replayText(replay.run)}`
            : replay.status === 'deferred'
              ? `Mapped to ${to} by ${who}. Another import is running: its held items are imported right after it.`
              : `Mapped to ${to} by ${who}; no items were waiting.`;
        result = { text, ok: true };
      } catch (err) {
        // The importer's own words: they say what is wrong with the number or the mailbox.
        const text = err instanceof ImporterError ? cappedError(err.message) : 'The mapping could not be saved; nothing was changed. Try again in a minute.';
        if (!(err instanceof ImporterError)) log.warn({ err: { message: (err as Error).message } }, 'mapping from the card failed');
        result = { text, ok: false };
      }
      return show(result);
    });
    // Every other card offering the number says it is mapped; this one already does.
    void work.then(() => alerts.refresh()).catch((err: Error) => log.warn({ err: { message: err.message } }, 'alert cards not updated after a mapping; the next check tries again'));
    const timeout = sleep(this.deps.answerWithinMs ?? 8000, undefined, { ref: false });
    const done = await Promise.race([work, timeout]);
    if (done) return done;
    // Still replaying: answer now, replace the card when it is done.
    void work
      .then((card) => (activityId ? channel.update(reference, activityId, card) : undefined))
      .catch((err: Error) => log.warn({ err: { message: err.message } }, 'the card was not replaced after its mapping; the mapping and its replay stand'));
    const underWay = { text: `Mapping ${displayNumber(number)} to ${to}: importing its ${held ? held.itemCount : ''} held items…`, ok: true };
    results.set(number, underWay);
    return (await alerts.render(conversationId, activityId, { [number]: underWay })) ?? unmappedCard(withKept(await importer.mapping.unmappedAlerts(), before, results), results);
  }
}

/** Numbers mapped from this card stay on it, with their outcome, though they are no longer unmapped. */
function withKept(now: UnmappedNumber[], before: UnmappedNumber[], results: Map<string, Result>): UnmappedNumber[] {
  const present = new Set(now.map((u) => u.number));
  return [...now, ...before.filter((u) => results.has(u.number) && !present.has(u.number))];
}
