// What one `npm run bench` imports, shared by the bench, its emulator runner and its importer
// child: the generated company and day, and the Graph limits scaled to the bench's time scale.
import { createPopulation, type Population } from '../emulators/telemessage/population';
import { TrafficModel, type TrafficOptions } from '../emulators/telemessage/traffic';
import type { MailboxLimits } from '../importer';

export interface BenchPlan {
  seed: string;
  /** The archived UTC day (YYYY-MM-DD) the run imports whole. */
  day: string;
  /** Microsoft 365 mailboxes; one more employee has left (no mailbox) and stays unmapped. */
  mailboxes: number;
  itemsPerDay: number;
  /** Graph throttling windows (and Retry-After) multiplied by this; the importer's limits too. */
  timeScale: number;
  /** How TeleMessage delivers the day: its archive API (default), a capture mailbox (smtp), ZIPs in a landing container (sftp). */
  source?: 'api' | 'smtp' | 'sftp';
}

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Media smaller than the emulator's defaults so that a day of 200,000 deliveries fits a 2-core
 * machine in minutes; the shape (log-normal sizes, a few huge attachments past every limit) stays.
 */
export const BENCH_MEDIA: TrafficOptions['attachmentSizes'] = {
  jpeg: { min: 4 * KIB, median: 24 * KIB, max: 600 * KIB },
  png: { min: 2 * KIB, median: 12 * KIB, max: 300 * KIB },
  mp4: { min: 30 * KIB, median: 120 * KIB, max: 3 * MIB },
  mp3: { min: 16 * KIB, median: 64 * KIB, max: 2 * MIB },
  wav: { min: 16 * KIB, median: 120 * KIB, max: 4 * MIB },
};

/** Past the 3 MB inline limit, the 35 MB mailbox limit and the 150 MB upload session limit. */
export const BENCH_HUGE_ATTACHMENTS = [4 * MIB, 12 * MIB, 36 * MIB, 151 * MIB, 160 * MIB];

/** Zipf exponent over employees: a handful of heavy users carry much of the day. */
export const BENCH_SKEW = 1.1;

export function benchTraffic(plan: Pick<BenchPlan, 'itemsPerDay'>): TrafficOptions {
  return { itemsPerDay: plan.itemsPerDay, skew: BENCH_SKEW, attachmentSizes: BENCH_MEDIA, hugeAttachments: BENCH_HUGE_ATTACHMENTS };
}

export function benchPopulation(plan: Pick<BenchPlan, 'seed' | 'mailboxes'>): Population {
  return createPopulation({ seed: plan.seed, employees: plan.mailboxes + 1, domain: 'contoso.example' });
}

/** The Graph user id of the i-th employee (the last employee, a leaver, has none). */
export function benchUserId(index: number): string {
  return `00000000-0000-4000-b000-${String(index + 1).padStart(12, '0')}`;
}

export function benchWindow(day: string): { from: Date; to: Date } {
  const from = new Date(`${day}T00:00:00Z`);
  return { from, to: new Date(from.getTime() + 86_400_000) };
}

/** Outlook's per-mailbox limits with their windows shrunk as the Graph emulator shrinks them. */
export function scaledLimits(timeScale: number): MailboxLimits {
  return {
    concurrentRequests: 4,
    requestsPerWindow: 10_000,
    requestWindowMs: 600_000 * timeScale,
    uploadBytesPerWindow: 150 * MIB,
    uploadWindowMs: 300_000 * timeScale,
  };
}

/**
 * Deliveries per item in this company, from a sample of the day's items: every employee but the
 * leaver has a mailbox and is mapped, outside parties never are.
 */
export function deliveriesPerItem(plan: Pick<BenchPlan, 'seed' | 'mailboxes'>, population: Population, sample = 4000): number {
  const model = new TrafficModel(plan.seed, population, { ...benchTraffic({ itemsPerDay: 1_000_000 }), hugeAttachments: [] });
  const leaver = population.employees[population.employees.length - 1].id;
  let deliveries = 0;
  for (let i = 0; i < sample; i++) {
    const item = model.item('2000-01-01', i);
    deliveries += new Set(item.participants.filter((p) => p.employeeId && p.employeeId !== leaver).map((p) => p.employeeId)).size;
  }
  return deliveries / sample;
}
