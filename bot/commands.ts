/** What an admin can type to the bot; anything else gets the help card. */
export type BotCommand =
  | { name: 'status' }
  | { name: 'runs' }
  | { name: 'unmapped' }
  | { name: 'help' }
  /** Rerun the latest run, the run that covered a UTC day, or a run by id. */
  | { name: 'rerun'; target: { latest: true } | { day: string } | { runId: string } };

const RUN_ID = /^\d{13}-[0-9a-f]{8}$/i;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Reads a message's text as a command. `now` decides what "yesterday" is (UTC). */
export function parseCommand(text: string | undefined, now: Date): BotCommand {
  // Teams puts the bot's <at>mention</at> in channel messages; it is not part of the command.
  const words = (text ?? '')
    .replace(/<at>[^<]*<\/at>/gi, ' ')
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean);
  const [first, second, ...rest] = words;
  if (words.length === 1 && (first === 'status' || first === 'runs' || first === 'unmapped' || first === 'help')) return { name: first };
  if (first === 'retry' && second === 'failed' && rest.length === 0) return { name: 'rerun', target: { latest: true } };
  if (first === 'rerun' && rest.length === 0) {
    if (second === undefined || second === 'failed' || second === 'latest') return { name: 'rerun', target: { latest: true } };
    if (second === 'yesterday') return { name: 'rerun', target: { day: new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10) } };
    if (second === 'today') return { name: 'rerun', target: { day: now.toISOString().slice(0, 10) } };
    if (DAY.test(second) && !Number.isNaN(Date.parse(`${second}T00:00:00Z`))) return { name: 'rerun', target: { day: second } };
    if (RUN_ID.test(second)) return { name: 'rerun', target: { runId: second } };
  }
  return { name: 'help' };
}
