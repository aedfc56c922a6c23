// The tab API's limits, which the page shows and checks too. Apart from the schemas, so that the
// page can name them without loading zod (a tenth of its code) before the dashboard is on screen.

/** Bodies of JSON requests; nothing the page sends comes near it. */
export const MAX_JSON_BYTES = 64 * 1024;
/** A mapping CSV, as the importer caps it (8 MiB). */
export const MAX_MAPPING_UPLOAD_BYTES = 8 * 1024 * 1024;
export const MAX_BACKFILL_DAYS = 31;
export const MAX_AUDIT_DAYS = 93;
export const MAX_STATS_DAYS = 90;
/** An admin's reason for acknowledging a failure, as the importer keeps it. */
export const MAX_ACKNOWLEDGEMENT_REASON = 500;
