import type { RunLogger } from '../run/importRun';
import type { Importer, RunRecord } from '../index';
import { ImporterError } from '../errors';
import { deliveryConfigured } from '../source/deliverySetup';

/** The most recent time the daily schedule ("HH:MM", UTC) fell due at or before `now`. */
export function lastDueAt(scheduleUtc: string, now: Date): Date {
  const [h, m] = scheduleUtc.split(':').map(Number);
  const due = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
  if (due > now) due.setUTCDate(due.getUTCDate() - 1);
  return due;
}

/** The next time the daily schedule falls due after `now`. */
export function nextRunAt(scheduleUtc: string, now: Date): Date {
  return new Date(lastDueAt(scheduleUtc, now).getTime() + 86_400_000);
}

export interface DailySchedulerOptions {
  log: RunLogger;
  /** How often to check whether a run is due; settings changes take effect at the next check. */
  checkEveryMs?: number;
  now?: () => Date;
  onRunEnded?: (run: RunRecord) => void | Promise<void>;
}

/**
 * Runs the connector once a day at its configured UTC time. It checks rather than sleeps until
 * the time, so a server that was down at the scheduled time runs as soon as it is back (and the
 * run covers everything since the checkpoint), and several instances need no coordination beyond
 * the run lease: the loser of a race sees the winner's run and does nothing.
 */
export class DailyScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly importer: Importer,
    private readonly options: DailySchedulerOptions,
  ) {}

  start(): void {
    const every = this.options.checkEveryMs ?? 60_000;
    const tick = () => {
      if (!this.running)
        this.running = this.check()
          .then(
            () => undefined,
            () => undefined,
          )
          .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(tick, every);
    this.timer.unref();
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort(new Error('server stopping'));
    await this.running?.catch(() => undefined);
  }

  /** Starts the scheduled run if one is due and none has started since it fell due. */
  async check(): Promise<RunRecord | undefined> {
    const now = (this.options.now ?? (() => new Date()))();
    try {
      const { value: settings } = await this.importer.connector.settings();
      // Not set up yet: the tab's setup finishes it (how TeleMessage delivers, mapping, consent, schedule).
      if (!deliveryConfigured(settings) || !settings.setupCompletedAt) return undefined;
      const due = lastDueAt(settings.scheduleUtc, now);
      const runs = await this.importer.runs.list({ top: 20 });
      // Done for the day once a scheduled run covered the archive up to the due time.
      if (runs.some((r) => r.trigger === 'schedule' && r.window.to >= due)) return undefined;
      const run = await this.importer.runs.start('scheduler', { trigger: 'schedule', abortSignal: this.abort.signal });
      await this.options.onRunEnded?.(run);
      return run;
    } catch (err) {
      if (err instanceof ImporterError && err.code === 'RunInProgress') return undefined;
      if (this.abort.signal.aborted) return undefined;
      this.options.log.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'scheduled run could not start');
      return undefined;
    }
  }
}
