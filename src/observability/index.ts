// Operations: Prometheus metrics (on a listener of their own), the request id and request log line,
// sign-in and OpenID event observers, OpenTelemetry tracing when it is configured, and the collection
// that hands memory back once a burst of traffic is over.
export { createMetrics, type Metrics, type StoreHealth } from './metrics.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { koaObserveRequest, observeDirectRequest } from './koa-observe-request.ts';
export { currentRequestId } from './request-context.ts';
export { logWithRequestId } from './log-with-request-id.ts';
export { routeTemplate, tenantRouteTemplate } from './route-template.ts';
export { observeSignIns } from './observe-sign-ins.ts';
export { observeProvider } from './observe-provider.ts';
export { startTracing, type Tracing } from './tracing.ts';
export type { StartServerSpan } from './server-span.ts';
/** The server spans of requests, for a tracer (loads @opentelemetry/api: only when tracing is on). */
export const loadServerSpans = async () => (await import('./server-span.ts')).serverSpans;
export { startIdleCollection, type Collected } from './idle-collection.ts';
