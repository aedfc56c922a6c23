import { startAzurite, type RunningAzurite } from '../../emulators/storage/azurite';
import { StorageAccount } from '../../importer/state/storageAccount';
import { CONTAINERS, TABLES } from '../../importer/state/tableNames';
import { ConnectorStore } from '../../importer/state/connectorStore';
import { MappingStore } from '../../importer/state/mappingStore';
import { RunsStore } from '../../importer/state/runsStore';
import { DeliveryLedger, isFinal, type DeliveryRecord } from '../../importer/state/deliveryLedger';
import { UnmappedStore } from '../../importer/state/unmappedStore';
import { RunLogStore, runLogCsv } from '../../importer/state/runLogStore';

describe('importer state in Table Storage', () => {
  let azurite: RunningAzurite;
  let storage: StorageAccount;
  beforeAll(async () => {
    azurite = await startAzurite();
    storage = new StorageAccount({ connectionString: azurite.connectionString });
  });
  afterAll(() => azurite.stop());

  it('keeps connector settings with ETags, and moves the checkpoint only forward', async () => {
    const connectors = new ConnectorStore(await storage.table(TABLES.connector));
    const first = await connectors.getOrDefault('c1');
    expect(first.value.folderName).toBe('Enterprise Number Archiver');
    const etag = await connectors.save({ ...first.value, scheduleUtc: '03:30' }, undefined);
    await expect(connectors.save({ ...first.value, scheduleUtc: '04:00' }, undefined)).rejects.toMatchObject({ code: 'Conflict' });
    await connectors.save({ ...first.value, scheduleUtc: '04:00' }, etag);
    await expect(connectors.save({ ...first.value, scheduleUtc: '05:00' }, etag)).rejects.toMatchObject({ code: 'Conflict' });
    expect((await connectors.get('c1'))!.value.scheduleUtc).toBe('04:00');

    await connectors.advanceCheckpoint('c1', new Date('2026-11-24T00:00:00Z'));
    await connectors.advanceCheckpoint('c1', new Date('2026-11-20T00:00:00Z'));
    expect((await connectors.getCheckpoint('c1'))!.value.toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('switches mapping versions whole, and refuses a switch over someone else’s change', async () => {
    const connectors = new ConnectorStore(await storage.table(TABLES.connector));
    const mappings = new MappingStore(await storage.table(TABLES.mappings), await storage.container(CONTAINERS.mappings), connectors);
    const entries = Array.from({ length: 250 }, (_, i) => ({ number: `+4477009${String(i).padStart(5, '0')}`, mailbox: `u${i}@contoso.example` }));
    const v1 = await mappings.replace('c2', entries, undefined);
    const settings = await connectors.get('c2');
    expect(settings!.value.mappingVersion).toBe(v1);
    const loaded = await mappings.load(v1);
    expect(loaded.size).toBe(250);
    expect(loaded.get('+447700900249')).toBe('u249@contoso.example');

    await expect(mappings.replace('c2', entries.slice(0, 3), 'W/"stale"')).rejects.toMatchObject({ code: 'Conflict' });
    expect((await connectors.get('c2'))!.value.mappingVersion).toBe(v1);
    const v2 = await mappings.replace('c2', entries.slice(0, 3), settings!.etag);
    expect((await mappings.load(v2)).size).toBe(3);
  });

  it('lists runs newest first', async () => {
    const runs = new RunsStore(await storage.table(TABLES.runs));
    const window = { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') };
    const older = await runs.create({ connectorId: 'c3', trigger: 'schedule', window, requestedBy: 'scheduler', startedAt: new Date('2026-11-24T02:00:00Z') });
    const newer = await runs.create({ connectorId: 'c3', trigger: 'rerun', window, requestedBy: 'oid-1', startedAt: new Date('2026-11-25T02:00:00Z'), rerunOf: older.runId });
    newer.counts.imported = 7;
    newer.status = 'succeeded';
    await runs.update(newer);
    const listed = await runs.list('c3');
    expect(listed.map((r) => r.runId)).toEqual([newer.runId, older.runId]);
    expect(listed[0]).toMatchObject({ status: 'succeeded', rerunOf: older.runId, counts: expect.objectContaining({ imported: 7 }) });
    await expect(runs.get('c3', 'nope')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('records items with their deliveries together, including fan-outs over 100 mailboxes', async () => {
    const ledger = new DeliveryLedger(await storage.table(TABLES.deliveries));
    const archivedAt = new Date('2026-11-24T10:00:00Z');
    const deliveries: DeliveryRecord[] = Array.from({ length: 130 }, (_, i) => ({
      archiveKey: `k${String(i).padStart(3, '0')}`,
      itemId: 'item/with#odd?chars',
      mailbox: `m${i}@contoso.example`,
      status: i === 5 ? 'failed' : 'imported',
      permanent: false,
      attempts: 1,
      runId: 'r1',
    }));
    await ledger.save('c4', { itemId: 'item/with#odd?chars', archivedAt, status: 'pending', runId: 'r1' }, deliveries);
    const back = await ledger.getItem('c4', 'item/with#odd?chars', archivedAt);
    expect(back.item?.status).toBe('pending');
    expect(back.deliveries).toHaveLength(130);
    expect(back.deliveries.filter((d) => !isFinal(d)).map((d) => d.mailbox)).toEqual(['m5@contoso.example']);
    const all = [];
    for await (const d of ledger.deliveriesIn('c4', new Date('2026-11-24T00:00:00Z'), new Date('2026-11-25T00:00:00Z'))) all.push(d);
    expect(all).toHaveLength(130);
    expect(all[0].archivedAt.toISOString()).toBe(archivedAt.toISOString());
    expect((await ledger.getItem('c4', 'other', archivedAt)).item).toBeUndefined();
  });

  it('commits a write whole or not at all: one that cannot be applied fails alone, the write sharing its transaction lands', async () => {
    const ledger = new DeliveryLedger(await storage.table(TABLES.deliveries));
    const archivedAt = new Date('2026-11-24T11:00:00Z');
    const delivery = (itemId: string, archiveKey: string): DeliveryRecord => ({ archiveKey, itemId, mailbox: 'ann@contoso.example', status: 'imported', attempts: 1, runId: 'r1' });
    // A stale unmapped row that was never written: its delete cannot be applied.
    const [bad, good] = await Promise.allSettled([
      ledger.save('c7', { itemId: "it's-bad", archivedAt, status: 'final', runId: 'r1' }, [delivery("it's-bad", 'k-bad')], [], ['+15550009999']),
      ledger.save('c7', { itemId: 'good/é?', archivedAt, status: 'final', runId: 'r1' }, [delivery('good/é?', "k-l'été")]),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { statusCode: 404 } });
    expect(good).toMatchObject({ status: 'fulfilled' });
    expect(await ledger.getItem('c7', "it's-bad", archivedAt)).toEqual({ deliveries: [] });
    const back = await ledger.getItem('c7', 'good/é?', archivedAt);
    expect(back.item).toMatchObject({ itemId: 'good/é?', status: 'final' });
    expect(back.deliveries).toEqual([expect.objectContaining({ archiveKey: "k-l'été", status: 'imported', attempts: 1 })]);
  });

  it('derives unmapped numbers from the ledger: replays and reruns converge, and a number that now maps drops out', async () => {
    const ledger = new DeliveryLedger(await storage.table(TABLES.deliveries));
    const unmapped = new UnmappedStore(await storage.table(TABLES.unmapped));
    const at = (h: number) => new Date(Date.UTC(2026, 10, 24, h));
    const item = (id: string, h: number) => ({ itemId: id, archivedAt: at(h), status: 'final' as const, runId: 'r1' });
    const row = (number: string, itemId: string, h: number, extra: object = {}) => ({ number, itemId, at: at(h), reason: 'Not in the custom mapping; automatic mapping is off', ...extra });
    await ledger.save('c5', item('a', 1), [], [row('+15550001111', 'a', 1), row('+15550002222', 'a', 1, { email: 'gone@contoso.example' })]);
    await ledger.save('c5', item('b', 3), [], [row('+15550001111', 'b', 3, { name: 'Sam Mobile' })]);
    await ledger.save('c5', item('c', 5), [], [row('+15550001111', 'c', 5)]);
    const refresh = () => unmapped.refreshDays('c5', [{ day: '2026-11-24', rows: ledger.unmappedOn('c5', '2026-11-24') }]);
    await refresh();
    // A replay writes the same rows again and refreshes again: the figures do not move.
    await ledger.save('c5', item('b', 3), [], [row('+15550001111', 'b', 3, { name: 'Sam Mobile' })]);
    await refresh();
    let list = await unmapped.list('c5');
    expect(list.map((u) => [u.number, u.itemCount])).toEqual([
      ['+15550001111', 3],
      ['+15550002222', 1],
    ]);
    expect(list[0]).toMatchObject({ lastName: 'Sam Mobile', pendingItemIds: ['a', 'b', 'c'] });
    expect(list[0].firstSeen.toISOString()).toBe(at(1).toISOString());
    expect(list[0].lastSeen.toISOString()).toBe(at(5).toISOString());
    expect(list[1].lastEmail).toBe('gone@contoso.example');

    // The mapping now covers +15550002222: item a is processed again, and that number drops out.
    await ledger.save('c5', { ...item('a', 1), unmappedNumbers: undefined }, [], [row('+15550001111', 'a', 1)], ['+15550002222']);
    await refresh();
    list = await unmapped.list('c5');
    expect(list.map((u) => [u.number, u.itemCount])).toEqual([['+15550001111', 3]]);
  });

  it('keeps each number apart when one is the start of another, and among hundreds of others', async () => {
    const ledger = new DeliveryLedger(await storage.table(TABLES.deliveries));
    const unmapped = new UnmappedStore(await storage.table(TABLES.unmapped));
    const at = (m: number) => new Date(Date.UTC(2026, 10, 24, 0, m));
    const row = (number: string, itemId: string, m: number) => ({ number, itemId, at: at(m), reason: 'No mailbox for this participant' });
    const numbers = ['+1555000111', '+15550001110', '+15550001111', 'ann@outside.example', 'unknown'];
    // Beside them, three hundred outside numbers seen once each.
    const crowd = Array.from({ length: 300 }, (_, i) => `+4477009${String(i).padStart(5, '0')}`);
    let m = 0;
    for (const [i, n] of numbers.entries()) {
      for (let k = 0; k <= i; k++) await ledger.save('c6', { itemId: `i${i}-${k}`, archivedAt: at(m), status: 'final', runId: 'r1' }, [], [row(n, `i${i}-${k}`, m++)]);
    }
    for (const [i, n] of crowd.entries()) await ledger.save('c6', { itemId: `x${i}`, archivedAt: at(100), status: 'final', runId: 'r1' }, [], [row(n, `x${i}`, 100)]);
    // The shortest number was also seen the day before; that day's count must survive the next day's refreshes.
    const dayBefore = new Date(Date.UTC(2026, 10, 23, 12));
    await ledger.save(
      'c6',
      { itemId: 'y0', archivedAt: dayBefore, status: 'final', runId: 'r0' },
      [],
      [{ number: numbers[0], itemId: 'y0', at: dayBefore, reason: 'No mailbox for this participant' }],
    );
    await unmapped.refreshDays('c6', [{ day: '2026-11-23', rows: ledger.unmappedOn('c6', '2026-11-23') }]);
    const refresh = () => unmapped.refreshDays('c6', [{ day: '2026-11-24', rows: ledger.unmappedOn('c6', '2026-11-24') }]);
    await refresh();
    await refresh();
    const list = await unmapped.list('c6');
    const counts = new Map(list.map((u) => [u.number, u.itemCount]));
    expect(list).toHaveLength(numbers.length + crowd.length);
    expect(numbers.map((n) => counts.get(n))).toEqual([2, 2, 3, 4, 5]);
    expect(list.find((u) => u.number === numbers[0])!.firstSeen.toISOString()).toBe(dayBefore.toISOString());
    expect(crowd.every((n) => counts.get(n) === 1)).toBe(true);

    // Item i2-0 is processed again and +15550001111 now maps: only that number's count moves.
    await ledger.save('c6', { itemId: 'i2-0', archivedAt: at(3), status: 'final', runId: 'r2' }, [], [], ['+15550001111']);
    await refresh();
    const after = new Map((await unmapped.list('c6')).map((u) => [u.number, u.itemCount]));
    expect(numbers.map((n) => after.get(n))).toEqual([2, 2, 2, 4, 5]);
    expect(after.size).toBe(numbers.length + crowd.length);
  });

  it("writes a run's log and gives it back as CSV with the connector log's columns", async () => {
    const log = new RunLogStore(await storage.table(TABLES.runLog));
    await log.append('run-1', [
      {
        itemId: 'i1',
        sourceUserId: '+447700900001',
        m365UserId: 'ann@contoso.example',
        outcome: 'partial',
        reason: 'attachment "video.mp4" (160 MB) exceeds the mailbox limit',
        at: new Date('2026-11-24T10:00:00Z'),
      },
      { itemId: '=cmd()', sourceUserId: '+15550001111', outcome: 'unmapped', reason: 'not in the custom mapping', at: new Date('2026-11-24T10:00:01Z') },
    ]);
    let csv = '';
    for await (const chunk of runLogCsv(log.rows('run-1'))) csv += chunk;
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('Item ID,Source user ID,Microsoft 365 user ID,Outcome,Reason,Time (UTC)');
    expect(lines[1]).toBe('i1,+447700900001,ann@contoso.example,partial,"attachment ""video.mp4"" (160 MB) exceeds the mailbox limit",2026-11-24T10:00:00.000Z');
    expect(lines[2].startsWith("'=cmd()")).toBe(true);
  });
});
