// As a namespace import, so the page's bundler keeps only the parts used (`{ z }` would bring every locale).
import * as z from 'zod';
import { MAX_AUDIT_DAYS, MAX_BACKFILL_DAYS, MAX_STATS_DAYS } from './limits';
import { TIME_OF_DAY, isTimeZone } from './scheduleTime';

export * from './limits';

/**
 * What the tab's API accepts, field by field: the server validates every request with these, and
 * the page checks its forms with the same schemas before it sends them.
 */

export const runId = z.string().regex(/^\d{13}-[0-9a-f]{8}$/, 'is not a run id');
const domain = z.string().regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/i, 'is not a mail domain such as contoso.com');

export const connectorPatch = z
  .object({
    /** The daily run's time of day in UTC; the page converts from the admin's time zone. */
    scheduleUtc: z.string().regex(TIME_OF_DAY, 'is not a time of day as HH:MM (UTC)'),
    /** The IANA time zone the admin chose the time in; saving it completes the schedule step. */
    scheduleTimeZone: z.string().max(64).refine(isTimeZone, 'is not an IANA time zone such as Europe/Paris'),
    automaticMapping: z.boolean(),
    defaultCountry: z.string().regex(/^[A-Z]{2}$/, 'is not a two-letter country code such as US'),
    tenantDomains: z.array(domain).max(50),
    admins: z.array(z.guid('is not an Entra object id')).min(1, 'must keep at least one admin').max(100),
    termsAccepted: z.literal(true),
    /** The user mapping step was saved (automatic mapping on or off, a custom mapping or none). */
    mappingConfirmed: z.literal(true),
    consented: z.literal(true),
    setupCompleted: z.literal(true),
  })
  .partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, 'names nothing to change');
export type ConnectorPatch = z.infer<typeof connectorPatch>;

export const runsQuery = z
  .object({
    pageSize: z.coerce.number().int().min(1).max(100).default(25),
    /** The last run id of the previous page. */
    after: runId.optional(),
  })
  .strict();

const DAY_MS = 86_400_000;
export const backfillBody = z
  .object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  .strict()
  .refine((w) => Date.parse(w.from) < Date.parse(w.to), { message: 'must start before it ends', path: ['to'] })
  .refine((w) => Date.parse(w.to) - Date.parse(w.from) <= MAX_BACKFILL_DAYS * DAY_MS, { message: `may span ${MAX_BACKFILL_DAYS} days at most`, path: ['to'] })
  .refine((w) => Date.parse(w.to) <= Date.now() + 60_000, { message: 'cannot end in the future', path: ['to'] });

const mobileNumber = z.string().trim().min(3, 'is not a mobile number').max(32, 'is not a mobile number');
export const mapNumberBody = z.object({ number: mobileNumber, mailbox: z.email('is not an email address').max(254) }).strict();
export const unmapNumberBody = z.object({ number: mobileNumber }).strict();

export const applyMappingQuery = z
  .object({
    confirmRemovals: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  })
  .strict();
export const mappingVersion = z.string().regex(/^[A-Za-z0-9._:-]{1,100}$/, 'is not a mapping version');
export const restoreMappingBody = z.object({ version: mappingVersion, confirmRemovals: z.boolean().default(false) }).strict();
export const exportMappingQuery = z.object({ version: mappingVersion.optional() }).strict();

export const credentialsBody = z
  .object({
    username: z.string().trim().min(1, 'is needed').max(256),
    password: z.string().min(1, 'is needed').max(1024),
  })
  .strict();

/** How TeleMessage delivers: its archive API (signed in with PUT /telemessage), a capture mailbox (SMTP), or the SFTP landing container. */
export const deliveryBody = z.discriminatedUnion('delivery', [
  z.object({ delivery: z.literal('api') }).strict(),
  z.object({ delivery: z.literal('smtp'), captureMailbox: z.email('is not an email address').max(254) }).strict(),
  z.object({ delivery: z.literal('sftp') }).strict(),
]);
export type DeliveryBody = z.infer<typeof deliveryBody>;

export const preflightBody = z.object({ mailbox: z.email('is not an email address').max(254) }).strict();

export const auditQuery = z
  .object({ from: z.iso.datetime({ offset: true }).optional(), to: z.iso.datetime({ offset: true }).optional() })
  .strict()
  .transform((q) => {
    const to = q.to ? new Date(q.to) : new Date();
    return { from: q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS), to };
  })
  .refine((w) => w.from < w.to, { message: 'must start before it ends', path: ['to'] })
  .refine((w) => w.to.getTime() - w.from.getTime() <= MAX_AUDIT_DAYS * DAY_MS, { message: `may span ${MAX_AUDIT_DAYS} days at most`, path: ['to'] });

/** An admin to add: their email address or Entra object id, resolved through Graph. */
export const addAdminBody = z.object({ user: z.string().trim().min(3, 'is not an email address or object id').max(254, 'is not an email address or object id') }).strict();
export const adminId = z.guid('is not an Entra object id');

export const dailyStatsQuery = z.object({ days: z.coerce.number().int().min(1).max(MAX_STATS_DAYS).default(30) }).strict();

/** "field: problem; field: problem", for the error the admin reads. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')} ${i.message}` : i.message)).join('; ');
}
