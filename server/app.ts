import restify, { type Server } from 'restify';
import { TableServiceClient } from '@azure/data-tables';
import type { Config } from './config';
import type { Logger } from './logger';

/** The one process: restify, with the bot, tab API and scheduler mounted as they land. */
export function createApp(config: Config, log: Logger): Server {
  const server = restify.createServer({ name: 'enterprise-number-archiver' });
  server.use(restify.plugins.queryParser({ mapParams: false }));

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
