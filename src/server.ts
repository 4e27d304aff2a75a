// `caregate serve`: open the runtime, create the first tenant on an empty database, listen — and,
// on the embedded database, take CLI command lines on a local socket — and shut down cleanly on
// SIGTERM/SIGINT.
import { createServer, type Server } from 'node:http';
import { createApp } from './app.ts';
import { bootstrap, scheduleAccessSweeps, scheduleAccessReviews, scheduleInactivitySweep } from './accounts/index.ts';
import type { Config } from './config/index.ts';
import { openRuntime, type Runtime } from './runtime.ts';
import { scheduleDirectorySync } from './directory/index.ts';
import { loadCliListener, type CliListener } from './cli/index.ts';
import { listenError } from './http/index.ts';
import { queries } from './storage/index.ts';
import { loadServerSpans, startIdleCollection, startMetricsServer, startTracing, type MetricsServer } from './observability/index.ts';
import type { Logger } from './logger.ts';
import type { Tracer } from '@opentelemetry/api';

const SWEEP_MS = 10 * 60_000;
const INACTIVITY_MS = 60 * 60_000;
const ACCESS_SWEEP_MS = 10 * 60_000;
const ACCESS_REVIEWS_MS = 15 * 60_000;

export interface RunningServer {
  runtime: Runtime;
  server: Server;
  url: string;
  /** The Prometheus endpoint (undefined with CAREGATE_METRICS_PORT=off). */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** The log (default: JSON lines on stderr at CAREGATE_LOG_LEVEL). */
  log?: Logger;
  /** A tracer to use instead of the one tracing settings would load (tests use an in-memory exporter). */
  tracer?: Tracer;
}

