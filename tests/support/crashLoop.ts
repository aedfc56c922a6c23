// Runs the archive CLI to completion the hard way: SIGKILL at a planned sequence of points,
// restart after each, and finally one run left alone. The run lease of a killed process is left
// to expire by itself, as it would in production. Only the planned importers may run: any other
// start (the probe) is made while the lease is certainly held, so it cannot take work meant for
// the next kill point, however slowly a process starts on a busy machine.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobClient } from '@azure/storage-blob';
import { CONNECTOR, type Harness } from './importerHarness';
import { runArchiveCli, startArchiveCli, type ArchiveProcess, type CliResult } from './archiveCli';

/** Kill once the mailboxes hold `messages` more messages than at the start, `delayMs` later. */
export interface KillPoint {
  messages: number;
  delayMs: number;
}

export interface CrashReport {
  /** Kills that hit a running importer, and whether it held the run lease then. */
  kills: { point: KillPoint; heldLease: boolean }[];
  /** Importers started while the run lease was held (after a kill that left it held): each must have been refused. */
  probes: CliResult[];
  /** The run left to finish. */
  final: CliResult;
}

/**
 * A deterministic sequence of kill points for `seed`: the first while the importer is starting
 * (no message yet), the rest spread over the first four fifths of the run, by how many messages
 * have been written. A killed importer goes on writing for its delay, so the last fifth is the
 * room it may overshoot into and still leave the next importer work to be killed in.
 */
export function killPoints(seed: string, count: number, totalMessages: number): KillPoint[] {
  const random = seededRandom(seed);
  const fractions = Array.from({ length: count - 1 }, () => 0.02 + 0.78 * random()).sort((a, b) => a - b);
  return [{ messages: 0, delayMs: Math.round(200 + 2300 * random()) }, ...fractions.map((f) => ({ messages: Math.floor(f * totalMessages), delayMs: Math.round(400 * random()) }))];
}

export async function importThroughKills(h: Harness, args: readonly string[], points: readonly KillPoint[]): Promise<CrashReport> {
  const lock = h.stores.locks.getBlobClient(`run-lock/${CONNECTOR}`);
  const leaseHeld = async () => (await lock.getProperties().catch(() => undefined))?.leaseState === 'leased';
  const messages = () => h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);
  const baseline = messages();
  const report: Omit<CrashReport, 'final'> = { kills: [], probes: [] };

  /** Waits out the lease, starts, and starts again while refused (the lease was taken meanwhile). */
  const untilStarted = async (attempt: () => Promise<CliResult | 'killed'>): Promise<CliResult | 'killed'> => {
    for (;;) {
      await untilLeaseFree(leaseHeld);
      const outcome = await attempt();
      if (outcome === 'killed' || !isRefused(outcome)) return outcome;
    }
  };

  for (const point of points) {
    const outcome = await untilStarted(async () => {
      const importer = startArchiveCli(args, h.env);
      // Past the first point, the importer must have written since it started: killed mid-run, not while starting.
      const from = point.messages > 0 ? messages() : -1;
      // A point an earlier importer already passed is met at this one's first write: kill it there and then.
      const delayMs = from - baseline >= point.messages ? 0 : point.delayMs;
      const killed = await reachWhileRunning(importer, () => messages() - baseline >= point.messages && messages() > from, delayMs);
      if (!killed) return importer.done;
      const heldLease = await leaseHeld();
      importer.child.kill('SIGKILL');
      await importer.done;
      report.kills.push({ point, heldLease });
      // Restarted, as an impatient admin or a second instance would, while a run holds the lease:
      // the lease says no. Not against the dead importer's own lease: it may expire before a
      // slowly starting process asks, which would then run the whole import unplanned.
      if (heldLease) report.probes.push(await whileHoldingLease(lock, leaseHeld, () => startArchiveCli(args, h.env).done));
      return 'killed';
    });
    if (outcome !== 'killed') throw new Error(`the importer ended before its planned kill (${JSON.stringify(point)}): exit ${outcome.code}\n${outcome.stdout}\n${outcome.stderr}`);
  }
  const final = await untilStarted(() => startArchiveCli(args, h.env).done);
  return { ...report, final: final as CliResult };
}

function isRefused(result: CliResult): boolean {
  return result.code !== 0 && /RunInProgress/.test(result.stderr);
}

/** Waits until `reached()`, then `delayMs` more; true when the importer is still running then. */
async function reachWhileRunning(importer: ArchiveProcess, reached: () => boolean, delayMs: number): Promise<boolean> {
  let exited = false;
  const done = importer.done.then(() => {
    exited = true;
  });
  while (!exited && !reached()) await sleep(20);
  if (!exited) await Promise.race([done, sleep(delayMs)]);
  return !exited;
}

/** Waits out the lease, then holds it (no expiry) while `attempt` runs, as a running importer would. */
async function whileHoldingLease<T>(lock: BlobClient, leaseHeld: () => Promise<boolean>, attempt: () => Promise<T>): Promise<T> {
  await untilLeaseFree(leaseHeld);
  const lease = lock.getBlobLeaseClient();
  await lease.acquireLease(-1);
  try {
    return await attempt();
  } finally {
    await lease.releaseLease();
  }
}

async function untilLeaseFree(leaseHeld: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (await leaseHeld()) {
    if (Date.now() > deadline) throw new Error('the run lease was never released nor expired');
    await sleep(250);
  }
}

function seededRandom(seed: string): () => number {
  let n = 0;
  return () => createHash('sha256').update(`${seed}\u0000${n++}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * What every kill test asks of the kills: each point hit a running importer, every one past the
 * first had written (so held the run lease), and each start meanwhile was refused, saying why.
 */
export function expectKillsRefusedWhileHeld(report: CrashReport, kills: number): void {
  expect(report.kills).toHaveLength(kills);
  expect(report.kills.filter((k) => k.heldLease).length).toBeGreaterThanOrEqual(kills - 1);
  expect(report.probes.length).toBeGreaterThanOrEqual(kills - 1);
  for (const probe of report.probes) {
    expect({ code: probe.code, stderr: probe.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('RunInProgress: A run of connector "default" is already in progress.') });
  }
}

/** The run the last, unkilled importer made, checked by `--verify` as an admin would check it: nothing missing, doubled, altered or pending. Returns its id. */
export async function verifiedFinalRun(report: CrashReport, env: Record<string, string>): Promise<string> {
  expect(report.final.code).toBe(0);
  const runId = /^run (\S+) (succeeded|partial):/m.exec(report.final.stdout)?.[1];
  expect(runId).toBeDefined();
  const verify = await runArchiveCli(['--verify', runId!], env);
  expect(verify.stdout).toMatch(/0 missing, 0 duplicated, 0 altered, 0 pending/);
  expect(verify.code).toBe(0);
  return runId!;
}
