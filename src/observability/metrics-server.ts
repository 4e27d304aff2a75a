// The Prometheus endpoint, on a listener of its own: `GET /metrics` on CAREGATE_METRICS_PORT, bound
// to CAREGATE_METRICS_HOST (127.0.0.1 unless configured), never on the public port. With
// CAREGATE_METRICS_TOKEN set it also wants `Authorization: Bearer <token>`, for a scraper that
// reaches it over a network.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';

export interface MetricsListenOptions {
  port: number;
  host: string;
  token?: string;
}

export interface MetricsServer {
  /** Where it listens, e.g. http://127.0.0.1:9464/metrics. */
  url: string;
  close(): Promise<void>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const LOOPBACK = /^(127\.|::1$|localhost$)/;

function answer(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(`${text}\n`);
}

export async function startMetricsServer({ port, host, token }: MetricsListenOptions, metrics: Metrics, log: Logger): Promise<MetricsServer> {
  const expected = token ? digest(`Bearer ${token}`) : undefined;
  metrics.collectProcessMetrics();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') return answer(res, 404, 'Not found: metrics are at /metrics.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'Method not allowed.', { allow: 'GET, HEAD' });
    // Compared as digests, in constant time: the answer does not tell how much of a guess was right.
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return answer(res, 401, 'This endpoint needs the metrics token (Authorization: Bearer …).', { 'www-authenticate': 'Bearer realm="caregate-metrics"' });
    }
    metrics.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: Error) => {
        log.error('metrics could not be collected', { error });
        answer(res, 500, 'Metrics could not be collected; see the log.');
      },
    );
  });
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`CAREGATE_METRICS_PORT ${port} is already in use on ${host}: stop what listens there, set CAREGATE_METRICS_PORT to a free port, or to off for no metrics listener`, { setting: 'CAREGATE_METRICS_PORT', reason: 'metrics_port_in_use', port });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') throw new ConfigError(`CAREGATE_METRICS_HOST ${host} is not an address of this machine: set it to one of its addresses (127.0.0.1 by default)`, { setting: 'CAREGATE_METRICS_HOST', reason: 'address_not_available', host });
    throw error;
  }
  const bound = (server.address() as { port: number }).port;
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  if (!token && !LOOPBACK.test(host)) {
    log.warn('metrics are served to the network without a token: set CAREGATE_METRICS_TOKEN, or keep CAREGATE_METRICS_HOST on 127.0.0.1', { host, port: bound });
  }
  return {
    url: `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
