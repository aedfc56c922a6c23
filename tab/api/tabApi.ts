import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import { ImporterError, MappingFileError, isAdmin, mappingReportCsv, type Importer, type RunLogger } from '../../importer';
import { MAX_JSON_BYTES, describeIssues } from '../shared/apiSchemas';
import { mountConnectorRoutes } from './connectorRoutes';
import { mountMappingRoutes } from './mappingRoutes';
import { BodyTooLarge, readCappedBody } from './requestBody';
import { ApiError, type RouteKit } from './routeKit';
import { mountRunRoutes } from './runRoutes';
import { mountSettingsRoutes, namesOf } from './settingsRoutes';
import { TokenRefusal, UserTokenValidator, type TabCaller, type UserTokenOptions } from './userToken';
import type { MeResponse } from '../shared/apiResponses';

export type TabAuthentication = ({ mode: 'authenticated' } & UserTokenOptions) | { mode: 'localUnauthenticated' };

export interface TabApiOptions {
  importer: Importer;
  auth: TabAuthentication;
  log: RunLogger;
}

/** The tab's REST API: mounted on the server, stopped with it (its reads and checks are abandoned; runs are the importer's to stop). */
export interface TabApi {
  mount(server: Server): void;
  stop(): Promise<void>;
}

const LOCAL_CALLER: TabCaller = { oid: 'local-dev', name: 'Local development (unauthenticated)' };

// Importer errors the admin can act on, with the status that says what kind of problem it is.
const IMPORTER_STATUS: Partial<Record<ImporterError['code'], number>> = {
  NotFound: 404,
  Conflict: 412,
  RunInProgress: 409,
  ConfirmationRequired: 409,
  InvalidMappingCsv: 422,
  InvalidPhoneNumber: 422,
  InvalidMailbox: 422,
  UnknownMailbox: 422,
  InvalidMailboxAddress: 422,
  InvalidSetting: 422,
  LastAdmin: 409,
  MailboxNotEnabled: 422,
  SourceAuthFailed: 422,
  SourceUnavailable: 502,
  SourceProtocolError: 502,
  ShuttingDown: 503,
};

export function createTabApi(options: TabApiOptions): TabApi {
  const { importer, log } = options;
  const validator = options.auth.mode === 'authenticated' ? new UserTokenValidator(options.auth) : undefined;
  void validator?.warm();
  const stopping = new AbortController();

  /** The caller, once their token is valid and they are one of the connector's admins. */
  async function admin(req: Request): Promise<TabCaller> {
    if (!validator) return LOCAL_CALLER;
    const caller = await validator.validate(req.headers.authorization);
    const settings = (await importer.connector.settings()).value;
    const admins = settings.admins ?? [];
    if (!isAdmin(settings, caller.oid)) {
      // Named so the person refused knows whom to ask; the ids stay for an admin center search.
      const names = await namesOf(importer, admins, stopping.signal);
      throw new ApiError(
        403,
        'NotAnAdmin',
        `You are signed in${caller.username ? ` as ${caller.username}` : ''}, but only the connector's admins can use this page. One of them can add your object id (${caller.oid}) to the connector's admins, in this tab's settings.`,
        { admins, adminNames: names, caller: { oid: caller.oid, name: caller.name, username: caller.username } },
      );
    }
    return caller;
  }

  type Handler = (req: Request, res: Response, caller: TabCaller) => Promise<void>;
  // restify 12 takes an async handler with two arguments and ends the chain when it settles.
  const route = (handler: Handler) => async (req: Request, res: Response) => {
    try {
      res.header('cache-control', 'no-store');
      await handler(req, res, await admin(req));
    } catch (err) {
      if (res.headersSent) return void res.end();
      refuse(res, err);
    }
  };

  function refuse(res: Response, err: unknown): void {
    if (err instanceof TokenRefusal) {
      res.header('www-authenticate', 'Bearer error="invalid_token"');
      return void res.json(401, { error: { code: err.code, message: err.message } });
    }
    if (err instanceof ApiError) return void res.json(err.status, { error: { code: err.code, message: err.message, ...err.extra } });
    if (err instanceof BodyTooLarge) return void res.json(413, { error: { code: err.code, message: err.message } });
    if (err instanceof MappingFileError) {
      return void res.json(422, {
        error: { code: err.code, reason: err.reason, message: err.message, problems: err.problems, reportCsv: err.problems.length ? mappingReportCsv(err.problems) : undefined },
      });
    }
    if (err instanceof ImporterError && IMPORTER_STATUS[err.code]) return void res.json(IMPORTER_STATUS[err.code]!, { error: { code: err.code, message: err.message, details: err.details } });
    // Anything else stays in the log: its message may name internals.
    log.error({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'tab API request failed');
    res.json(500, { error: { code: 'InternalError', message: 'The archiver could not do that; the server log has the details.' } });
  }

  function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
    const result = schema.safeParse(value);
    if (!result.success) throw new ApiError(400, 'InvalidRequest', `The ${what} is not valid: ${describeIssues(result.error)}.`);
    return result.data;
  }

  async function jsonBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.output<S>> {
    const body = await readCappedBody(req, MAX_JSON_BYTES);
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8') || 'null');
    } catch {
      throw new ApiError(400, 'InvalidRequest', 'The request body is not JSON.');
    }
    return parse(schema, value, 'request');
  }

  const query = (req: Request) => (req.query ?? {}) as Record<string, unknown>;

  function ifMatch(req: Request): string {
    const etag = req.headers['if-match'];
    if (typeof etag !== 'string' || !etag)
      throw new ApiError(428, 'PreconditionRequired', "Send the connector's ETag (from GET /api/tab/connector) as If-Match, so a change made by someone else in between is not overwritten.");
    return etag;
  }

  function mount(server: Server): void {
    server.get(
      '/api/tab/me',
      route(async (_req, res, caller) => void res.json(200, { ...caller, admin: true } satisfies MeResponse)),
    );

    const kit: RouteKit = { importer, log, route, ifMatch, jsonBody, parse, query, signal: stopping.signal };
    mountConnectorRoutes(server, kit);
    mountRunRoutes(server, kit);
    mountMappingRoutes(server, kit);
    mountSettingsRoutes(server, kit);
  }

  return {
    mount,
    stop: async () => {
      stopping.abort();
    },
  };
}
