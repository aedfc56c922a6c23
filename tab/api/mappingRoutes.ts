import type { Server } from 'restify';
import { mappingReportCsv } from '../../importer';
import { MAX_MAPPING_UPLOAD_BYTES, applyMappingQuery, exportMappingQuery, mapNumberBody, restoreMappingBody, unmapNumberBody } from '../shared/apiSchemas';
import { readCappedBody } from './requestBody';
import { streamCsv, type RouteKit } from './routeKit';
import { mappingChangeView, unmappedView } from './tabViews';
import type { MappingChange, MappingPreview, MappingVersions, UnmappedReport } from '../shared/apiResponses';

/** The mapping page: unmapped numbers, single edits, a file previewed and applied, versions listed, restored and downloaded. */
export function mountMappingRoutes(server: Server, kit: RouteKit): void {
  const { importer, route, ifMatch, jsonBody, parse, query, signal } = kit;

  server.get(
    '/api/tab/unmapped',
    route(async (_req, res) => void res.json(200, unmappedView(await importer.mapping.unmappedReport()) satisfies UnmappedReport<Date>)),
  );

  server.post(
    '/api/tab/mapping/numbers',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = await jsonBody(req, mapNumberBody);
      res.json(200, mappingChangeView(await importer.mapping.mapNumber(body.number, body.mailbox, caller.oid, { etag, abortSignal: signal })) satisfies MappingChange<Date>);
    }),
  );

  server.del(
    '/api/tab/mapping/numbers/:number',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = parse(unmapNumberBody, { number: req.params.number }, 'number');
      res.json(200, (await importer.mapping.unmapNumber(body.number, caller.oid, { etag, abortSignal: signal })) satisfies MappingChange<Date>);
    }),
  );

  server.post(
    '/api/tab/mapping/preview',
    route(async (req, res) => {
      const file = await readCappedBody(req, MAX_MAPPING_UPLOAD_BYTES);
      const preview = await importer.mapping.preview(file, { abortSignal: signal });
      res.json(200, { ...preview, reportCsv: preview.check.problems.length ? mappingReportCsv(preview.check.problems) : undefined } satisfies MappingPreview);
    }),
  );

  server.put(
    '/api/tab/mapping',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const q = parse(applyMappingQuery, query(req), 'query');
      const file = await readCappedBody(req, MAX_MAPPING_UPLOAD_BYTES);
      res.json(200, mappingChangeView(await importer.mapping.apply(file, caller.oid, { etag, confirmRemovals: q.confirmRemovals, abortSignal: signal })) satisfies MappingChange<Date>);
    }),
  );

  server.get(
    '/api/tab/mapping/versions',
    route(async (_req, res) => void res.json(200, { versions: await importer.mapping.versions({ top: 100, abortSignal: signal }) } satisfies MappingVersions<Date>)),
  );

  server.post(
    '/api/tab/mapping/restore',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = await jsonBody(req, restoreMappingBody);
      res.json(200, mappingChangeView(await importer.mapping.restore(body.version, caller.oid, { etag, confirmRemovals: body.confirmRemovals, abortSignal: signal })) satisfies MappingChange<Date>);
    }),
  );

  server.get(
    '/api/tab/mapping.csv',
    route(async (req, res) => {
      const q = parse(exportMappingQuery, query(req), 'query');
      await streamCsv(res, q.version ? `mapping-${q.version}.csv` : 'mapping.csv', importer.mapping.export({ version: q.version, abortSignal: signal }));
    }),
  );
}
