import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { APP, startHarness, TM_PASSWORD, type Harness } from '../support/importerHarness';
import { runArchiveCli } from '../support/archiveCli';
import { BACKFILL_DAY, DAY } from '../support/mixedDay';
import { NODE_RUNTIME_ENV, NODE_RUNTIME_FLAGS } from '../../server/runtimeEnv';

const ROOT = path.resolve(__dirname, '..', '..');

const messageCount = (h: Harness) => h.graph.mailboxes().reduce((n, m) => n + m.messageCount, 0);

describe('the archive CLI', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ telemessage: { traffic: { itemsPerDay: 40, hugeAttachments: [] } } });
  });
  afterAll(() => h.close());

  it('--dry-run says what a run would do and changes nothing', async () => {
    const result = await runArchiveCli([...BACKFILL_DAY, '--dry-run'], h.env);
    expect(result.code).toBe(0);
    const items = h.telemessage.listExpected(DAY.from, DAY.to).length;
    expect(result.stdout).toContain(`dry run of ${DAY.from} → ${DAY.to}: ${items} items`);
    expect(result.stdout).toContain('Nothing was changed.');
    expect(await h.stores.runs.list('default')).toEqual([]);
    expect(messageCount(h)).toBe(0);
  }, 60_000);

  it('runs a backfill, then lists it with --runs and prints its log as CSV with --log', async () => {
    const run = await runArchiveCli(BACKFILL_DAY, h.env);
    expect(run.code).toBe(0);
    const runId = /^run (\S+) (succeeded|partial):/m.exec(run.stdout)?.[1];
    expect(runId).toBeDefined();
    expect(messageCount(h)).toBeGreaterThan(0);

    const runs = await runArchiveCli(['--runs'], h.env);
    expect(runs.code).toBe(0);
    expect(runs.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^${runId}  backfill (succeeded|partial) +${DAY.from} → ${DAY.to}  40 items from source`))]);

    const log = await runArchiveCli(['--log', runId!], h.env);
    expect(log.code).toBe(0);
    const [header, ...rows] = log.stdout.trimEnd().split('\r\n');
    expect(header).toBe('Item ID,Source user ID,Microsoft 365 user ID,Outcome,Reason,Time (UTC)');
    const [stored] = await h.stores.runs.list('default', 1);
    // One line per failed or partial delivery, malformed item, and item that reached no mailbox.
    expect(rows.filter((r) => r.includes(',unmapped,'))).toHaveLength(stored.counts.notImported);
    expect(rows.filter((r) => r.includes(',partial,'))).toHaveLength(stored.counts.partiallyImported);
    expect(rows.every((r) => /^TM-\S+,/.test(r) && /,\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(r))).toBe(true);
  }, 60_000);

  it('exits 2 with the usage on a flag it does not know', async () => {
    const result = await runArchiveCli(['--form', DAY.from], h.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--form'");
    expect(result.stderr).toContain('usage:\n  npm run archive -- [--from <ISO time>] [--to <ISO time>] [--dry-run]');
  }, 30_000);

  it('names the setting that is missing or wrong, never a secret', async () => {
    const missing = await runArchiveCli(BACKFILL_DAY, { ...h.env, TELEMESSAGE_BASE_URL: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('TELEMESSAGE_BASE_URL: required to run imports');

    const wrong = await runArchiveCli(BACKFILL_DAY, { ...h.env, RUN_LEASE_SECONDS: '5' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/RUN_LEASE_SECONDS: /);
    for (const secret of [APP.clientSecret, TM_PASSWORD, h.azurite.connectionString]) {
      expect(missing.stderr + wrong.stderr).not.toContain(secret);
    }
    expect(await h.stores.runs.list('default')).toHaveLength(1);
  }, 30_000);

  describe('compiled, as App Service runs it (no tsx, no development dependencies)', () => {
    // Inside the repository, so the compiled files find node_modules as dist/ does.
    const outDir = path.join(ROOT, '.local', `cli-dist-${process.pid}`);
    beforeAll(() => {
      const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', outDir], { encoding: 'utf8' });
      if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
    }, 120_000);
    afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

    it("lists the runs with the server's runtime flags and allocator settings", async () => {
      const runs = await runArchiveCli(['--runs'], { ...h.env, ...NODE_RUNTIME_ENV }, [...NODE_RUNTIME_FLAGS, path.join(outDir, 'cli', 'archive.js')]);
      expect(runs.stderr).toBe('');
      expect(runs.code).toBe(0);
      expect(runs.stdout).toMatch(new RegExp(`^\\S+  backfill (succeeded|partial) +${DAY.from} → ${DAY.to}  40 items from source`, 'm'));
    }, 60_000);

    it('reaches only production dependencies, which `npm prune --omit=dev` keeps', () => {
      const production = new Set(Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies));
      const needed = new Set<string>();
      const seen = new Set<string>();
      const walk = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const [, spec] of fs.readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
          if (spec.startsWith('.')) walk(require.resolve(path.resolve(path.dirname(file), spec)));
          else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) needed.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
        }
      };
      walk(path.join(outDir, 'cli', 'archive.js'));
      walk(path.join(outDir, 'server', 'index.js'));
      expect(needed.size).toBeGreaterThan(3);
      expect([...needed].filter((name) => !production.has(name))).toEqual([]);
    });
  });
});
