import type { ConversationReference } from '@microsoft/agents-activity';
import { ImporterError, type Importer, type RunLogger, type RunRecord, type TimeWindow } from '../importer';
import type { CardChannel } from './agentsAdapter';
import { messageCard, rerunProgressCard, summaryCard, windowText, type AdaptiveCard } from './cards';
import { cappedError, plainText } from './cardText';
import type { NotificationStore } from './notificationStore';
import type { RunNotifier } from './runNotifier';

export type RerunTarget = { latest: true } | { day: string } | { runId: string };

export interface RerunFlowDeps {
  importer: Importer;
  notifications: NotificationStore;
  notifier: RunNotifier;
  channel: CardChannel;
  log: RunLogger;
  tabUrl?: (runId: string) => string | undefined;
  progressEveryMs?: number;
}

/**
 * A rerun asked for in the chat: answered at once with a card saying it started, which is then
 * replaced in place with its progress and, at the end, its summary.
 */
export class RerunFlow {
  constructor(private readonly deps: RerunFlowDeps) {}

  /**
   * `show` puts the first card in the conversation (a reply, or the invoke's answer) and returns
   * the id of the activity to update from then on.
   */
  async start(target: RerunTarget, requestedBy: string, show: (card: AdaptiveCard) => Promise<string>, reference: Partial<ConversationReference>): Promise<void> {
    const { importer } = this.deps;
    const runs = await importer.runs.list({ top: 30 });
    const running = runs.find((r) => r.status === 'running');
    if (running) {
      await show(inProgressCard(running));
      return;
    }
    let of: RunRecord | undefined;
    let window: TimeWindow | undefined;
    if ('runId' in target) {
      of = runs.find((r) => r.runId === target.runId) ?? (await importer.runs.get(target.runId).catch(() => undefined));
      if (!of) {
        await show(messageCard('Rerun', `There is no run "${target.runId}". Type "runs" to see the recent ones.`));
        return;
      }
    } else if ('day' in target) {
      const from = new Date(`${target.day}T00:00:00Z`);
      const to = new Date(from.getTime() + 86_400_000);
      // The newest run whose window covers the end of that day; a backfill of the day if none did.
      of = runs.find((r) => r.window.from < to && r.window.to >= to) ?? runs.find((r) => r.window.from < to && r.window.to > from);
      if (!of) window = { from, to };
    } else {
      of = runs[0];
      if (!of) {
        await show(messageCard('Rerun', 'There is no run to rerun yet.'));
        return;
      }
    }
    const first = of ? rerunProgressCard(of, undefined) : messageCard('Backfill started', `No run had covered that day yet: importing ${windowText({ window: window! })}.`);
    const activityId = await show(first);
    void this.follow(of, window, requestedBy, reference, activityId);
  }

  private async follow(of: RunRecord | undefined, window: TimeWindow | undefined, requestedBy: string, reference: Partial<ConversationReference>, activityId: string): Promise<void> {
    const { importer, channel, notifications, notifier, log } = this.deps;
    const conversationId = reference.conversation?.id ?? '';
    let lastUpdate = 0;
    let claimed: string | undefined;
    const claim = async (runId: string) => {
      if (claimed === runId || !activityId || !conversationId) return;
      claimed = runId;
      // This card is the run's summary in this conversation: the notifier must not post another.
      await notifications.mark(runId, 'summary', conversationId, 'sent', activityId);
    };
    const onProgress = (p: { runId: string; itemsDone: number; counts: { imported: number; failed: number } }) => {
      void claim(p.runId).catch(() => undefined);
      const now = Date.now();
      if (!activityId || now - lastUpdate < (this.deps.progressEveryMs ?? 5000) || !of) return;
      lastUpdate = now;
      void channel.update(reference, activityId, rerunProgressCard(of, { itemsDone: p.itemsDone, imported: p.counts.imported, failed: p.counts.failed })).catch(() => undefined);
    };
    let result: RunRecord;
    try {
      result = of ? await importer.runs.rerun(of.runId, requestedBy, { onProgress }) : await importer.runs.backfill(window!, requestedBy, { onProgress });
    } catch (err) {
      const text =
        err instanceof ImporterError && err.code === 'RunInProgress'
          ? inProgressCard((await importer.runs.list({ top: 5 })).find((r) => r.status === 'running'))
          : messageCard('Rerun could not start', plainText(cappedError((err as Error).message)));
      if (activityId) await channel.update(reference, activityId, text).catch((e: Error) => log.warn({ err: { message: e.message } }, 'the rerun card was not replaced with why it could not start'));
      return;
    }
    try {
      await claim(result.runId);
      const logRows = [];
      for await (const row of importer.runs.log(result.runId)) {
        logRows.push(row);
        if (logRows.length >= 500) break;
      }
      const [unmapped, delivery] = await Promise.all([importer.mapping.unmapped(), importer.delivery.status()]);
      const card = summaryCard({ run: result, logRows, unmapped, tabUrl: this.deps.tabUrl?.(result.runId), source: delivery.description });
      if (activityId) await channel.update(reference, activityId, card);
      await notifier.notifyFinishedRuns();
    } catch (err) {
      log.warn({ runId: result.runId, err: { message: (err as Error).message } }, 'rerun finished, but its card could not be updated');
    }
  }
}

function inProgressCard(running: RunRecord | undefined): AdaptiveCard {
  return messageCard(
    'A run is already in progress',
    running
      ? `The ${running.trigger} run of ${windowText(running)} started at ${running.startedAt.toISOString().slice(11, 16)} UTC and is still going.`
      : 'Another import holds the connector right now.',
    'Only one import runs at a time, so nothing can be lost or doubled. I will post its summary when it ends; ask again then if something is left.',
  );
}
