// The Teams bot, behind this folder's own small interface: every botbuilder import stays in bot/,
// so moving to the Microsoft 365 Agents SDK is one folder's change.
import type { TurnContext } from 'botbuilder';
import { TABLES, type Importer, type RunLogger, type StorageAccount } from '../importer';
import { ArchiverBot } from './archiverBot';
import { AdapterCardChannel, createCloudAdapter, type BotAuthentication, type CardChannel } from './botFrameworkAdapter';
import { ConversationStore } from './conversationStore';
import { NotificationStore } from './notificationStore';
import { RunNotifier } from './runNotifier';

export type { BotAuthentication } from './botFrameworkAdapter';

export interface BotOptions {
  importer: Importer;
  /** The connector's storage account: the bot keeps conversation references and posted cards there. */
  storage: StorageAccount;
  auth: BotAuthentication;
  log: RunLogger;
  /** A link that opens a run in the tab, when the tab can be reached. */
  tabUrl?: (runId: string) => string | undefined;
  /** How often finished runs are checked for cards not yet posted (60 s unless set). */
  scanEveryMs?: number;
  progressEveryMs?: number;
  now?: () => Date;
}

/** What the server needs of the bot: the endpoint's handler and the cards after runs. */
export interface BotEndpoint {
  /** POST /api/messages: authenticates the request (unless local development), then runs the turn. */
  handle(req: unknown, res: unknown): Promise<void>;
  /** Posts the cards of finished runs that some admin conversation has not had yet. */
  notifyFinishedRuns(): Promise<void>;
  /** Checks for due cards now, then every scanEveryMs. */
  start(): void;
  stop(): Promise<void>;
}

export async function createBot(options: BotOptions, channelOverride?: CardChannel): Promise<BotEndpoint> {
  const adapter = createCloudAdapter(options.auth);
  const appId = options.auth.mode === 'authenticated' ? options.auth.appId : '';
  const channel = channelOverride ?? new AdapterCardChannel(adapter, appId);
  const conversations = new ConversationStore(await options.storage.table(TABLES.conversations), options.importer.connectorId);
  const notifications = new NotificationStore(await options.storage.table(TABLES.notifications));
  const notifier = new RunNotifier({ importer: options.importer, conversations, notifications, channel, log: options.log, tabUrl: options.tabUrl });
  const bot = new ArchiverBot({ ...options, conversations, notifications, notifier, channel });
  adapter.onTurnError = async (context: TurnContext, err: Error) => {
    options.log.error({ err: { message: err.message }, activityType: context.activity.type }, 'bot turn failed');
    await context.sendActivity('Sorry, something went wrong on my side. Try again in a minute; if it keeps failing, the server log says why.').catch(() => undefined);
  };
  let timer: NodeJS.Timeout | undefined;
  const scan = () =>
    notifier.notifyFinishedRuns().catch((err: Error) => options.log.warn({ err: { message: err.message } }, 'run cards could not be posted; the next check tries again'));
  return {
    handle: (req, res) => adapter.process(req as never, res as never, (context) => bot.run(context)),
    notifyFinishedRuns: () => notifier.notifyFinishedRuns(),
    start() {
      timer = setInterval(() => void scan(), options.scanEveryMs ?? 60_000);
      timer.unref();
      void scan();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await scan();
    },
  };
}
