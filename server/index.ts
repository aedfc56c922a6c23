import { ConfigError, loadConfig } from './config';
import { createApp } from './app';
import { createLogger } from './logger';

// Entry point: read configuration, build the app, listen.
function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const app = createApp(config, log);
  app.listen(config.port, config.host, () => {
    if (config.localDevUnauthenticated) {
      log.warn('LOCAL DEVELOPMENT MODE: inbound requests are NOT authenticated; listening on loopback only');
    }
    log.info({ url: app.url }, 'server listening');
  });
  const stop = () => app.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
