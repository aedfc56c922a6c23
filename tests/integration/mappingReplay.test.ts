import { type Importer, type RunRecord } from '../../importer';
import { archiveKeyOf, ARCHIVE_KEY_PROPERTY } from '../../importer/sink/messageProperties';
import { findHeldItems, HeldItemsSource, windowOf } from '../../importer/run/heldItems';
import { runImport } from '../../importer/run/importRun';
import type { Employee } from '../../emulators/telemessage/population';
import { CONNECTOR, startHarness, type Harness, harnessImporter } from '../support/importerHarness';

const KEY = ARCHIVE_KEY_PROPERTY.toLowerCase();

/** How many copies of each archive key a mailbox holds. */
function copiesIn(h: Harness, mailbox: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of h.graph.mailbox(mailbox).messages) {
    const key = m.extendedProperties.find((p) => p.id.toLowerCase() === KEY)?.value ?? `no-key:${m.id}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Who is unmapped, and the items held for a number replayed once it is mapped: a day imported with
 * half of the employees left out of the custom mapping and automatic mapping off.
 */
describe('unmapped participants and the replay of held items', () => {
  let h: Harness;
  let importer: Importer;
  let run: RunRecord;
  let unmappedStaff: Employee[];
  const window = { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-25T00:00:00Z') };
  beforeAll(async () => {
    h = await startHarness({ automaticMapping: false, mapped: (s) => s.slice(0, 6), telemessage: { traffic: { itemsPerDay: 80, hugeAttachments: [] } } });
    importer = await harnessImporter(h, { now: () => h.telemessage.now(), runLeaseSeconds: 15 });
    run = await importer.runs.backfill(window, 'admin-1');
    unmappedStaff = h.staff.slice(6).filter((e) => h.users.has(e.mailbox));
  });
  afterAll(() => h.close());

  it('tells archived lines and employees from outside parties, in the run counts and the unmapped report', async () => {
    const c = run.counts;
    expect(c.unmappedArchivedLines).toBeGreaterThan(0);
    expect(c.unmappedOutsideParties).toBeGreaterThan(0);
    expect(c.unmappedArchivedLines + c.unmappedEmployees + c.unmappedOutsideParties).toBe(c.unmapped);

    const items = h.telemessage.listExpected(window.from, window.to).filter((i) => !i.malformation);
    const employeeNumbers = new Set(h.staff.map((e) => e.mobile));
    const outside = new Set(h.telemessage.population.externals.map((x) => x.number));
    const report = await importer.mapping.unmappedReport();
    for (const u of report.archivedLines) {
      expect(employeeNumbers.has(u.number)).toBe(true);
      expect(items.some((i) => i.subscriber.number === u.number)).toBe(true);
    }
    for (const u of report.employees) expect(employeeNumbers.has(u.number)).toBe(true);
    const outsideNumbers = (await importer.mapping.unmapped()).filter((u) => u.kind === 'outsideParty');
    expect(outsideNumbers.every((u) => outside.has(u.number))).toBe(true);
    expect(report.outsideParties).toEqual({ numbers: outsideNumbers.length, items: outsideNumbers.reduce((n, u) => n + u.itemCount, 0) });
    expect(report.outsideParties.numbers).toBeGreaterThan(0);

    // The alert data the bot posts: never an outside party.
    const alerts = await importer.mapping.unmappedAlerts();
    expect(alerts.length).toBe(report.archivedLines.length + report.employees.length);
    expect(alerts.some((u) => outside.has(u.number))).toBe(false);
    expect(alerts.every((u) => employeeNumbers.has(u.number))).toBe(true);
  });

  it('replays every item held for a number into its new mailbox once, as a remap run, and the unmapped list shrinks', async () => {
    const employee = unmappedStaff.find((e) => h.telemessage.listExpected(window.from, window.to).some((i) => i.subscriber.number === e.mobile))!;
    const held = h.telemessage.listExpected(window.from, window.to).filter((i) => !i.malformation && i.participants.some((p) => p.number === employee.mobile));
    expect(held.length).toBeGreaterThan(0);
    const before = await importer.mapping.unmapped();
    expect(before.find((u) => u.number === employee.mobile)).toMatchObject({ kind: 'archivedLine', itemCount: held.length });
    expect(copiesIn(h, employee.mailbox).size).toBe(0);
    const checkpoint = await h.stores.connectors.getCheckpoint(CONNECTOR);

    const change = await importer.mapping.mapNumber(employee.mobile, employee.mailbox, 'admin-2', { etag: (await importer.connector.settings()).etag });
    expect(change.newlyMapped).toEqual([employee.mobile]);
    expect(change.replay.status).toBe('done');
    const replay = (change.replay as { run: RunRecord }).run;
    expect(replay).toMatchObject({ trigger: 'remap', requestedBy: 'admin-2', status: 'succeeded' });
    expect(replay.counts.availableFromSource).toBe(held.length);

    // Every held item, in the new mailbox, exactly once; nothing else there.
    const copies = copiesIn(h, employee.mailbox);
    expect(copies.size).toBe(held.length);
    for (const item of held) expect(copies.get(archiveKeyOf(item.id, employee.mailbox))).toBe(1);
    expect(replay.counts.imported).toBe(held.length);

    const runs = await importer.runs.list();
    expect(runs[0]).toMatchObject({ runId: replay.runId, trigger: 'remap' });
    const after = await importer.mapping.unmapped();
    expect(after.find((u) => u.number === employee.mobile)).toBeUndefined();
    expect(after.length).toBe(before.length - 1);
    // A replay covers items behind the checkpoint: it never moves it.
    expect(await h.stores.connectors.getCheckpoint(CONNECTOR)).toEqual(checkpoint);

    // Asked again, there is nothing held for it: no run, and the mailbox is unchanged.
    expect(await importer.runs.replayHeld('admin-2')).toBeUndefined();
    expect(copiesIn(h, employee.mailbox)).toEqual(copies);
  });

  it('a second replay of the same items writes nothing', async () => {
    const employee = unmappedStaff.find(
      (e) => !!h.telemessage.listExpected(window.from, window.to).some((i) => i.participants.some((p) => p.number === e.mobile)) && copiesIn(h, e.mailbox).size === 0,
    )!;
    const heldIds = new Set<string>();
    for (const day of await h.stores.unmapped.heldDays(CONNECTOR, employee.mobile)) for await (const id of h.stores.ledger.itemsHeldFor(CONNECTOR, day, employee.mobile)) heldIds.add(id);
    expect(heldIds.size).toBeGreaterThan(0);

    const first = await importer.mapping.mapNumber(employee.mobile, employee.mailbox, 'admin-2', { etag: (await importer.connector.settings()).etag });
    const firstRun = (first.replay as { run: RunRecord }).run;
    expect(firstRun.counts.imported).toBe(heldIds.size);
    const copies = copiesIn(h, employee.mailbox);
    expect(copies.size).toBe(heldIds.size);

    // Nothing is held for the number any more.
    expect(await findHeldItems(h.stores, CONNECTOR, [employee.mobile])).toEqual([]);
    // The same items replayed again under the same mapping (a retried request, say): every one is already final.
    const sameItems = await heldAgain(h, heldIds);
    const again = await runImport(h.context({ source: new HeldItemsSource(sameItems, h.stores) }), { trigger: 'remap', requestedBy: 'admin-2', window: windowOf(sameItems) });
    // Their deliveries are counted, as already archived: never "0 deliveries after fan-out".
    expect(again.counts).toMatchObject({ imported: 0, partiallyImported: 0, failed: 0, alreadyArchived: again.counts.afterFanOut, itemsAlreadyArchived: heldIds.size });
    expect(again.counts.afterFanOut).toBeGreaterThanOrEqual(heldIds.size);
    expect(again.counts.availableFromSource).toBe(heldIds.size);
    expect(copiesIn(h, employee.mailbox)).toEqual(copies);
  });
});

/** The held items of `ids` as the replay source lists them, read back from the ledger. */
async function heldAgain(h: Harness, ids: Set<string>) {
  const out = [];
  for (const day of ['2026-11-24']) {
    for (const id of ids) {
      const item = await h.stores.ledger.itemOn(CONNECTOR, day, id);
      if (item?.rawSha256) out.push({ ref: { id, archivedAt: item.archivedAt, type: item.kind ?? '', sizeBytes: item.rawSize! }, sha256: item.rawSha256 });
    }
  }
  return out.sort((a, b) => a.ref.archivedAt.getTime() - b.ref.archivedAt.getTime() || (a.ref.id < b.ref.id ? -1 : 1));
}
