import { readUnit, unitText, type DeliveryUnit } from '../../importer/scale/deliveryUnit';
import type { DeliveryQueue } from '../../importer/scale/deliveryQueue';
import { QueuedDeliveries } from '../../importer/scale/queuedDeliveries';
import type { UnitResults } from '../../importer/scale/unitResults';

const unit: DeliveryUnit = {
  v: 1,
  unitId: 'u-1',
  connectorId: 'default',
  runId: '8224-abc',
  folderName: 'TeleMessage – Archive',
  mailbox: 'ana.lopez@contoso.example',
  userId: '00000000-0000-4000-b000-000000000001',
  deliveries: [{ archiveKey: 'k1', itemId: 'TM-1', archivedAt: '2026-11-24T10:00:00.000Z', type: 'SMS', rawSha256: 'a'.repeat(64), rawSize: 120, mayExist: false }],
};

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('delivery units on the queue', () => {
  it('read back exactly as they were put on, whatever text they carry', () => {
    expect(readUnit(unitText(unit))).toEqual(unit);
    const odd = { ...unit, folderName: 'Archive <&> "quoted" \u{1F4F1}' };
    expect(readUnit(unitText(odd))).toEqual(odd);
  });

  it('are refused when they are not a unit: not base64 JSON, a wrong shape, a bad hash, too many deliveries', () => {
    expect(readUnit('not base64 at all ###')).toBeUndefined();
    expect(readUnit(Buffer.from('<xml/>').toString('base64'))).toBeUndefined();
    expect(readUnit(encode({ ...unit, v: 2 }))).toBeUndefined();
    expect(readUnit(encode({ ...unit, deliveries: [] }))).toBeUndefined();
    expect(readUnit(encode({ ...unit, deliveries: [{ ...unit.deliveries[0], rawSha256: '../../etc/passwd' }] }))).toBeUndefined();
    expect(readUnit(encode({ ...unit, deliveries: Array.from({ length: 33 }, () => unit.deliveries[0]) }))).toBeUndefined();
    expect(readUnit(encode({ ...unit, deliveries: [{ ...unit.deliveries[0], archivedAt: 'yesterday' }] }))).toBeUndefined();
  });

  it('carry a small item inline, and refuse an inline copy larger than a small item', () => {
    const small = { ...unit, deliveries: [{ ...unit.deliveries[0], inline: Buffer.alloc(6 * 1024, 1).toString('base64') }] };
    expect(readUnit(unitText(small))).toEqual(small);
    expect(readUnit(unitText({ ...unit, deliveries: [{ ...unit.deliveries[0], inline: Buffer.alloc(6 * 1024 + 1, 1).toString('base64') }] }))).toBeUndefined();
    expect(readUnit(unitText({ ...unit, deliveries: [{ ...unit.deliveries[0], inline: 'not base64!' }] }))).toBeUndefined();
  });

  it('stay well under the queue message limit (64 KiB) when full', () => {
    const full = { ...unit, deliveries: Array.from({ length: 32 }, (_, i) => ({ ...unit.deliveries[0], archiveKey: 'k'.repeat(100) + i, itemId: 'T'.repeat(200) })) };
    expect(Buffer.byteLength(unitText(full))).toBeLessThan(48 * 1024);
  });
});

describe('the run gathering deliveries into units', () => {
  it('starts a new unit before one would outgrow a queue message, however many small items ride inline', async () => {
    const sent: string[] = [];
    const queue = { send: async (u: DeliveryUnit) => void sent.push(unitText(u)) } as unknown as DeliveryQueue;
    const results = { take: async () => [] } as unknown as UnitResults;
    const stop = new AbortController();
    const gathering = new QueuedDeliveries(queue, results, { connectorId: 'default', runId: 'r1', folderName: 'Archive', lingerMs: 60_000, pollMs: 10 }, stop.signal);
    const inline = Buffer.alloc(6 * 1024, 7).toString('base64');
    const pending = Array.from({ length: 40 }, (_, i) => gathering.deliver(unit.mailbox, unit.userId, { ...unit.deliveries[0], archiveKey: `k${i}`, inline }).catch(() => undefined));
    await new Promise((r) => setImmediate(r));
    expect(sent.length).toBeGreaterThan(1);
    for (const text of sent) expect(text.length).toBeLessThan(64 * 1024);
    // Every unit sent so far reads back whole; the last few wait for their linger (a minute here).
    const units = sent.map((t) => readUnit(t));
    expect(units.every((u) => u !== undefined)).toBe(true);
    expect(units.reduce((n, u) => n + u!.deliveries.length, 0)).toBeGreaterThanOrEqual(40 - 6);
    stop.abort();
    await Promise.all(pending);
  });
});
