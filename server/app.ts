import restify, { type Server } from 'restify';
import { TableServiceClient } from '@azure/data-tables';
import type { Config } from './config';
import type { Logger } from './logger';
import type { BotEndpoint } from '../bot';

/** Activities are small JSON documents; anything bigger is refused before it is parsed. */
const BOT_BODY_LIMIT = 256 * 1024;

/** The one process: restify, with the bot, tab API and scheduler mounted as they land. */
export function createApp(config: Config, log: Logger, parts: { bot?: BotEndpoint } = {}): Server {
  const server = restify.createServer({ name: 'enterprise-number-archiver' });
  server.use(restify.plugins.queryParser({ mapParams: false }));

  if (parts.bot) {
    const bot = parts.bot;
    server.post('/api/messages', restify.plugins.bodyParser({ maxBodySize: BOT_BODY_LIMIT, mapParams: false }), async (req, res) => {
      await bot.handle(req, res);
    });
  }

  const tables = config.storageConnectionString
    ? TableServiceClient.fromConnectionString(config.storageConnectionString, { allowInsecureConnection: !config.production })
    : undefined;

  // Liveness plus a storage round trip; it says whether things work, never how they are set up.
  server.get('/healthz', async (_req, res) => {
    try {
      if (tables) {
        const pages = tables.listTables().byPage({ maxPageSize: 1 });
        await pages.next();
      }
      res.json(200, { status: 'ok' });
    } catch (err) {
      log.warn({ err: { message: (err as Error).message } }, 'health check: storage unreachable');
      res.json(503, { status: 'degraded', storage: 'unreachable' });
    }
  });

  server.on('restifyError', (req, _res, err, callback) => {
    log.info({ method: req.method, url: req.url, status: err.statusCode }, 'request refused');
    return callback();
  });
  return server;
}
