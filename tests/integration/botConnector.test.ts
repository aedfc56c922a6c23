import { createBot, type BotEndpoint } from '../../bot';
import { ConversationStore } from '../../bot/conversationStore';
import { NotificationStore } from '../../bot/notificationStore';
import { TABLES, type Importer } from '../../importer';
import { loadConfig } from '../../server/config';
import { createConfiguredImporter } from '../../server/importerFactory';
import { startConnector, type ConnectorStandIn } from '../support/connectorStandIn';
import { quietLog, startHarness, type Harness } from '../support/importerHarness';
import { DAY } from '../support/mixedDay';

// The bot's proactive cards through the Agents SDK's own connector client (not a stand-in channel):
// conversations stored before the move to the SDK still get their cards, and a conversation the
// connector answers 403 or 404 for is dropped, as Teams answers when the bot was removed or the
// conversation is gone.
const ADMIN = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

describe('run cards through the Agents SDK connector client', () => {
  let h: Harness;
  let importer: Importer;
  let connector: ConnectorStandIn;
  let bot: BotEndpoint;
  let conversations: ConversationStore;
  let notifications: NotificationStore;

  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 10, hugeAttachments: [] } } });
    importer = await createConfiguredImporter(loadConfig(h.env), quietLog);
    const current = await importer.connector.settings();
    await importer.connector.update({ admins: [ADMIN] }, 'test', { etag: current.etag });
    connector = await startConnector();
    bot = await createBot({ importer, storage: h.storage, auth: { mode: 'localUnauthenticated' }, log: quietLog });
    conversations = new ConversationStore(await h.storage.table(TABLES.conversations), importer.connectorId);
    notifications = new NotificationStore(await h.storage.table(TABLES.notifications));
  }, 60_000);
  afterAll(async () => {
    await connector?.close();
    await h?.close();
  });

  /** A reference as botbuilder stored it: the bot under `bot`, not the Agents SDK's `agent`. */
  const storedByBotbuilder = (conversationId: string) =>
    conversations.save({
      conversationId,
      scope: 'personal',
      lastUserId: ADMIN,
      reference: {
        activityId: `install-${conversationId}`,
        user: { id: '29:admin', aadObjectId: ADMIN },
        bot: { id: '28:number-archiver', name: 'Number Archiver' },
        conversation: { id: conversationId, conversationType: 'personal' },
        channelId: 'msteams',
        serviceUrl: connector.url,
      } as never,
    });

  it("posts a run's cards once to a conversation stored before the move, and drops those answered 403 or 404", async () => {
    for (const id of ['a:admin-chat', 'a:bot-removed', 'a:chat-deleted']) await storedByBotbuilder(id);
    connector.refuse.set('a:bot-removed', 403);
    connector.refuse.set('a:chat-deleted', 404);
    const run = await importer.runs.backfill({ from: new Date(DAY.from), to: new Date(DAY.to) }, ADMIN);

    await bot.notifyFinishedRuns();
    await bot.notifyFinishedRuns();

    const summaries = connector.posted.filter((p) => p.texts[1].includes(`"runId":"${run.runId}"`));
    expect(summaries.map((p) => p.conversationId)).toEqual(['a:admin-chat']);
    // Sent as the bot the stored reference names.
    expect(summaries[0].activity.from?.id).toBe('28:number-archiver');
    expect((await notifications.get(run.runId, 'summary', 'a:admin-chat'))?.state).toBe('sent');
    for (const gone of ['a:bot-removed', 'a:chat-deleted']) {
      expect(await conversations.get(gone)).toBeUndefined();
      expect((await notifications.get(run.runId, 'summary', gone))?.state).toBe('dropped');
    }
    expect(await conversations.get('a:admin-chat')).toBeDefined();
  });
});
