import { readUnit, unitText, type DeliveryUnit } from '../../importer/scale/deliveryUnit';

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

  it('stay well under the queue message limit (64 KiB) when full', () => {
    const full = { ...unit, deliveries: Array.from({ length: 32 }, (_, i) => ({ ...unit.deliveries[0], archiveKey: 'k'.repeat(100) + i, itemId: 'T'.repeat(200) })) };
    expect(Buffer.byteLength(unitText(full))).toBeLessThan(48 * 1024);
  });
});
