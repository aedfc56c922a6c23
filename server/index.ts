import { loadConfigOrExit } from './config';
import { createApp } from './app';
import { createLogger } from './logger';
import { createConfiguredImporter, createConfiguredWorker } from './importerFactory';
import { createConfiguredBot, seedAdmins } from './botFactory';
import { createConfiguredTabApi } from './tabFactory';
import { DailyScheduler } from '../importer';

// Entry point: read configuration, build the app and the scheduler, listen.
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const importer = config.tenantId && config.clientId && config.telemessageBaseUrl ? await createConfiguredImporter(config, log) : undefined;
  if (importer) await seedAdmins(config, importer);
  const bot = importer && (await createConfiguredBot(config, importer, log));
  const afterRun = async () => {
    // Held items of numbers mapped while a run held the connector (a deferred replay) go in now.
    await importer?.runs.replayHeld('system:deferred-replay').catch((err: Error) => log.warn({ err: { message: err.message } }, 'deferred replay of held items did not run; the next run tries again'));
    await bot?.notifyFinishedRuns();
  };
  const scheduler = importer && new DailyScheduler(importer, { log, onRunEnded: afterRun });
  const tab = importer && createConfiguredTabApi(config, importer, log);
  // With a work queue, this instance also delivers units (its own runs' and others'), unless WORKER_CONCURRENCY=0.
  const worker = importer && (await createConfiguredWorker(config, log));
  const stopWorker = new AbortController();
  const working = worker?.run(stopWorker.signal);
  const app = createApp(config, log, { bot, tab });
  app.listen(config.port, config.host, () => {
    if (config.localDevUnauthenticated) {
      log.warn(
        config.localDevTabSignIn
          ? 'LOCAL DEVELOPMENT MODE: the bot endpoint is NOT authenticated (the tab signs in); listening on loopback only'
          : 'LOCAL DEVELOPMENT MODE: inbound requests are NOT authenticated; listening on loopback only',
      );
    }
    if (!importer) log.warn('TENANT_ID, CLIENT_ID or TELEMESSAGE_BASE_URL is not set: no imports run; the server answers health checks only');
    log.info({ url: app.url }, 'server listening');
    scheduler?.start();
    bot?.start();
  });
  const stop = async () => {
    // Every run still going (scheduled, or asked for in the tab, the chat or by a mapping) is started
    // through importer.runs, which stops them all: each ends `interrupted` before the process exits.
    await Promise.all([scheduler?.stop(), importer?.runs.stop()]);
    stopWorker.abort();
    await working;
    await tab?.stop();
    await bot?.stop();
    app.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`server failed to start: ${err.message}\n`);
  process.exit(1);
});
