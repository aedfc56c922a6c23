import type { AuditTrail } from '../audit/auditTrail';
import { ImporterError } from '../errors';
import { runTenantPreflight, type PreflightContext, type PreflightReport } from './tenantPreflight';

export type { PreflightReport } from './tenantPreflight';

/** The preflight as the importer's API offers it: the address checked first, one audit entry after. */
export async function preflightTenant(mailbox: string, requestedBy: string, ctx: PreflightContext & { connectorId: string; audit: AuditTrail }): Promise<PreflightReport> {
  const address = mailbox.trim();
  // One address, nothing else: the preflight must never reach a mailbox the admin did not name.
  if (!/^[^\s@/?#%]+@[^\s@/?#%]+\.[^\s@/?#%]+$/.test(address)) {
    throw new ImporterError('InvalidMailboxAddress', `"${mailbox}" is not a mailbox address; name one test mailbox, e.g. archiver-test@contoso.com.`);
  }
  const report = await runTenantPreflight(address, ctx);
  await ctx.audit.append({
    actor: requestedBy,
    action: 'tenant.preflight',
    connectorId: ctx.connectorId,
    detail: { mailbox: address, ok: report.ok, checks: report.checks.map((c) => ({ name: c.name, status: c.status, ...(c.error && { error: `${c.error.status} ${c.error.code}` }) })) },
  });
  return report;
}
