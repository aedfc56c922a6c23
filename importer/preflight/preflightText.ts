import type { PreflightReport } from './tenantPreflight';

/** The report as lines an admin reads in a terminal: each check, what was found, and Graph's answer when it refused. */
export function preflightText(report: PreflightReport): string {
  const lines = [`tenant preflight against ${report.mailbox}: ${report.ok ? 'every check passed' : 'some checks did not pass'}`];
  for (const c of report.checks) {
    lines.push(`  ${c.status.padEnd(7)} ${c.title}: ${c.detail}`);
    if (c.error) lines.push(`          Graph answered ${c.error.status} ${c.error.code}: ${c.error.message}`);
    if (c.warning) lines.push(`          warning: ${c.warning}`);
  }
  return `${lines.join('\n')}\n`;
}
