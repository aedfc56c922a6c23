import { z } from 'zod';

/**
 * A unit of a run's work on the queue: deliveries into one mailbox, taken by any worker. It names
 * each item by its raw copy (already kept in Blob Storage and recorded pending in the ledger), so
 * a worker needs nothing else to write it.
 */
export interface DeliveryUnit {
  v: 1;
  unitId: string;
  connectorId: string;
  runId: string;
  folderName: string;
  mailbox: string;
  userId: string;
  /** Workers that began writing this unit before (and never finished it): counted in the message itself, since a unit a worker only looked at and put back (its mailbox busy) was not begun. */
  begun?: number;
  deliveries: UnitDelivery[];
}

export interface UnitDelivery {
  archiveKey: string;
  itemId: string;
  /** ISO time. */
  archivedAt: string;
  type: string;
  rawSha256: string;
  rawSize: number;
  /** An earlier attempt may have created the message: look it up before creating. */
  mayExist: boolean;
  /** A small item's raw bytes in base64 (checked against rawSha256 before use); a larger one is read from Blob Storage. */
  inline?: string;
}

/** What became of one delivery of a unit, as the worker reports it to the run. */
export interface UnitOutcome {
  archiveKey: string;
  outcome: 'imported' | 'partial' | 'failed';
  permanent: boolean;
  messageId?: string;
  recovered: boolean;
  reason?: string;
}

/** Deliveries in one unit. */
export const MAX_UNIT_DELIVERIES = 32;
/** Raw items up to this size travel inside their units. */
export const INLINE_RAW_BYTES = 6 * 1024;
/** A unit's JSON stays under this, so its base64 stays under a queue message's 64 KiB. */
export const MAX_UNIT_JSON_BYTES = 44 * 1024;

const text = (max: number) => z.string().min(1).max(max);

const unitSchema = z.object({
  v: z.literal(1),
  unitId: text(100),
  connectorId: text(200),
  runId: text(100),
  folderName: text(255),
  mailbox: text(320),
  userId: text(200),
  begun: z.number().int().nonnegative().optional(),
  deliveries: z
    .array(
      z.object({
        archiveKey: text(200),
        itemId: text(200),
        archivedAt: z.iso.datetime(),
        type: z.string().max(100),
        rawSha256: z.string().regex(/^[0-9a-f]{64}$/),
        rawSize: z.number().int().nonnegative(),
        mayExist: z.boolean(),
        inline: z
          .base64()
          .max(Math.ceil(INLINE_RAW_BYTES / 3) * 4)
          .optional(),
      }),
    )
    .min(1)
    .max(MAX_UNIT_DELIVERIES),
});

const outcomesSchema = z.array(
  z.object({
    archiveKey: z.string(),
    outcome: z.enum(['imported', 'partial', 'failed']),
    permanent: z.boolean(),
    messageId: z.string().optional(),
    recovered: z.boolean(),
    reason: z.string().optional(),
  }),
);

/** A queue message's text as a unit, or undefined when it is not one (it is then dropped, and said so). */
export function readUnit(messageText: string): DeliveryUnit | undefined {
  try {
    const parsed = unitSchema.safeParse(JSON.parse(Buffer.from(messageText, 'base64').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Base64, as Azure Functions and most queue tools expect, so any text in it travels safely in the queue's XML. */
export function unitText(unit: DeliveryUnit): string {
  return Buffer.from(JSON.stringify(unit), 'utf8').toString('base64');
}

export function readOutcomes(json: string): UnitOutcome[] | undefined {
  try {
    const parsed = outcomesSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
