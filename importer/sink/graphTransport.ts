import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import { KeptAliveHttp, type KeptAliveHttpOptions } from '../keptAliveHttp';

export type GraphTransportOptions = Pick<KeptAliveHttpOptions, 'maxSockets' | 'idleTimeoutMs'>;

/**
 * The Graph client's last middleware: sends each request over node:https on kept-alive, bounded
 * connections (keptAliveHttp.ts) instead of fetch. On the bench day fetch cost about 1.2–1.7 ms
 * of CPU a request and opened a TLS connection every four requests (its idle sockets close after
 * 3 s under Graph's 5 s keep-alive); this costs about 0.2–0.3 ms and reuses the busiest
 * connections first. A failure without an answer rejects with the socket's error, which the sink
 * treats as an unknown outcome, as it did fetch's.
 */
export class GraphTransport implements Middleware {
  private readonly http: KeptAliveHttp;

  constructor(options: GraphTransportOptions = {}) {
    this.http = new KeptAliveHttp(options);
  }

  async execute(context: Context): Promise<void> {
    // The SDK passes URLs; a Request object (none of our calls makes one) goes the standard way.
    context.response = typeof context.request === 'string' ? await this.http.fetch(context.request, context.options) : await fetch(context.request, context.options as RequestInit);
  }
}
