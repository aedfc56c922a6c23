import fs from 'node:fs';
import path from 'node:path';
import * as ACData from 'adaptivecards-templating';
import { summarizeReplay, summarizeRun, type RunRecord, type RunLogRow, type UnmappedNumber } from '../importer';
import { collectionText, countFacts } from '../tab/shared/countFacts';
import { displayNumber } from '../phone/phoneDisplay';
import { cappedError, plainText } from './cardText';

/** An Adaptive Card as sent to Teams: the expanded JSON of a template in bot/cards/. */
export type AdaptiveCard = Record<string, unknown> & { type: 'AdaptiveCard' };

type TemplateName = 'summary' | 'message' | 'help' | 'runs' | 'unmapped';
const templates = new Map<TemplateName, ACData.Template>();

/** Fills a card template with data; templates stay JSON files, never strings built in code. */
export function expandCard(name: TemplateName, data: object): AdaptiveCard {
  let template = templates.get(name);
  if (!template) {
    template = new ACData.Template(JSON.parse(fs.readFileSync(path.join(__dirname, 'cards', `${name}.json`), 'utf8')));
    templates.set(name, template);
  }
  return template.expand({ $root: data }) as AdaptiveCard;
}

export function messageCard(title: string, ...lines: string[]): AdaptiveCard {
  return expandCard('message', { title, lines });
}

const TRIGGER_TITLES: Record<string, string> = {
  schedule: 'Daily import',
  rerun: 'Rerun',
  backfill: 'Backfill',
  manual: 'Import',
  remap: 'Held items replayed',
};

const STATUS_WORDS: Record<RunRecord['status'], { word: string; color: string }> = {
  running: { word: 'in progress', color: 'Accent' },
  succeeded: { word: 'succeeded', color: 'Good' },
  partial: { word: 'partially succeeded', color: 'Warning' },
  failed: { word: 'failed', color: 'Attention' },
  interrupted: { word: 'interrupted', color: 'Warning' },
};

const utc = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const count = (n: number) => n.toLocaleString('en-US');

export function windowText(run: Pick<RunRecord, 'window'>): string {
  return `${utc(run.window.from)} → ${utc(run.window.to)}`;
}

