import type { Server } from 'restify';
import { ImporterError, deliveryConfigured, nextRunAt, type ConnectorSettings } from '../../importer';
import { connectorPatch, credentialsBody, deliveryBody, preflightBody } from '../shared/apiSchemas';
import { stepLabel, unfinishedSteps, type SetupState } from '../shared/setupProgress';
import { ApiError, type RouteKit } from './routeKit';
import type { ConnectorView, DeliveryPreflight, PreflightReport, TeleMessageStatus } from '../shared/apiResponses';

// The TeleMessage step is done once the chosen delivery has what it needs (a sign-in, a capture mailbox, a landing container).
const setupState = (settings: ConnectorSettings): SetupState => ({ ...settings, telemessageConfigured: deliveryConfigured(settings) });

/** The connector: its settings and status, the setup's steps, how TeleMessage delivers and its sign-in, the tenant's preflight. */
export function mountConnectorRoutes(server: Server, kit: RouteKit): void {
  const { importer, route, ifMatch, jsonBody, signal } = kit;

  /** How TeleMessage delivers, named for the admin; for the API, the username only, never the password. */
  const telemessageStatus = () => importer.delivery.status();

  /** What is failing across every window, as `status` and the chart count it (docs/counts.md). */
  async function failureTotals() {
    const { outstanding, acknowledged } = await importer.runs.failures({ abortSignal: signal });
    return { outstandingItems: new Set(outstanding.map((f) => f.itemId)).size, acknowledgedItems: new Set(acknowledged.map((f) => f.itemId)).size };
  }

  async function connectorView() {
    const { value, etag } = await importer.connector.settings();
    const [lastRun] = await importer.runs.list({ top: 1 });
    return {
      etag,
      body: {
        settings: {
          scheduleUtc: value.scheduleUtc,
          scheduleTimeZone: value.scheduleTimeZone,
          folderName: value.folderName,
          automaticMapping: value.automaticMapping,
          defaultCountry: value.defaultCountry,
          tenantDomains: value.tenantDomains,
          admins: value.admins ?? [],
          mappingVersion: value.mappingVersion,
          termsAcceptedAt: value.termsAcceptedAt,
          mappingConfirmedAt: value.mappingConfirmedAt,
          consentedAt: value.consentedAt,
          setupCompletedAt: value.setupCompletedAt,
        },
        telemessage: await telemessageStatus(),
        status: { lastRun, running: lastRun?.status === 'running', nextRunAt: nextRunAt(value.scheduleUtc, new Date()), failures: await failureTotals() },
      },
    };
  }

  server.get(
    '/api/tab/connector',
    route(async (_req, res) => {
      const view = await connectorView();
      if (view.etag) res.header('etag', view.etag);
      res.json(200, { ...view.body, etag: view.etag } satisfies ConnectorView<Date>);
    }),
  );

  server.patch(
    '/api/tab/connector',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const patch = await jsonBody(req, connectorPatch);
      const { termsAccepted, mappingConfirmed, consented, setupCompleted, ...changes } = patch;
      const now = new Date().toISOString();
      const updates = { ...changes, ...(termsAccepted && { termsAcceptedAt: now }), ...(mappingConfirmed && { mappingConfirmedAt: now }), ...(consented && { consentedAt: now }) };
      if (setupCompleted) {
        // Finishing needs every step saved, this request's own changes included.
        const missing = unfinishedSteps(setupState({ ...(await importer.connector.settings()).value, ...updates }));
        if (missing.length) throw new ApiError(409, 'SetupIncomplete', `The setup cannot be finished yet: ${missing.map(stepLabel).join(', ')} still to do.`, { missing });
      }
      await importer.connector.update({ ...updates, ...(setupCompleted && { setupCompletedAt: now }) }, caller.oid, { etag });
      const view = await connectorView();
      if (view.etag) res.header('etag', view.etag);
      res.json(200, { ...view.body, etag: view.etag } satisfies ConnectorView<Date>);
    }),
  );

  server.get(
    '/api/tab/telemessage',
    route(async (_req, res) => void res.json(200, (await telemessageStatus()) satisfies TeleMessageStatus)),
  );

  server.put(
    '/api/tab/telemessage',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = await jsonBody(req, credentialsBody);
      // A stale page is refused before TeleMessage is asked; the importer checks the ETag again as it stores.
      if ((await importer.connector.settings()).etag !== etag) throw new ImporterError('Conflict', 'The connector was changed by someone else; reload and try again.');
      // TeleMessage answers first: a wrong password is refused and nothing is stored.
      await importer.connector.checkTeleMessageCredentials(body.username, body.password, { abortSignal: signal });
      await importer.connector.setTeleMessageCredentials(body.username, body.password, caller.oid, { etag });
      res.json(200, (await telemessageStatus()) satisfies TeleMessageStatus);
    }),
  );

  server.put(
    '/api/tab/delivery',
    route(async (req, res, caller) => {
      const etag = ifMatch(req);
      const body = await jsonBody(req, deliveryBody);
      await importer.delivery.set(body, caller.oid, { etag });
      const view = await connectorView();
      if (view.etag) res.header('etag', view.etag);
      res.json(200, { ...view.body, etag: view.etag } satisfies ConnectorView<Date>);
    }),
  );

  // Read-only (a delta read, one $value; a listing, one manifest): it changes nothing, so it needs no If-Match.
  server.post(
    '/api/tab/delivery/check',
    route(async (req, res) => {
      const body = await jsonBody(req, deliveryBody);
      if (body.delivery === 'api') throw new ApiError(400, 'InvalidRequest', 'The archive API is checked by signing in to TeleMessage (PUT /api/tab/telemessage).');
      res.json(200, (await importer.delivery.check(body, { abortSignal: signal })) satisfies DeliveryPreflight);
    }),
  );

  server.post(
    '/api/tab/preflight',
    route(async (req, res, caller) => {
      const body = await jsonBody(req, preflightBody);
      res.json(200, (await importer.connector.preflight(body.mailbox, caller.oid, { abortSignal: signal })) satisfies PreflightReport);
    }),
  );
}
