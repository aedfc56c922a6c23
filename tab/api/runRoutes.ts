import type { Server } from 'restify';
import { z } from 'zod';
import { ImporterError, type RunRecord } from '../../importer';
import { backfillBody, dailyStatsQuery, runId, runsQuery } from '../shared/apiSchemas';
import { MAX_ACKNOWLEDGEMENT_REASON } from '../shared/limits';
import { streamCsv, type RouteKit } from './routeKit';
import { namesOf } from './settingsRoutes';
import { failureListingView, runView } from './tabViews';
import type { DailyStats, FailureAcknowledged, FailureListing, RunDetail, RunStarted, RunsPage } from '../shared/apiResponses';

const RUN_LOG_ROWS = 500;

/** The runs: listed, started (manual, rerun, backfill), read with their log, and what is failing across every window. */
export function mountRunRoutes(server: Server, kit: RouteKit): void {
  const { importer, route, ifMatch, jsonBody, parse, query, signal, log } = kit;

  /**
   * Starts a run and answers once it is recorded; what it refuses before that (another run, no
   * sign-in) is the answer. The importer's run starter owns the run from then on: the server's stop stops it.
   */
  function startRun(start: (watch: { onStarted: (run: RunRecord) => void }) => Promise<RunRecord>): Promise<RunRecord> {
    return new Promise<RunRecord>((resolve, reject) => {
      start({ onStarted: resolve })
        .then((run) => resolve(run))
        .catch((err: Error) => {
          reject(err);
          log.warn({ err: { message: err.message, code: (err as { code?: string }).code } }, 'a run started from the tab did not complete');
        });
    });
  }

  /**
   * The write rule: every state-changing route takes `If-Match` with the connector's ETag (428
   * without, 412 stale). The admin starts a run, or acknowledges a failure, against the connector
   * as they saw it, not as another admin changed it since (its folder, its mapping, its source).
   */
  async function sameConnector(req: Parameters<typeof ifMatch>[0]): Promise<void> {
    const etag = ifMatch(req);
    if ((await importer.connector.settings()).etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
  }

  server.get(
    '/api/tab/runs',
    route(async (req, res) => {
      const q = parse(runsQuery, query(req), 'query');
      const runs = await importer.runs.list({ top: q.pageSize + 1, after: q.after });
      const page = runs.slice(0, q.pageSize);
      res.json(200, { runs: page.map(runView), next: runs.length > q.pageSize ? page[page.length - 1].runId : undefined } satisfies RunsPage<Date>);
    }),
  );

  server.post(
    '/api/tab/runs',
    route(async (req, res, caller) => {
      await sameConnector(req);
      await jsonBody(req, z.object({}).strict().nullable());
      const run = await startRun((w) => importer.runs.start(caller.oid, { trigger: 'manual', ...w }));
      res.json(202, { run } satisfies RunStarted<Date>);
    }),
  );

  server.get(
    '/api/tab/runs/:runId',
    route(async (req, res) => {
      const id = parse(runId, req.params.runId, 'run id');
      const run = await importer.runs.get(id);
      const log = [];
      let more = false;
      for await (const row of importer.runs.log(id)) {
        if (log.length >= RUN_LOG_ROWS) {
          more = true;
          break;
        }
        log.push(row);
      }
      res.json(200, { run: runView(run), log, logTruncated: more } satisfies RunDetail<Date>);
    }),
  );

  server.get(
    '/api/tab/runs/:runId/log.csv',
    route(async (req, res) => {
      const id = parse(runId, req.params.runId, 'run id');
      await importer.runs.get(id);
      await streamCsv(res, `run-${id}.csv`, importer.runs.logCsv(id));
    }),
  );

  server.post(
    '/api/tab/runs/:runId/rerun',
    route(async (req, res, caller) => {
      const id = parse(runId, req.params.runId, 'run id');
      await jsonBody(req, z.object({}).strict().nullable());
      await importer.runs.get(id);
      await sameConnector(req);
      const run = await startRun((w) => importer.runs.rerun(id, caller.oid, w));
      res.json(202, { run } satisfies RunStarted<Date>);
    }),
  );

  server.post(
    '/api/tab/backfill',
    route(async (req, res, caller) => {
      const window = await jsonBody(req, backfillBody);
      await sameConnector(req);
      const run = await startRun((w) => importer.runs.backfill({ from: new Date(window.from), to: new Date(window.to) }, caller.oid, w));
      res.json(202, { run } satisfies RunStarted<Date>);
    }),
  );

  server.get(
    '/api/tab/failures',
    route(async (_req, res, caller) => {
      const listing = await importer.runs.failures({ abortSignal: signal });
      res.json(200, (await failureListingView(listing, (ids) => namesOf(importer, ids, signal), caller)) satisfies FailureListing<Date>);
    }),
  );

  server.post(
    '/api/tab/failures/:itemId/acknowledge',
    route(async (req, res, caller) => {
      const itemId = parse(z.string().min(1).max(300), req.params.itemId, 'item id');
      const body = await jsonBody(req, z.object({ reason: z.string().trim().min(1, 'say why').max(MAX_ACKNOWLEDGEMENT_REASON) }).strict());
      await sameConnector(req);
      res.json(200, { acknowledged: await importer.runs.acknowledgeFailure(itemId, body.reason, caller.oid, { abortSignal: signal }) } satisfies FailureAcknowledged<Date>);
    }),
  );

  server.get(
    '/api/tab/stats/daily',
    route(async (req, res) => {
      const q = parse(dailyStatsQuery, query(req), 'query');
      res.json(200, { days: await importer.runs.dailyCounts(q.days) } satisfies DailyStats);
    }),
  );
}
