import { progressLine, watchRuns } from '../../scripts/runWatch';
import type { RunRecord } from '../../importer';

const counts = {
  availableFromSource: 1200,
  afterFanOut: 2310,
  imported: 2100,
  partiallyImported: 3,
  alreadyArchived: 200,
  skippedDuplicates: 200,
  deliveriesFailed: 7,
  itemsImported: 1150,
  itemsPartial: 3,
  failed: 5,
  failuresOutstanding: 5,
  failuresAcknowledged: 0,
  notImported: 12,
  itemsAlreadyArchived: 30,
  itemsHeld: 12,
  unmapped: 40,
  unmappedArchivedLines: 2,
  unmappedEmployees: 1,
  unmappedOutsideParties: 37,
  unmappedNumbers: 20,
};
const run = (over: Partial<RunRecord> = {}): RunRecord => ({
  runId: '1765069200000-0a1b2c3d',
  connectorId: 'default',
  trigger: 'schedule',
  window: { from: new Date('2026-12-06T02:00:00Z'), to: new Date('2026-12-07T02:00:00Z') },
  status: 'running',
  counts,
  requestedBy: 'scheduler',
  startedAt: new Date('2026-12-07T02:00:00Z'),
  ...over,
});

describe("npm start's run progress", () => {
  it('says items, deliveries and the rate while a run goes, and how it ended', () => {
    expect(progressLine(run(), new Date('2026-12-07T02:00:25Z'))).toBe(
      'run 1765069200000-0a1b2c3d (schedule) going for 25s: 1,200 items so far, 12 not imported; 2,310 deliveries (2,100 imported, 3 partial, 7 failed, 200 already archived); 48 items/s',
    );
    expect(progressLine(run({ status: 'partial', endedAt: new Date('2026-12-07T02:01:40Z') }), new Date('2026-12-07T02:05:00Z'))).toBe(
      'run 1765069200000-0a1b2c3d (schedule) partial after 1m 40s: 1,200 items, 12 not imported; 2,310 deliveries (2,100 imported, 3 partial, 7 failed, 200 already archived); 12 items/s',
    );
  });

  it('says items done of the total while a run of a delivered source goes, the inbox having given the total', () => {
    expect(progressLine(run({ itemsTotal: 5000 }), new Date('2026-12-07T02:00:25Z'))).toBe(
      'run 1765069200000-0a1b2c3d (schedule) going for 25s: 1,200 of 5,000 items (24%), 12 not imported; 2,310 deliveries (2,100 imported, 3 partial, 7 failed, 200 already archived); 48 items/s',
    );
    // An empty window is done as soon as it starts; the line after the end needs no total.
    expect(progressLine(run({ itemsTotal: 0, counts: { ...counts, availableFromSource: 0 } }), new Date('2026-12-07T02:00:01Z'))).toContain(': 0 of 0 items (100%),');
    expect(progressLine(run({ itemsTotal: 5000, status: 'succeeded', endedAt: new Date('2026-12-07T02:01:40Z') }), new Date('2026-12-07T02:05:00Z'))).toContain(': 1,200 items, 12 not imported;');
  });

  it('prints while the newest run goes and once when it ends, then nothing', async () => {
    jest.useFakeTimers();
    try {
      const states = [run(), run(), run({ status: 'succeeded', endedAt: new Date() }), run({ status: 'succeeded', endedAt: new Date() })];
      let look = 0;
      const lines: string[] = [];
      const stop = new AbortController();
      watchRuns({ runs: { list: async () => [states[Math.min(look++, states.length - 1)]], get: async () => states[3] } }, (l) => lines.push(l), stop.signal);
      for (let i = 0; i < 4; i++) await jest.advanceTimersByTimeAsync(5_000);
      stop.abort();
      expect(lines.map((l) => /^run \S+ \(schedule\) (going|succeeded)/.exec(l)?.[1])).toEqual(['going', 'going', 'succeeded']);
    } finally {
      jest.useRealTimers();
    }
  });
});