export function durationText(run: RunRecord): string | undefined {
  if (!run.endedAt) return undefined;
  const s = Math.max(0, Math.round((run.endedAt.getTime() - run.startedAt.getTime()) / 1000));
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Whether "Rerun failed" has anything to do for this run. */
export function canRerun(run: RunRecord): boolean {
  return run.status === 'failed' || run.status === 'interrupted' || run.status === 'partial' || run.counts.failed > 0 || run.counts.partiallyImported > 0;
}

export interface SummaryInput {
  run: RunRecord;
  /** Failed, partial and not-imported rows of the run's log (only the first few hundred are read). */
  logRows: RunLogRow[];
  /** The connector's unmapped numbers, as the importer lists them. */
  unmapped: UnmappedNumber[];
  tabUrl?: string;
  note?: string;
  /** How TeleMessage delivers, named for the admin (`importer.delivery.status`). */
  source?: string;
}

/** The card posted after every run: the connector-log counts, who lacks a mailbox, the top failure reasons. */
export function summaryCard({ run, logRows, unmapped, tabUrl, note, source }: SummaryInput): AdaptiveCard {
  const c = run.counts;
  const status = STATUS_WORDS[run.status];
  const facts: { label: string; value: string }[] = [
    { label: 'Window', value: windowText(run) },
    { label: 'Status', value: status.word },
  ];
  if (source) facts.push({ label: 'Source', value: plainText(source) });
  if (run.collection) facts.push({ label: 'Collected', value: collectionText(run.collection) });
  // docs/counts.md: items and deliveries are told apart in every label, the same in the tab.
  if (c.availableFromSource > 0) facts.push(...countFacts(c));
  const duration = durationText(run);
  if (duration) facts.push({ label: 'Duration', value: duration });
  if (run.verification) facts.push({ label: 'Verification', value: plainText(cappedError(run.verification)) });
  if (run.error) facts.push({ label: 'Error', value: plainText(cappedError(run.error)) });

  const inWindow = unmapped.filter((u) => u.lastSeen >= run.window.from && u.firstSeen < run.window.to);
  const lines = inWindow.filter((u) => u.kind === 'archivedLine').length;
  const employees = inWindow.filter((u) => u.kind === 'employee').length;
  const outside = inWindow.length - lines - employees;
  const unmappedParts = [lines && `${count(lines)} archived line${lines === 1 ? '' : 's'}`, employees && `${count(employees)} employee${employees === 1 ? '' : 's'}`].filter(Boolean);
  const reasons = topReasons(logRows, 3);
  return expandCard('summary', {
    title: `${TRIGGER_TITLES[run.trigger] ?? 'Import'} ${status.word}`,
    headline: summarizeRun(run),
    color: status.color,
    facts,
    unmapped: unmappedParts,
    unmappedLine: `${unmappedParts.join(' and ')}${outside ? `; ${count(outside)} outside part${outside === 1 ? 'y' : 'ies'} (never mapped, by design)` : ''}. Type "unmapped" to map them.`,
    reasons,
    rejected: (run.collection?.rejected ?? []).slice(0, 5).map((r) => ({ name: plainText(r.name), reason: plainText(cappedError(r.reason)) })),
    note: note ?? (run.trigger === 'remap' ? replayText(run) : ''),
    runId: run.runId,
    canRerun: canRerun(run),
    tabUrl: tabUrl ?? '',
  });
}

function topReasons(rows: RunLogRow[], top: number): { reason: string; count: string }[] {
  const byReason = new Map<string, number>();
  // Failures only: a partially imported item is archived, and listed on its own.
  for (const row of rows) if (row.outcome === 'failed' || row.outcome === 'malformed') byReason.set(row.reason, (byReason.get(row.reason) ?? 0) + 1);
  return [...byReason.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([reason, n]) => ({ reason: plainText(cappedError(reason)), count: count(n) }));
}

/** What a replay of held items did, in items (docs/counts.md), as the tab says it too: "35 held: 35 already archived, 0 new." */
export function replayText(run: RunRecord): string {
  return `${summarizeReplay(run)}.`;
}

/** The card a rerun keeps replacing in place: started, progress, then the result. */
export function rerunProgressCard(of: RunRecord, progress: { itemsDone: number; imported: number; failed: number } | undefined): AdaptiveCard {
  return messageCard(
    'Rerun started',
    `Replaying what is not final in the run of ${windowText(of)}.`,
    progress ? `So far: ${count(progress.itemsDone)} items, ${count(progress.imported)} imported, ${count(progress.failed)} failed.` : 'I will update this card as it goes.',
  );
}

export function runsCard(runs: RunRecord[]): AdaptiveCard {
  return expandCard('runs', {
    title: 'Recent imports',
    runs: runs.map((r) => ({ runId: r.runId, status: STATUS_WORDS[r.status].word, trigger: TRIGGER_TITLES[r.trigger] ?? r.trigger, window: windowText(r), summary: summarizeRun(r) })),
  });
}

/** Every command parseCommand knows, each form with its argument. */
export const COMMANDS: { command: string; does: string }[] = [
  { command: 'status', does: 'The last import, the next one, and anything failing' },
  { command: 'runs', does: 'The recent imports with their counts and run ids' },
  { command: 'rerun', does: 'Rerun the latest import: what failed or was left unfinished (also "rerun latest", "rerun failed")' },
  { command: 'rerun yesterday', does: 'Rerun yesterday\'s import (UTC); "rerun today" for today\'s' },
  { command: 'rerun <yyyy-mm-dd>', does: 'Rerun the import that covered that UTC day, e.g. rerun 2026-11-30; a backfill if none did' },
  { command: 'rerun <run id>', does: 'Rerun that import, e.g. rerun 1764547200000-1a2b3c4d (the ids are in "runs")' },
  { command: 'retry failed', does: 'The same as rerun' },
  { command: 'unmapped', does: 'Archived lines and employees without a mailbox, with a way to map each' },
  { command: 'help', does: 'This list' },
];

export function helpCard(): AdaptiveCard {
  return expandCard('help', { commands: COMMANDS });
}

export interface UnmappedCardRow {
  number: string;
  result?: { text: string; ok: boolean };
}

/** An unmapped number as a card shows it (the importer's row, or a card's stored copy of it). */
export type CardNumber = Omit<UnmappedNumber, 'pendingItemIds'>;

/**
 * Archived lines and employees without a mailbox, each with an input to map it; outside parties
 * only counted. A number with a final outcome (mapped) shows it and has no button left. Names
 * and reasons come from TeleMessage, so they sit in TextRuns, which no renderer reads as Markdown.
 */
export function unmappedCard(unmapped: CardNumber[], results: Map<string, { text: string; ok: boolean }> = new Map(), canMap = true): AdaptiveCard {
  const actionable = unmapped.filter((u) => u.kind !== 'outsideParty').sort((a, b) => b.itemCount - a.itemCount);
  const outside = unmapped.length - actionable.length;
  const shown = actionable.slice(0, 20);
  const waiting = actionable.filter((u) => !results.get(u.number)?.ok).length;
  return expandCard('unmapped', {
    title: waiting
      ? `${count(waiting)} number${waiting === 1 ? '' : 's'} without a mailbox`
      : actionable.length
        ? `${actionable.length === 1 ? `${displayNumber(actionable[0].number)} has` : 'Every number here has'} a mailbox now`
        : 'Every archived line and employee has a mailbox',
    intro: waiting
      ? `Their items are held, not lost: map a number to its Microsoft 365 mailbox and its held items are imported.${actionable.length > shown.length ? ` The ${shown.length} with the most items are shown; the tab lists all.` : ''}`
      : 'Nothing is waiting for a mapping.',
    numbers: shown.map((u, i) => {
      const result = results.get(u.number);
      return {
        number: u.number,
        display: displayNumber(u.number),
        name: u.lastName?.trim() ? u.lastName.replace(/\s+/g, ' ').slice(0, 120) : u.kind === 'archivedLine' ? 'archived line' : 'employee',
        waiting: `${count(u.itemCount)} item${u.itemCount === 1 ? '' : 's'} waiting`,
        firstSeen: u.firstSeen.toISOString().slice(0, 10),
        reasonText: u.reason ? ` · ${cappedError(u.reason)}` : '',
        inputKey: String(i),
        canMap: canMap && !result?.ok,
        result: result?.text ?? '',
        resultColor: result?.ok ? 'Good' : 'Attention',
      };
    }),
    outsideLine: outside ? `${count(outside)} outside part${outside === 1 ? 'y' : 'ies'} (customers and other non-employees) took part too; they are never mapped, by design.` : '',
  });
}
