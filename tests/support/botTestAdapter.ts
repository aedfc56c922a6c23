// The bot on botbuilder's TestAdapter, wired to a real importer (Azurite and the emulators):
// what the bot sends lands in the adapter's queue, proactive posts included.
import { TestAdapter, TurnContext, type Activity, type ConversationReference } from 'botbuilder';
import { ArchiverBot } from '../../bot/archiverBot';
import type { CardChannel } from '../../bot/botFrameworkAdapter';
import type { AdaptiveCard } from '../../bot/cards';
import { ConversationStore } from '../../bot/conversationStore';
import { NotificationStore } from '../../bot/notificationStore';
import { RunNotifier } from '../../bot/runNotifier';
import { TABLES, type Importer, type StorageAccount } from '../../importer';
import { quietLog } from './importerHarness';

export interface BotUnderTest {
  adapter: TestAdapter;
  bot: ArchiverBot;
  notifier: RunNotifier;
  conversations: ConversationStore;
  notifications: NotificationStore;
  /** Cards posted or replaced outside a turn, in order. */
  proactive: { op: 'post' | 'update'; conversationId: string; activityId: string; card: AdaptiveCard }[];
  /** Conversations whose posts answer this HTTP status (403: the bot was removed there). */
  refuse: Map<string, number>;
  /** Sends an activity from a user and returns what the bot sent back in that turn. */
  say(activity: Partial<Activity>): Promise<Partial<Activity>[]>;
}

export async function botUnderTest(importer: Importer, storage: StorageAccount, options: { progressEveryMs?: number } = {}): Promise<BotUnderTest> {
  const conversations = new ConversationStore(await storage.table(TABLES.conversations), importer.connectorId);
  const notifications = new NotificationStore(await storage.table(TABLES.notifications));
  const proactive: BotUnderTest['proactive'] = [];
  const refuse = new Map<string, number>();
  let adapter: TestAdapter;
  const channel: CardChannel = {
    async post(reference: Partial<ConversationReference>, card: AdaptiveCard) {
      const conversationId = reference.conversation!.id;
      const status = refuse.get(conversationId);
      if (status) throw Object.assign(new Error(`the connector answered ${status}`), { statusCode: status });
      const context = new TurnContext(adapter, { type: 'event', conversation: reference.conversation, channelId: 'msteams' } as Activity);
      const sent = await context.sendActivity({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }] });
      proactive.push({ op: 'post', conversationId, activityId: sent!.id, card });
      return sent!.id;
    },
    async update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard) {
      proactive.push({ op: 'update', conversationId: reference.conversation!.id, activityId, card });
    },
  };
  const notifier = new RunNotifier({ importer, conversations, notifications, channel, log: quietLog });
  const bot = new ArchiverBot({ importer, conversations, notifications, notifier, channel, log: quietLog, progressEveryMs: options.progressEveryMs ?? 0 });
  adapter = new TestAdapter((context) => bot.run(context));
  return {
    adapter,
    bot,
    notifier,
    conversations,
    notifications,
    proactive,
    refuse,
    async say(activity) {
      const before = adapter.activeQueue.length;
      await adapter.processActivity(activity);
      return adapter.activeQueue.splice(before);
    },
  };
}

/** The Adaptive Card of a sent activity, or of an invoke's answer. */
export function cardOf(activity: Partial<Activity> | undefined): AdaptiveCard {
  const card = activity?.attachments?.[0]?.content ?? (activity?.value as { body?: { value?: unknown } } | undefined)?.body?.value;
  if (!card) throw new Error(`no card in ${JSON.stringify(activity)}`);
  return card as AdaptiveCard;
}

/** Every text of a card, in order, for assertions that read as the admin reads. */
export function textsOf(card: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (typeof o.text === 'string') out.push(o.text);
      if (typeof o.title === 'string' && typeof o.value === 'string') out.push(`${o.title}: ${o.value}`);
      else if (typeof o.title === 'string') out.push(o.title);
      for (const [k, v] of Object.entries(o)) if (k !== 'text' && k !== 'title') walk(v);
    }
  };
  walk(card);
  return out;
}
