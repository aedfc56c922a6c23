import { type Importer } from '../../importer';
import { DailyScheduler, lastDueAt } from '../../importer/schedule/dailySchedule';
import { CAPTURE } from '../support/captureDelivery';
import { CONNECTOR, quietLog, startHarness, type Harness, harnessImporter } from '../support/importerHarness';

describe('daily schedule', () => {
  let h: Harness;
  let importer: Importer;
  let now: Date;
  beforeAll(async () => {
    h = await startHarness({
      captureMailbox: CAPTURE,
      telemessage: { days: ['2026-11-23', '2026-11-24', '2026-11-25'], now: new Date('2026-11-24T02:00:00Z'), traffic: { itemsPerDay: 30, hugeAttachments: [] } },
    });
    now = new Date('2026-11-24T02:00:00Z');
    importer = await harnessImporter(h, { now: () => now });
  });
  afterAll(() => h.close());

  it('knows when the daily time last fell due', () => {
    expect(lastDueAt('02:00', new Date('2026-11-24T01:59:00Z')).toISOString()).toBe('2026-11-23T02:00:00.000Z');
    expect(lastDueAt('02:00', new Date('2026-11-24T02:00:00Z')).toISOString()).toBe('2026-11-24T02:00:00.000Z');
    expect(lastDueAt('23:30', new Date('2026-11-24T12:00:00Z')).toISOString()).toBe('2026-11-23T23:30:00.000Z');
  });

  it('starts nothing until the setup is finished, even with the TeleMessage sign-in stored', async () => {
    const { value, etag } = await importer.connector.settings();
    expect(value.telemessageUsername).toBeDefined();
    await importer.connector.update({ setupCompletedAt: undefined }, 'oid-admin', { etag });
    const scheduler = new DailyScheduler(importer, { log: quietLog, now: () => now });
    expect(await scheduler.check()).toBeUndefined();
    expect(await importer.runs.list({ top: 5 })).toEqual([]);
    await importer.connector.update({ setupCompletedAt: value.setupCompletedAt }, 'oid-admin', { etag: (await importer.connector.settings()).etag });
  });

  it('runs once when due, ends the run with its verification, and not again the same day', async () => {
    const scheduler = new DailyScheduler(importer, { log: quietLog, now: () => now });
    const run = await scheduler.check();
    expect(run).toMatchObject({ trigger: 'schedule', requestedBy: 'scheduler' });
    expect(run!.verification).toMatch(/^verified: \d+ deliveries and \d+ raw copies, all present once and unaltered$/);
    expect((await importer.runs.get(run!.runId)).verification).toBe(run!.verification);
    now = new Date('2026-11-24T09:00:00Z');
    expect(await scheduler.check()).toBeUndefined();
  });

  it('after a day of downtime runs as soon as it is back, covering everything since the checkpoint', async () => {
    now = new Date('2026-11-25T17:45:00Z');
    h.telemessage.setNow(now);
    const scheduler = new DailyScheduler(importer, { log: quietLog, now: () => now });
    const run = await scheduler.check();
    expect(run?.window).toEqual({ from: new Date('2026-11-24T02:00:00Z'), to: now });
    expect(run?.counts.availableFromSource).toBe(h.telemessage.listExpected('2026-11-24T02:00:00Z', now).length);
  });

  it('follows a changed schedule time', async () => {
    const { value, etag } = await importer.connector.settings();
    await importer.connector.update({ scheduleUtc: '18:00' }, 'oid-admin', { etag });
    const scheduler = new DailyScheduler(importer, { log: quietLog, now: () => now });
    expect(await scheduler.check()).toBeUndefined(); // 18:00 not reached; yesterday's 18:00 is covered by today's run
    now = new Date('2026-11-25T18:00:30Z');
    h.telemessage.setNow(now);
    expect((await scheduler.check())?.trigger).toBe('schedule');
    expect(value.scheduleUtc).toBe('02:00');
  });

  it('runs a connector delivering by SMTP on schedule without any TeleMessage sign-in, collecting first', async () => {
    const { value, etag } = await h.stores.connectors.getOrDefault(CONNECTOR);
    const { telemessageUsername: _u, telemessageSecretName: _s, ...unsigned } = value;
    await h.stores.connectors.save(unsigned, etag);
    await importer.delivery.set({ delivery: 'smtp', captureMailbox: CAPTURE }, 'oid-admin', { etag: (await importer.connector.settings()).etag });
    now = new Date('2026-11-26T18:05:00Z'); // the next 18:00 since the last scheduled run
    h.telemessage.setNow(now);
    const run = await new DailyScheduler(importer, { log: quietLog, now: () => now }).check();
    expect(run).toMatchObject({ trigger: 'schedule', collection: { kind: 'smtp', rejected: [] } });
    expect(run!.status).not.toBe('failed');
  });
});
