import restify, { type Server } from 'restify';
import { TableServiceClient } from '@azure/data-tables';
import { storageEndpoints } from '../importer';
import type { Config } from './config';
import { configuredStorage } from './importerFactory';
import type { Logger } from './logger';
import type { BotEndpoint } from '../bot';
import type { TabApi } from '../tab/api/tabApi';
import { mountTabPages } from './tabPages';

/** Activities are small JSON documents; anything bigger is refused before it is parsed. */
const BOT_BODY_LIMIT = 256 * 1024;

// A probe answers now or says "degraded": App Service's health check does not wait for retries.
const PROBE_OPTIONS = { retryOptions: { maxRetries: 0 } };

/** The Table service as configured, to probe: by connection string, or by name with the managed identity. */
function storageProbe(config: Config): TableServiceClient {
  const target = configuredStorage(config);
  if ('connectionString' in target) {
    return TableServiceClient.fromConnectionString(target.connectionString, { ...PROBE_OPTIONS, allowInsecureConnection: !config.production });
  }
  return new TableServiceClient(storageEndpoints(target).table, target.credential, PROBE_OPTIONS);
}

/** The one process: restify, with the bot, tab API and scheduler mounted as they land. */
export function createApp(config: Config, log: Logger, parts: { bot?: BotEndpoint; tab?: TabApi } = {}): Server {
  const server = restify.createServer({ name: 'enterprise-number-archiver' });
  // Every answer, errors and 404s included, is read as the type it declares and never sniffed.
  server.pre((_req, res, next) => {
    res.header('x-content-type-options', 'nosniff');
    return next();
  });
  server.use(restify.plugins.queryParser({ mapParams: false }));

  // The route is always there; without a bot (no importer or no bot id configured) it says so.
  const bot = parts.bot;
  server.post('/api/messages', restify.plugins.bodyParser({ maxBodySize: BOT_BODY_LIMIT, mapParams: false }), async (req, res) => {
    if (!bot) return res.json(503, { error: 'The bot is not configured on this server.' });
    await bot.handle(req, res);
  });

  // The tab's API needs the importer; without one its routes say so instead of being missing.
  if (parts.tab) parts.tab.mount(server);
  else {
    const unavailable = (_req: restify.Request, res: restify.Response, next: restify.Next) => {
      res.json(503, { error: { code: 'NotConfigured', message: 'The tab API is not configured on this server (no importer).' } });
      next(false);
    };
    for (const method of ['get', 'post', 'put', 'patch', 'del'] as const) server[method]('/api/tab/*', unavailable);
  }
  mountTabPages(server, config);

  const tables = storageProbe(config);

  // Liveness plus a storage round trip (the managed identity's token included, in Azure); it says
  // whether things work, never how they are set up.
  server.get('/healthz', async (_req, res) => {
    try {
      const pages = tables.listTables().byPage({ maxPageSize: 1 });
      await pages.next();
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
