import type { AuditEntry } from '../audit/auditTrail';
import type { ImporterContext } from './importerContext';

/** The connector's audit trail: who changed what, and when. */
export interface AuditClient {
  /** The entries from `from` to `to`, oldest first. */
  list(from: Date, to: Date, options?: { abortSignal?: AbortSignal }): Promise<AuditEntry[]>;
}

export class ConnectorAudit implements AuditClient {
  constructor(private readonly ctx: ImporterContext) {}

  list(from: Date, to: Date, options: { abortSignal?: AbortSignal } = {}): Promise<AuditEntry[]> {
    return this.ctx.stores.audit.list(this.ctx.connectorId, from, to, options);
  }
}
