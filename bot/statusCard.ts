import { deliveryConfigured, nextRunAt, summarizeRun, type Importer } from '../importer';
import { messageCard, windowText, type AdaptiveCard } from './cards';
import { cappedError, plainText } from './cardText';

/** "status": is the connector set up, how did the last run go, when is the next, what is failing. */
export async function statusCard(importer: Importer, now: Date): Promise<AdaptiveCard> {
  const { value: settings } = await importer.connector.settings();
  // Set up once the chosen delivery has what it needs: an API sign-in, a capture mailbox or a landing container.
  if (!deliveryConfigured(settings)) return messageCard('Status', 'The connector is not set up yet: open the Archiver tab and finish the setup.');
  const [runs, unmapped, failures, delivery] = await Promise.all([importer.runs.list({ top: 10 }), importer.mapping.unmapped(), importer.runs.failures({ top: 1000 }), importer.delivery.status()]);
  const lines: string[] = [`Source: ${plainText(delivery.description)}.`];
  const last = runs.find((r) => r.status !== 'running');
  const running = runs.find((r) => r.status === 'running');
  if (running) lines.push(`In progress: the ${running.trigger} run of ${windowText(running)}.`);
  lines.push(last ? `Last run (${last.trigger}, ${windowText(last)}): ${last.status}. ${summarizeRun(last)}` : 'No run has finished yet.');
  lines.push(`Next scheduled run: ${nextRunAt(settings.scheduleUtc, now).toISOString().slice(0, 16).replace('T', ' ')} UTC.`);
  const failing: string[] = [];
  if (last && (last.status === 'failed' || last.status === 'interrupted')) failing.push(`the last run ${last.status}${last.error ? `: ${plainText(cappedError(last.error))}` : ''}`);
  // Failures are the windows', not the last run's: a rerun that skipped them leaves them failing.
  const outstanding = new Set(failures.outstanding.map((f) => f.itemId)).size;
  if (outstanding)
    failing.push(`${outstanding.toLocaleString('en-US')} item${outstanding === 1 ? '' : 's'} still failing (see the runs in the tab; an item that can never be imported can be acknowledged there)`);
  const waiting = unmapped.filter((u) => u.kind !== 'outsideParty');
  if (waiting.length) failing.push(`${waiting.length} archived line${waiting.length === 1 ? '' : 's'} or employee${waiting.length === 1 ? '' : 's'} without a mailbox (type "unmapped")`);
  lines.push(failing.length ? `Needs attention: ${failing.join('; ')}.` : 'Nothing is failing.');
  return messageCard('Status', ...lines);
}
