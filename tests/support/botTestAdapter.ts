// The bot on a small in-process adapter of the Agents SDK (the SDK ships no test adapter), wired to
// a real importer (Azurite and the emulators): what the bot sends in a turn lands in the adapter's
// queue, invoke answers included; proactive posts go through the card channel below.
import { Activity, type ConversationReference } from '@microsoft/agents-activity';
import { BaseAdapter, TurnContext, type AttachmentData, type AttachmentInfo, type ResourceResponse } from '@microsoft/agents-hosting';
import { ArchiverBot } from '../../bot/archiverBot';
import type { CardChannel } from '../../bot/agentsAdapter';
import type { AdaptiveCard } from '../../bot/cards';
import { AlertCardStore, ALERT_CARDS_TABLE } from '../../bot/alertCardStore';
import { AlertKeeper } from '../../bot/alertKeeper';
import { ConversationStore } from '../../bot/conversationStore';
import { NotificationStore } from '../../bot/notificationStore';
import { RunNotifier } from '../../bot/runNotifier';
import { TABLES, type Importer, type StorageAccount } from '../../importer';
import { quietLog } from './importerHarness';

/** Runs turns in process and keeps what the bot sends, in order, as botbuilder's TestAdapter did. */
export class InProcessAdapter extends BaseAdapter {
  readonly activeQueue: Partial<Activity>[] = [];
  private next = 0;

  constructor(private readonly logic: (context: TurnContext) => Promise<void>) {
    super();
  }

  async processActivity(activity: Partial<Activity>): Promise<void> {
    const incoming = Activity.fromObject({ channelId: 'msteams', serviceUrl: 'https://smba.test.example/', id: `incoming-${++this.next}`, timestamp: new Date(), ...activity });
    await this.runMiddleware(new TurnContext(this, incoming), this.logic);
  }

  async sendActivities(_context: TurnContext, activities: Activity[]): Promise<ResourceResponse[]> {
    return activities.map((a) => {
      const id = `sent-${++this.next}`;
      this.activeQueue.push({ ...a, id } as Partial<Activity>);
      return { id };
    });
  }

  async updateActivity(_context: TurnContext, activity: Activity): Promise<ResourceResponse> {
    return { id: activity.id ?? '' };
  }

  async deleteActivity(): Promise<void> {}

  async continueConversation(_identity: unknown, reference: Partial<ConversationReference>, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    await this.runMiddleware(new TurnContext(this, Activity.getContinuationActivity(reference as ConversationReference)), logic);
  }

  uploadAttachment(_c: TurnContext, _id: string, _d: AttachmentData): Promise<ResourceResponse> {
    throw new Error('not used by the bot');
  }

  getAttachmentInfo(_c: TurnContext, _id: string): Promise<AttachmentInfo> {
    throw new Error('not used by the bot');
  }

  getAttachment(_c: TurnContext, _id: string, _v: string): Promise<NodeJS.ReadableStream> {
    throw new Error('not used by the bot');
  }
}

export interface BotUnderTest {
  adapter: InProcessAdapter;
  bot: ArchiverBot;
  notifier: RunNotifier;
  alerts: AlertKeeper;
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
  const channel: CardChannel = {
    async post(reference: Partial<ConversationReference>, card: AdaptiveCard) {
      const conversationId = reference.conversation!.id;
      const status = refuse.get(conversationId);
      if (status) throw Object.assign(new Error(`the connector answered ${status}`), { statusCode: status });
      const id = `proactive-${proactive.length + 1}`;
      proactive.push({ op: 'post', conversationId, activityId: id, card });
      return id;
    },
    async update(reference: Partial<ConversationReference>, activityId: string, card: AdaptiveCard) {
      proactive.push({ op: 'update', conversationId: reference.conversation!.id, activityId, card });
    },
  };
  const alerts = new AlertKeeper({ importer, conversations, cards: new AlertCardStore(await storage.table(ALERT_CARDS_TABLE)), channel, log: quietLog });
  const notifier = new RunNotifier({ importer, conversations, notifications, channel, alerts, log: quietLog });
  const bot = new ArchiverBot({ importer, conversations, notifications, notifier, channel, alerts, log: quietLog, progressEveryMs: options.progressEveryMs ?? 0 });
  const adapter = new InProcessAdapter((context) => bot.run(context));
  return {
    adapter,
    bot,
    notifier,
    alerts,
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

/** The texts of a card's elements of one type: TextBlock (read as Markdown) or TextRun (read as text). */
export function textsOfType(card: unknown, type: 'TextBlock' | 'TextRun'): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === type && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(card);
  return out;
}

/** The numbers a card still offers to map (its Map buttons' data). */
export function offeredNumbers(card: unknown): string[] {
  return [...JSON.stringify(card).matchAll(/"verb":"map","data":\{"number":"([^"]+)"/g)].map((m) => m[1]);
}
