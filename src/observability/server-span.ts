// A request's server span, when tracing is on. Loaded only then, with @opentelemetry/api (about a
// hundred modules): a process without tracing loads no part of OpenTelemetry.
import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { Context } from 'koa';

export interface ServerSpan {
  /** Runs the rest of the request inside the span: what it starts or logs is part of it. */
  run<T>(handle: () => Promise<T>): Promise<T>;
  /** Names the span by its route, records the status (and the tenant), and ends it. */
  end(route: string, status: number, tenant: string | undefined): void;
  readonly traceId: string;
}

export type StartServerSpan = (ctx: Context, requestId: string) => ServerSpan;

/** `trustProxy`: a trusted proxy's trace context (traceparent) is continued. */
export function serverSpans(tracer: Tracer, trustProxy: boolean): StartServerSpan {
  return (ctx, requestId) => {
    const span = tracer.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method, 'caregate.request_id': requestId } },
      trustProxy ? propagation.extract(context.active(), ctx.headers) : undefined);
    return {
      run: (handle) => context.with(trace.setSpan(context.active(), span), handle),
      end(route, status, tenant) {
        span.updateName(`${ctx.method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': status, ...(tenant ? { 'caregate.tenant': tenant } : {}) });
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
      get traceId() {
        return span.spanContext().traceId;
      },
    };
  };
}
