// OpenTelemetry tracing through the standard API: a request is one server span named after its
// route template, carrying the route, status, tenant and request id; with tracing off no span is
// made even when an SDK is registered in the process; configured, the SDK is loaded and spans reach
// an OTLP/HTTP collector, continuing a trusted proxy's trace. Each case runs its own server, one at
// a time (in embedded mode the servers of one process share PGlite).
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage } from 'node:http';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger } from '../../../src/logger.ts';
import { startTestCaregate } from '../../support/caregate.ts';

const inMemory = () => {
  const exporter = new InMemorySpanExporter();
  return { exporter, provider: new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }) };
};

afterEach(() => trace.disable());

describe('with a tracer', () => {
  it('makes a server span per request: named after the route template, with the route, status, tenant and request id', async () => {
    const { exporter, provider } = inMemory();
    const logged: string[] = [];
    const cg = await startTestCaregate({ tracer: provider.getTracer('test'), log: createLogger('info', (line) => logged.push(line)), overrides: { logLevel: 'info' } });
    try {
      // The tenant's provider is built by a first request, so the one below is of the kind the
      // provider lane answers (src/app.ts) — but not while tracing is on: it gets its span too.
      expect((await fetch(`${cg.issuer()}/.well-known/openid-configuration`)).status).toBe(200);
      exporter.reset();
      // A traceparent from a client is not trusted without CAREGATE_TRUST_PROXY.
      const forged = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const res = await fetch(`${cg.issuer()}/.well-known/openid-configuration`, { headers: { traceparent: forged } });
      expect(res.status).toBe(200);
      const requestId = res.headers.get('x-request-id')!;
      await fetch(`${cg.baseUrl}/no/such/${requestId}`);

      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['GET /t/:tenant/.well-known/openid-configuration', 'GET unmatched']);
      const [discovery] = spans;
      expect(discovery!.kind).toBe(SpanKind.SERVER);
      expect(discovery!.attributes).toEqual({
        'http.request.method': 'GET', 'http.route': '/t/:tenant/.well-known/openid-configuration', 'http.response.status_code': 200,
        'caregate.request_id': requestId, 'caregate.tenant': 'demo',
      });
      expect(discovery!.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
      expect(discovery!.parentSpanContext).toBeUndefined();
      // The request's log line names its trace.
      const line = logged.map((l) => JSON.parse(l)).find((l) => l.requestId === requestId);
      expect(line).toMatchObject({ msg: 'request', traceId: discovery!.spanContext().traceId });
    } finally {
      await cg.close();
    }
  });
});

describe('with tracing off (the default)', () => {
  it('makes no span, even with an SDK registered in the process, and loads none itself', async () => {
    const { exporter, provider } = inMemory();
    trace.setGlobalTracerProvider(provider);
    const logged: string[] = [];
    const cg = await startTestCaregate({ log: createLogger('info', (line) => logged.push(line)), overrides: { logLevel: 'info' } });
    try {
      expect(cg.config.tracing).toBe(false);
      expect(cg.config.otlpEndpoint).toBeUndefined();
      expect((await fetch(`${cg.issuer()}/.well-known/openid-configuration`)).status).toBe(200);
      expect(exporter.getFinishedSpans()).toEqual([]);
      expect(logged.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request').every((l) => !('traceId' in l))).toBe(true);
      expect(logged.join('\n')).not.toContain('tracing on');
    } finally {
      await cg.close();
    }
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('loads the SDK and exports the spans over OTLP/HTTP, continuing the trace of a trusted proxy', async () => {
    const received: Array<{ path: string; type: string | undefined; body: string }> = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
    const proxyTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const cg = await startTestCaregate({ overrides: { otlpEndpoint: endpoint, trustProxy: true } });
    let requestId: string;
    try {
      const res = await fetch(`${cg.issuer()}/jwks`, { headers: { traceparent: `00-${proxyTrace}-00f067aa0ba902b7-01`, 'x-request-id': 'proxy-request-0001' } });
      expect(res.status).toBe(200);
      requestId = res.headers.get('x-request-id')!;
      expect(requestId).toBe('proxy-request-0001');
    } finally {
      // Closing flushes what the batch processor holds.
      await cg.close();
      collector.close();
    }
    expect(received.map((r) => [r.path, r.type])).toEqual([['/v1/traces', 'application/json']]);
    const spans = JSON.parse(received[0]!.body).resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans));
    const span = spans.find((s: any) => s.name === 'GET /t/:tenant/jwks');
    expect(span).toMatchObject({ traceId: proxyTrace, parentSpanId: '00f067aa0ba902b7' });
    const attributes = Object.fromEntries(span.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
    expect(attributes).toMatchObject({ 'http.route': '/t/:tenant/jwks', 'caregate.request_id': 'proxy-request-0001', 'caregate.tenant': 'demo' });
    const resource = JSON.parse(received[0]!.body).resourceSpans[0].resource.attributes.find((a: any) => a.key === 'service.name');
    expect(resource.value.stringValue).toBe('caregate');
  });
});
