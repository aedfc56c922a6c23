// A stand-in for the Bot Connector service (it cannot run here): records what the bot posts to a
// conversation and answers as Teams does, or with the status a test sets for a conversation (403:
// the bot was removed there; 404: the conversation is gone).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Posted {
  conversationId: string;
  /** The path's activity id when the post is a reply to one. */
  replyTo?: string;
  activity: { type?: string; text?: string; from?: { id?: string }; attachments?: { content: unknown }[] };
  /** The activity's text and its attachments as JSON, for assertions on what the admin reads. */
  texts: [string, string];
}

export interface ConnectorStandIn {
  url: string;
  posted: Posted[];
  refuse: Map<string, number>;
  close(): Promise<void>;
}

export async function startConnector(): Promise<ConnectorStandIn> {
  const posted: Posted[] = [];
  const refuse = new Map<string, number>();
  let n = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const m = /^\/v3\/conversations\/([^/]+)\/activities(?:\/([^/?]+))?/.exec(req.url ?? '');
      const conversationId = m ? decodeURIComponent(m[1]) : '';
      const status = refuse.get(conversationId);
      if (status) {
        res.writeHead(status, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { code: status === 403 ? 'BotNotInConversationRoster' : 'ConversationNotFound', message: 'refused by the test' } }));
      }
      if (m && req.method === 'POST') {
        const activity = JSON.parse(body) as Posted['activity'];
        posted.push({ conversationId, replyTo: m[2] && decodeURIComponent(m[2]), activity, texts: [activity.text ?? '', JSON.stringify(activity.attachments ?? [])] });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: `activity-${++n}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, posted, refuse, close: () => new Promise((r) => server.close(() => r())) };
}
