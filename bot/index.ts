// The Teams bot, behind this folder's own small interface: every Agents SDK import stays in bot/,
// so the server knows nothing of the SDK the bot is built on.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TurnContext, WebResponse } from '@microsoft/agents-hosting';
import { TABLES, type Importer, type RunLogger, type StorageAccount } from '../importer';
import { ArchiverBot } from './archiverBot';
import { AdapterCardChannel, createCloudAdapter, type BotAuthentication, type CardChannel } from './agentsAdapter';
import { AlertCardStore, ALERT_CARDS_TABLE } from './alertCardStore';
import { AlertKeeper } from './alertKeeper';
import { ChannelTokenRefusal, ChannelTokenValidator } from './channelToken';
import { ConversationStore } from './conversationStore';
import { NotificationStore } from './notificationStore';
import { RunNotifier } from './runNotifier';

export type { BotAuthentication } from './agentsAdapter';

/** The Bot Framework's public cloud: where the channel's signing keys are published, and its tokens' issuer. */
const PUBLIC_CLOUD = {
  openIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  tokenIssuer: 'https://api.botframework.com',
};

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

/** An HTTP request whose JSON body the server has parsed (restify's bodyParser). */
export type ParsedRequest = IncomingMessage & { body?: unknown };

/** What the server needs of the bot: the endpoint's handler and the cards after runs. */
export interface BotEndpoint {
  /** POST /api/messages: authenticates the request (unless local development), then runs the turn. */
  handle(req: ParsedRequest, res: ServerResponse): Promise<void>;
  /** Posts the cards of finished runs that some admin conversation has not had yet. */
  notifyFinishedRuns(): Promise<void>;
  /** Checks for due cards now, then every scanEveryMs. */
  start(): void;
  stop(): Promise<void>;
}

export async function createBot(options: BotOptions, channelOverride?: CardChannel): Promise<BotEndpoint> {
  const { auth, log } = options;
  const adapter = createCloudAdapter(auth);
  const appId = auth.mode === 'authenticated' ? auth.appId : '';
  const tokens =
    auth.mode === 'authenticated'
      ? new ChannelTokenValidator({ appId, openIdMetadataUrl: auth.openIdMetadataUrl ?? PUBLIC_CLOUD.openIdMetadataUrl, issuer: auth.tokenIssuer ?? PUBLIC_CLOUD.tokenIssuer })
      : undefined;
  const channel = channelOverride ?? new AdapterCardChannel(adapter, appId);
  const conversations = new ConversationStore(await options.storage.table(TABLES.conversations), options.importer.connectorId);
  const notifications = new NotificationStore(await options.storage.table(TABLES.notifications));
  const alerts = new AlertKeeper({ importer: options.importer, conversations, cards: new AlertCardStore(await options.storage.table(ALERT_CARDS_TABLE)), channel, log });
  const notifier = new RunNotifier({ importer: options.importer, conversations, notifications, channel, alerts, log, tabUrl: options.tabUrl });
  const bot = new ArchiverBot({ ...options, conversations, notifications, notifier, channel, alerts });
  adapter.onTurnError = async (context: TurnContext, err: Error) => {
    log.error({ err: { message: err.message }, activityType: context.activity.type }, 'bot turn failed');
    await context.sendActivity('Sorry, something went wrong on my side. Try again in a minute; if it keeps failing, the server log says why.').catch(() => undefined);
  };
  let timer: NodeJS.Timeout | undefined;
  const scan = () => notifier.notifyFinishedRuns().catch((err: Error) => log.warn({ err: { message: err.message } }, 'run cards could not be posted; the next check tries again'));

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  return {
    async handle(req, res) {
      const activity = (req.body ?? {}) as { type?: unknown; serviceUrl?: unknown; channelId?: unknown };
      let user: Record<string, unknown> | undefined;
      if (tokens) {
        try {
          user = await tokens.validate(req.headers.authorization, activity);
        } catch (err) {
          if (!(err instanceof ChannelTokenRefusal)) throw err;
          if (err.code === 'KeysUnavailable') {
            // Not the caller's fault: the channel's keys could not be read, so nothing can be checked.
            log.error({ reason: err.code, err: { message: err.message } }, "bot endpoint cannot check tokens: the channel's signing keys are unavailable");
            return json(res, 503, { error: { code: 'Unavailable', message: 'The bot cannot check requests right now; try again later.' } });
          }
          log.warn(
            { reason: err.code, detail: err.message, activityType: typeof activity.type === 'string' ? activity.type.slice(0, 40) : undefined },
            'bot endpoint refused a request: its token is not valid',
          );
          return json(res, 401, { error: { code: 'Unauthorized', message: 'This endpoint accepts only requests the Bot Framework channel signed for this bot.' } });
        }
      }
      if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return json(res, 400, { error: { code: 'BadRequest', message: 'The body must be an activity (a JSON object).' } });
      try {
        await adapter.process({ body: req.body as Record<string, unknown>, headers: req.headers, method: req.method, user }, sdkResponse(res), (context) => bot.run(context));
      } catch (err) {
        // Outside the turn (e.g. the bot's own token for the connector could not be had): logged once, no stack in the answer.
        log.error({ err: { message: (err as Error).message }, activityType: typeof activity.type === 'string' ? activity.type.slice(0, 40) : undefined }, 'bot endpoint could not process an activity');
        if (!res.headersSent) json(res, 500, { error: { code: 'InternalError', message: 'The activity could not be processed; the server log says why.' } });
        else if (!res.writableEnded) res.end();
      }
    },
    notifyFinishedRuns: () => notifier.notifyFinishedRuns(),
    start() {
      void tokens?.warm();
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

/** Node's response as the SDK writes to it: a status, maybe a JSON body (an invoke's answer), then the end. */
function sdkResponse(res: ServerResponse): WebResponse {
  let body: unknown;
  const web: WebResponse = {
    get headersSent() {
      return res.headersSent;
    },
    get writableEnded() {
      return res.writableEnded;
    },
    status(code) {
      res.statusCode = code;
      return web;
    },
    setHeader(name, value) {
      res.setHeader(name, value);
      return web;
    },
    send(b) {
      body = b;
      return web;
    },
    end() {
      if (body === undefined) res.end();
      else {
        if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json');
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      }
      return web;
    },
  };
  return web;
}
