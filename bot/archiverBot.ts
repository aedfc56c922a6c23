import type { ChannelAccount } from '@microsoft/agents-activity';
import { ActivityHandler, type AdaptiveCardInvokeResponse, type AdaptiveCardInvokeValue, type TurnContext } from '@microsoft/agents-hosting';
import { ImporterError, isAdmin, type Importer, type RunLogger, type RunRecord } from '../importer';
import { cardActivity, type CardChannel } from './agentsAdapter';
import type { AlertKeeper } from './alertKeeper';
import { cappedError, plainText } from './cardText';
import { helpCard, messageCard, runsCard, unmappedCard, windowText, type AdaptiveCard } from './cards';
import { parseCommand, type BotCommand } from './commands';
import type { ConversationStore } from './conversationStore';
import type { NotificationStore } from './notificationStore';
import { MapFlow } from './mapFlow';
import { RerunFlow } from './rerunFlow';
import type { RunNotifier } from './runNotifier';
import { statusCard } from './statusCard';

export interface ArchiverBotDeps {
  importer: Importer;
  conversations: ConversationStore;
  notifications: NotificationStore;
  notifier: RunNotifier;
  channel: CardChannel;
  alerts: AlertKeeper;
  log: RunLogger;
  tabUrl?: (runId: string) => string | undefined;
  now?: () => Date;
  /** How often a rerun's card is updated with its progress (5 s unless set). */
  progressEveryMs?: number;
}

const REFUSAL = "Sorry, only the connector's admins can use the Enterprise Number Archiver bot, and you are not on its admin list. An admin can add you in the Archiver tab (Settings → Admins).";

/**
 * The Teams bot: stores where to post (install, message, uninstall), answers the commands,
 * and handles the cards' buttons by verb. Only the connector's admins get anything done.
 */
export class ArchiverBot extends ActivityHandler {
  private readonly reruns: RerunFlow;
  private readonly maps: MapFlow;