export async function startServer(config: Config, print: (line: string) => void = (l) => process.stdout.write(l + '\n'), options: ServeOptions = {}): Promise<RunningServer> {
  const runtime = await openRuntime(config, { migrate: config.migrateOnStart, log: options.log });
  const first = await bootstrap(runtime.accounts, { tenant: config.bootstrapTenant, password: config.bootstrapPassword });
  const tracing = options.tracer ? undefined : await startTracing(config, runtime.log);
  const tracer = options.tracer ?? tracing?.tracer;
  const app = createApp(runtime, { spans: tracer && (await loadServerSpans())(tracer, config.trustProxy) });
  const server = createServer(app.listener).listen(config.port, config.host);
  try {
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  } catch (error) {
    // Nothing keeps running when the port cannot be had: the store closes (PGlite's lock with it).
    await runtime.close();
    throw listenError(error as NodeJS.ErrnoException, config) ?? error;
  }
  const port = (server.address() as { port: number }).port;
  // Metrics on a listener of their own (127.0.0.1 unless configured): the public port never serves them.
  let metrics: MetricsServer | undefined;
  if (config.metricsPort !== 'off') {
    metrics = await startMetricsServer({ port: config.metricsPort, host: config.metricsHost, token: config.metricsToken }, runtime.metrics, runtime.log).catch(async (error: Error) => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await tracing?.shutdown();
      await runtime.close();
      throw error;
    });
  }

  // Expired grants and refresh tokens are removed periodically; any node may do it.
  const sweep = setInterval(() => {
    queries.oidcPayloads.removeExpired(runtime.storage).catch((error) => runtime.log.warn('sweep failed', { error }));
  }, SWEEP_MS);
  sweep.unref();
  // Accounts past their tenant's inactivity limit expire; one node per hour does it.
  const stopInactivity = scheduleInactivitySweep(
    {
      ...runtime,
      onError: (error) => runtime.log.warn('inactivity sweep failed', { error: error.message }),
      onExpired: (accounts) => runtime.log.info('expired inactive accounts', { count: accounts.length }),
    },
    INACTIVITY_MS,
  );
  // Access reviews: reminders before a campaign's deadline, and the deadline itself; one node per round.
  const stopAccessReviews = scheduleAccessReviews(
    { ...runtime, reviews: runtime.accounts.reviews, baseUrl: runtime.config.baseUrl, onError: (error, what) => runtime.log.warn(`${what} failed`, { error: error.message }) },
    ACCESS_REVIEWS_MS,
  );
  // Elevation requests nobody decided lapse, and unreviewed break-glass uses are re-alerted daily; one node per round.
  const stopAccessSweeps = scheduleAccessSweeps({ ...runtime, onError: (error) => runtime.log.warn('access sweep failed', { error: error.message }) }, ACCESS_SWEEP_MS);
  // Directory sources sync on their own schedules; one node runs each source's turn.
  const stopDirectorySync = scheduleDirectorySync({
    storage: runtime.storage, ephemeral: runtime.ephemeral, directory: runtime.ldap,
    onError: (error, source) => runtime.log.warn('directory sync failed', { source, error: error.message }),
    onRun: (s) => runtime.log[s.status === 'succeeded' ? 'info' : 'warn']('directory sync', { tenant: s.tenant, source: s.source, mode: s.mode, status: s.status, reason: s.reason, created: s.created, updated: s.updated, disabled: s.disabled, reenabled: s.reenabled, errors: s.errors, durationMs: s.durationMs }),
  }, config.directorySyncTickSeconds * 1000);

  // Memory a burst of traffic took goes back to the system once the node is quiet again.
  const idleCollection = startIdleCollection({
    growthMb: config.idleCollectMb,
    onCollected({ beforeBytes, afterBytes, ms }) {
      runtime.metrics.idleCollection(beforeBytes - afterBytes);
      runtime.log.info('memory returned while quiet', { residentMbBefore: Math.round(beforeBytes / 1048576), residentMbAfter: Math.round(afterBytes / 1048576), pauseMs: Math.round(ms) });
    },
  });

  // PGlite is this process's alone, and so is the in-memory store: CLI commands run in here.
  let cli: CliListener | undefined;
  if (runtime.storage.embedded) {
    const listenForCli = await loadCliListener();
    cli = await listenForCli(runtime, config.dataDir).catch((error: Error) => {
      runtime.log.warn('CLI commands cannot reach this server', { error: error.message });
      return undefined;
    });
  }

  const issuer = `${config.baseUrl}/t/${config.bootstrapTenant}`;
  runtime.log.info('caregate listening', { port, metrics: metrics?.url ?? 'off', baseUrl: config.baseUrl, database: runtime.storage.embedded ? 'pglite' : 'postgresql', ephemeral: runtime.ephemeral.kind });
  if (first) {
    print(`Caregate created tenant "${first.tenant}" with an administrator "${first.username}".`);
    if (first.generatedPassword) print(`  Password (shown once, change it): ${first.generatedPassword}`);
    else print('  Password: the value of CAREGATE_BOOTSTRAP_PASSWORD.');
  }
  print(`Caregate is running at ${config.baseUrl} (port ${port}).`);
  print(`  Admin console:            ${issuer}/admin`);
  print(`  Sign in to your account:  ${issuer}/account`);
  print(`  Discovery:                ${issuer}/.well-known/openid-configuration`);
  if (metrics) print(`  Metrics (Prometheus):     ${metrics.url}${config.metricsToken ? ' (with CAREGATE_METRICS_TOKEN)' : ''}`);
  print(`  Register an application:  npx caregate app create --tenant ${config.bootstrapTenant} --name MyApp --redirect-uri https://myapp.example/callback`);
  print(`  then point it at the issuer ${issuer}.`);
  if (runtime.storage.embedded) print(`  Embedded mode: data in ${config.dataDir}; CLI commands run inside this server${cli ? '' : ' — not now: its socket could not be opened (see the log)'}.`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(sweep);
      stopInactivity();
      stopAccessSweeps();
      stopAccessReviews();
      stopDirectorySync();
      idleCollection.stop();
      app.stores.stop();
      await cli?.close();
      await metrics?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await tracing?.shutdown();
      await runtime.close();
    })());
  return { runtime, server, url: `http://127.0.0.1:${port}`, metricsUrl: metrics?.url, close };
}
