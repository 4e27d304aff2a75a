// OpenTelemetry tracing, off by default. Only when CAREGATE_TRACING or OTEL_EXPORTER_OTLP_ENDPOINT is
// set is the SDK loaded (a dynamic import: a process without tracing never loads it) and registered
// as the global tracer provider, with an OTLP/HTTP exporter that reads the standard OTEL_*
// variables (endpoint, headers, service name, resource attributes) and W3C trace-context propagation.
// The request path uses @opentelemetry/api alone (server-span.ts), loaded only when there is a tracer.
import type { Tracer } from '@opentelemetry/api';
import type { Config } from '../config/index.ts';
import type { Logger } from '../logger.ts';

export interface Tracing {
  tracer: Tracer;
  /** Sends what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The traces path under the collector's base URL, as the OTLP exporter would build it from the variable. */
const exporterUrl = (endpoint: string | undefined) => (endpoint ? { url: `${endpoint.replace(/\/+$/, '')}/v1/traces` } : {});

export function tracingWanted(config: Pick<Config, 'tracing' | 'otlpEndpoint'>): boolean {
  return config.tracing || Boolean(config.otlpEndpoint);
}

export async function startTracing(config: Pick<Config, 'tracing' | 'otlpEndpoint'>, log: Logger): Promise<Tracing | undefined> {
  if (!tracingWanted(config)) return undefined;
  const [{ context, propagation, trace }, { TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { detectResources, envDetector, resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
  const resource = resourceFromAttributes({ 'service.name': 'caregate' }).merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter(exporterUrl(config.otlpEndpoint)) })] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  log.info('tracing on: spans are exported over OTLP/HTTP', { endpoint: config.otlpEndpoint ?? 'the OTLP default (http://localhost:4318)' });
  return {
    tracer: provider.getTracer('caregate'),
    async shutdown() {
      await provider.shutdown().catch((error: Error) => log.warn('tracing shutdown failed', { error: error.message }));
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
