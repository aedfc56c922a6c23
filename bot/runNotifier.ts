import type { Importer, RunLogger, RunRecord, RunLogRow, UnmappedNumber } from '../importer';
import type { CardChannel } from './agentsAdapter';
import type { AlertKeeper } from './alertKeeper';
import { summaryCard, type AdaptiveCard } from './cards';
import type { ConversationStore, StoredConversation } from './conversationStore';
import type { CardKind, NotificationStore } from './notificationStore';
import { coalesced } from './coalesced';

export interface RunNotifierOptions {
  importer: Importer;
  conversations: ConversationStore;
  notifications: NotificationStore;
  channel: CardChannel;
  alerts: AlertKeeper;
  log: RunLogger;
  tabUrl?: (runId: string) => string | undefined;
  /** How far back finished runs are looked at (7 days unless set). */
  lookBackMs?: number;
}

const LOG_ROWS_READ = 500;

/**
 * Posts each finished run's summary card to every stored admin conversation, once, and an alert
 * for the archived lines and employees without a mailbox that conversation has not been told of
 * (the cards of those it has are kept current instead). The runs table is the source of truth:
 * every finished run is due until each conversation's card is recorded as sent, so a restart,
 * a run started by the CLI or a rerun from the tab are all covered by the same scan.
 */
export class RunNotifier {
  private readonly scanOnce = coalesced(() => this.scan());

  constructor(private readonly options: RunNotifierOptions) {}

  /** Runs a scan, or asks the one under way to go round once more. */
  notifyFinishedRuns(): Promise<void> {
    return this.scanOnce();
  }

  /** The cards of one run for one conversation, built from the importer's state as it is now. */
  async cardsFor(run: RunRecord): Promise<{ kind: CardKind; card: AdaptiveCard }[]> {
    const { importer, tabUrl } = this.options;
    const logRows: RunLogRow[] = [];
    for await (const row of importer.runs.log(run.runId)) {
      logRows.push(row);
      if (logRows.length >= LOG_ROWS_READ) break;
    }
    const [unmapped, delivery] = await Promise.all([importer.mapping.unmapped(), importer.delivery.status()]);
    return [{ kind: 'summary', card: summaryCard({ run, logRows, unmapped, tabUrl: tabUrl?.(run.runId), source: delivery.description }) }];
  }

  /** The archived lines and employees without a mailbox that the run met. */
  async waitingAfter(run: RunRecord): Promise<UnmappedNumber[]> {
    return (await this.options.importer.mapping.unmappedAlerts()).filter((u) => u.lastSeen >= run.window.from && u.firstSeen < run.window.to);
  }

  /** Posts a run's cards to one conversation unless they were posted already; false when the conversation is gone. */
  async postRun(run: RunRecord, conversation: StoredConversation, cards?: { kind: CardKind; card: AdaptiveCard }[]): Promise<boolean> {
    const { notifications, channel, conversations, log } = this.options;
    for (const { kind, card } of cards ?? (await this.cardsFor(run))) {
      const row = await notifications.get(run.runId, kind, conversation.conversationId);
      if (row && row.state !== 'sending') continue;
      // A claim left "sending" by a crash is retried: the post's outcome is unknown, and a lost summary is worse than a second one.
      if (!row && !(await notifications.claim(run.runId, kind, conversation.conversationId))) continue;
      try {
        const activityId = await channel.post(conversation.reference, card);
        await notifications.mark(run.runId, kind, conversation.conversationId, 'sent', activityId);
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === 403 || status === 404) {
          // The bot was removed from there, or the conversation is gone: never retried.
          log.warn({ conversationId: conversation.conversationId, status }, 'conversation no longer reachable; its reference is dropped');
          await conversations.remove(conversation.conversationId);
          await notifications.mark(run.runId, kind, conversation.conversationId, 'dropped');
          return false;
        }
        throw err;
      }
    }
    try {
      await this.options.alerts.announce(conversation.conversationId, await this.waitingAfter(run), (card) => channel.post(conversation.reference, card));
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 403 && status !== 404) throw err;
      log.warn({ conversationId: conversation.conversationId, status }, 'conversation no longer reachable; its reference is dropped');
      await conversations.remove(conversation.conversationId);
      return false;
    }
    return true;
  }

  private async scan(): Promise<void> {
    const { importer, conversations, notifications, log } = this.options;
    const since = Date.now() - (this.options.lookBackMs ?? 7 * 86_400_000);
    const finished = (await importer.runs.list({ top: 30 })).filter((r) => r.status !== 'running' && r.endedAt && r.endedAt.getTime() >= since).reverse();
    // Every check also brings the open alert cards up to date: a mapping made in the tab, by a CSV or a restore shows there.
    if (!finished.length) return this.options.alerts.refresh();
    const targets: StoredConversation[] = [];
    for await (const c of conversations.list()) targets.push(c);
    for (const run of finished) {
      if (await notifications.isDone(run.runId)) continue;
      let complete = true;
      let cards: { kind: CardKind; card: AdaptiveCard }[] | undefined;
      for (const conversation of targets) {
        // A conversation hears about the runs that ended after the bot arrived there.
        if (conversation.installedAt > run.endedAt!) continue;
        try {
          cards ??= await this.cardsFor(run);
          await this.postRun(run, conversation, cards);
        } catch (err) {
          complete = false;
          log.warn({ runId: run.runId, conversationId: conversation.conversationId, err: { message: (err as Error).message } }, 'run card not posted; the next scan tries again');
        }
      }
      if (complete) await notifications.markDone(run.runId);
    }
    await this.options.alerts.refresh();
  }
}