  constructor(private readonly deps: ArchiverBotDeps) {
    super();
    this.reruns = new RerunFlow(deps);
    this.maps = new MapFlow(deps);

    this.onInstallationUpdateAdd(async (context, next) => {
      await this.installed(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      if (context.activity.membersAdded?.some((m: ChannelAccount) => m.id === context.activity.recipient?.id)) await this.installed(context);
      await next();
    });
    this.onInstallationUpdateRemove(async (context, next) => {
      await deps.conversations.remove(conversationIdOf(context));
      await deps.alerts.forget(conversationIdOf(context));
      await next();
    });
    this.onMembersRemoved(async (context, next) => {
      if (context.activity.membersRemoved?.some((m: ChannelAccount) => m.id === context.activity.recipient?.id)) {
        await deps.conversations.remove(conversationIdOf(context));
        await deps.alerts.forget(conversationIdOf(context));
      }
      await next();
    });
    this.onConversationUpdate(async (context, next) => {
      // Teams says a team was deleted in the conversationUpdate's channel data.
      if ((context.activity.channelData as { eventType?: string } | undefined)?.eventType === 'teamDeleted') await deps.conversations.remove(conversationIdOf(context));
      await next();
    });
    this.onMessage(async (context, next) => {
      await this.message(context);
      await next();
    });
  }

  /** Entra object ids of the connector's admins, from its settings. */
  private async isAdmin(context: TurnContext): Promise<boolean> {
    const oid = context.activity.from?.aadObjectId;
    if (!oid) return false;
    const { value } = await this.deps.importer.connector.settings();
    if (!isAdmin(value, oid)) return false;
    // Cards say who mapped a number by name.
    this.deps.alerts.learnName(oid, context.activity.from?.name);
    return true;
  }

  private async installed(context: TurnContext): Promise<void> {
    const { conversations, notifications, notifier, importer, alerts, log } = this.deps;
    if (!(await this.isAdmin(context))) {
      await context.sendActivity(REFUSAL);
      return;
    }
    const reference = context.activity.getConversationReference();
    const isNew = await conversations.save({
      conversationId: conversationIdOf(context),
      reference,
      scope: scopeOf(context),
      lastUserId: context.activity.from?.aadObjectId,
      lastUserName: context.activity.from?.name,
    });
    if (!isNew) return;
    log.info({ conversationId: conversationIdOf(context), scope: scopeOf(context) }, 'bot installed; conversation stored for run cards');
    await context.sendActivity(
      cardActivity(
        messageCard(
          'Enterprise Number Archiver',
          'I will post a summary here after every import, and tell you about archived lines and employees without a mailbox. Type "help" to see what I can do.',
        ),
      ),
    );
    // The newest finished run, so a new admin sees where things stand (and it is not posted here twice).
    const latest = (await importer.runs.list({ top: 5 })).find((r) => r.status !== 'running');
    const stored = await conversations.get(conversationIdOf(context));
    if (latest && stored) {
      const cards = await notifier.cardsFor(latest);
      for (const { kind } of cards) await notifications.claim(latest.runId, kind, stored.conversationId);
      for (const { kind, card } of cards) {
        const sent = await context.sendActivity(cardActivity(card));
        await notifications.mark(latest.runId, kind, stored.conversationId, 'sent', sent?.id);
      }
      // Every number without a mailbox, not only the latest run's: where things stand.
      await alerts.announce(stored.conversationId, await importer.mapping.unmappedAlerts(), async (card) => (await context.sendActivity(cardActivity(card)))?.id ?? '');
    }
  }

  private async message(context: TurnContext): Promise<void> {
    if (!(await this.isAdmin(context))) {
      this.deps.log.info({ from: context.activity.from?.aadObjectId ?? 'unknown' }, 'bot message from someone who is not an admin: refused');
      await context.sendActivity(REFUSAL);
      return;
    }
    // Refreshed on each message: the service URL of a conversation can change.
    await this.deps.conversations.save({
      conversationId: conversationIdOf(context),
      reference: context.activity.getConversationReference(),
      scope: scopeOf(context),
      lastUserId: context.activity.from?.aadObjectId,
      lastUserName: context.activity.from?.name,
    });
    const command = parseCommand(context.activity.text, this.now());
    if (command.name === 'rerun') {
      const reference = context.activity.getConversationReference();
      await this.reruns.start(command.target, context.activity.from!.aadObjectId!, async (card) => (await context.sendActivity(cardActivity(card)))?.id ?? '', reference);
      return;
    }
    if (command.name === 'unmapped') {
      // Tracked, so a mapping made anywhere later updates this card too.
      await this.deps.alerts.offer(conversationIdOf(context), 'list', await this.deps.importer.mapping.unmapped(), async (card) => (await context.sendActivity(cardActivity(card)))?.id ?? '');
      return;
    }
    await context.sendActivity(cardActivity(await this.answer(command)));
  }

  private async answer(command: Exclude<BotCommand, { name: 'rerun' }>): Promise<AdaptiveCard> {
    const { importer } = this.deps;
    switch (command.name) {
      case 'status':
        return statusCard(importer, this.now());
      case 'runs':
        return runsCard(await importer.runs.list({ top: 10 }));
      case 'unmapped':
        return unmappedCard(await importer.mapping.unmapped());
      case 'help':
        return helpCard();
    }
  }

  protected override async onAdaptiveCardInvoke(context: TurnContext, invokeValue: AdaptiveCardInvokeValue): Promise<AdaptiveCardInvokeResponse> {
    const verb = invokeValue.action?.verb;
    const data = (invokeValue.action?.data ?? {}) as Record<string, unknown>;
    if (!(await this.isAdmin(context))) {
      // A message to the one who clicked; the card stays as it is for everyone else.
      this.deps.log.info({ from: context.activity.from?.aadObjectId ?? 'unknown', verb }, 'card action from someone who is not an admin: refused');
      return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: REFUSAL as unknown as Record<string, unknown> };
    }
    const card = (c: AdaptiveCard): AdaptiveCardInvokeResponse => ({ statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: c });
    switch (verb) {
      case 'status':
      case 'runs':
      case 'help':
        return card(await this.answer({ name: verb }));
      case 'unmapped': {
        let answer: AdaptiveCard | undefined;
        await this.deps.alerts.offer(conversationIdOf(context), 'list', await this.deps.importer.mapping.unmapped(), async (c) => {
          answer = c;
          return context.activity.replyToId ?? '';
        });
        return card(answer!);
      }
      case 'runLog':
        return card(await this.runLogCard(String(data.runId ?? '')));
      case 'rerun': {
        const reference = context.activity.getConversationReference();
        const activityId = context.activity.replyToId;
        let first: AdaptiveCard | undefined;
        await this.reruns.start(
          { runId: String(data.runId ?? '') },
          context.activity.from!.aadObjectId!,
          async (c) => {
            first = c;
            return activityId ?? '';
          },
          reference,
        );
        return card(first ?? messageCard('Rerun', 'Nothing to do.'));
      }
      case 'map': {
        const number = String(data.number ?? '');
        const mailbox = String(data[`mailbox-${String(data.inputKey ?? '')}`] ?? '');
        const by = { aadObjectId: context.activity.from!.aadObjectId!, name: context.activity.from?.name };
        return card(await this.maps.map(number, mailbox, by, context.activity.getConversationReference(), context.activity.replyToId));
      }
      default:
        return { statusCode: 400, type: 'application/vnd.microsoft.error', value: { code: 'BadRequest', message: `Unknown action "${verb ?? ''}".` } };
    }
  }

  private async runLogCard(runId: string): Promise<AdaptiveCard> {
    let run: RunRecord;
    try {
      run = await this.deps.importer.runs.get(runId);
    } catch (err) {
      if (err instanceof ImporterError && err.code === 'NotFound') return messageCard('Run log', `There is no run "${runId}".`);
      throw err;
    }
    const lines: string[] = [];
    let total = 0;
    for await (const row of this.deps.importer.runs.log(run.runId)) {
      total++;
      if (lines.length < 15) lines.push(plainText(`${row.outcome}: ${row.itemId}${row.m365UserId ? ` → ${row.m365UserId}` : ''}: ${cappedError(row.reason)}`));
    }
    const more = total > lines.length ? [`…and ${total - lines.length} more. The whole log is a CSV in the tab.`] : [];
    return messageCard(`Run log of ${windowText(run)}`, ...(lines.length ? lines : ['Nothing failed, was partial or was left unmapped in this run.']), ...more);
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}

/** The SDK refuses an activity without a conversation id before any turn runs. */
function conversationIdOf(context: TurnContext): string {
  return context.activity.conversation?.id ?? '';
}

function scopeOf(context: TurnContext): 'personal' | 'channel' | 'groupChat' {
  const type = context.activity.conversation?.conversationType;
  return type === 'channel' ? 'channel' : type === 'groupChat' ? 'groupChat' : 'personal';
}
