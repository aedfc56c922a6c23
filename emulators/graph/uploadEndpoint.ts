import type { IncomingMessage } from 'node:http';
import { GraphError, RequestIds } from './graphError';
import { GraphPipeline, Outcome } from './graphPipeline';
import { asGraphError, errorResponse, GraphResponse, jsonResponse, readBody } from './httpIo';
import { FaultPlan } from './faults';
import { StatsRecorder } from './stats';
import { MAX_CHUNK_BYTES, parseContentRange, UploadSession, UploadSessions } from './uploadSessions';

/**
 * The pre-authenticated upload URL: PUT byte ranges in order, GET the session's state, DELETE to
 * cancel. Outlook rejects a Graph bearer token here (wrong audience), so this does too.
 */
export interface UploadEndpointDeps {
  uploads: UploadSessions;
  pipeline: GraphPipeline;
  stats: StatsRecorder;
  faults: FaultPlan;
}

// Outlook's own casing (ExpirationDateTime), as its documentation shows; the Graph SDK reads both.
const sessionState = (session: UploadSession): GraphResponse =>
  jsonResponse(200, {
    ExpirationDateTime: session.expirationDateTime,
    nextExpectedRanges: [String(session.received)],
  });

const fail = (error: unknown, ids: RequestIds): Outcome => ({
  kind: 'response',
  response: errorResponse(asGraphError(error), ids),
  loseResponse: false,
});

export async function handleUploadUrl(req: IncomingMessage, url: URL, deps: UploadEndpointDeps, ids: RequestIds): Promise<Outcome> {
  const { uploads, pipeline, stats, faults } = deps;
  let session: UploadSession;
  try {
    if (req.headers.authorization) {
      stats.refused('unauthenticated');
      throw new GraphError(401, 'InvalidAudience', "The audience claim value is invalid 'aud'.");
    }
    if (req.method === 'PUT' && faults.expireUploadSession()) uploads.expireAt(url.pathname);
    session = uploads.find(url.pathname, url.searchParams.get('authtoken'));
  } catch (error) {
    if (error instanceof GraphError && error.code === 'InvalidAuthenticationToken') stats.refused('expiredUploadSession');
    return fail(error, ids);
  }
  const mailboxId = session.mailbox.user.id;
  switch (req.method) {
    case 'GET':
      return pipeline.run('getUploadSession', session.appId, mailboxId, 0, true, ids, () => sessionState(session));
    case 'DELETE':
      return pipeline.run('cancelUploadSession', session.appId, mailboxId, 0, true, ids, () => {
        uploads.cancel(session);
        return { status: 204, headers: {} };
      });
    case 'PUT': {
      let range;
      try {
        range = parseContentRange(req.headers['content-range']);
      } catch (error) {
        return fail(error, ids);
      }
      const declared = range.end - range.start + 1;
      return pipeline.run('uploadChunk', session.appId, mailboxId, declared, true, ids, async () => {
        // Refuse a bad range before reading up to 4 MB of bytes for nothing.
        uploads.checkRange(session, range);
        const chunk = await readBody(req, MAX_CHUNK_BYTES);
        const result = uploads.acceptChunk(session, range, chunk);
        if (!result.done) return sessionState(session);
        return { status: 201, headers: { Location: uploads.attachmentLocation(session, result.attachment.id) } };
      });
    }
    default:
      return fail(new GraphError(405, 'BadRequest', `The HTTP method '${req.method}' is not allowed on an upload URL.`), ids);
  }
}
