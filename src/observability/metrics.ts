// Caregate's Prometheus metrics, one registry per runtime (two servers in one test process keep
// theirs apart). Every label takes values from a small known set — a route template, a grant type,
// a sign-in method, a tenant's directory source — never a raw path, an id or what a caller typed,
// so the number of series stays bounded whatever the traffic.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SyncEnd, SyncProgress } from '../directory/index.ts';

type Up = 'up' | 'down';
export interface StoreHealth {
  database: Up;
  ephemeral: Up;
}

const SIGN_IN_METHODS: Record<string, string> = { pwd: 'password', webauthn: 'passkey', federation: 'federation' };
const SECOND_FACTORS = new Set(['totp', 'email', 'sms', 'recovery', 'webauthn']);
const GRANT_TYPES = new Set([
  'authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code',
  'urn:openid:params:grant-type:ciba', 'urn:ietf:params:oauth:grant-type:token-exchange',
]);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** A reason or error code as the code writes them (snake_case words); anything else is "other". */
const word = (value: unknown): string => (typeof value === 'string' && /^[a-z][a-z0-9_]{0,39}$/.test(value) ? value : 'other');

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];

  const requestSeconds = new Histogram({
    name: 'caregate_http_request_duration_seconds', help: 'HTTP requests by route template, method and status, from arrival to the last byte handed to the socket.',
    labelNames: ['method', 'route', 'status'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
  });
  const signIns = new Counter({
    name: 'caregate_sign_ins_total', help: 'First-factor sign-in decisions by method (password, passkey, federation), outcome and, for a refusal, its reason.',
    labelNames: ['method', 'outcome', 'reason'] as const, registers,
  });
  const secondFactors = new Counter({
    name: 'caregate_second_factor_checks_total', help: 'Second-factor checks at sign-in by method (totp, email, sms, recovery, webauthn) and outcome.',
    labelNames: ['method', 'outcome'] as const, registers,
  });
  const lockouts = new Counter({
    name: 'caregate_lockouts_total', help: 'Accounts locked after repeated wrong passwords or codes, by lock mode (timed, admin).',
    labelNames: ['mode'] as const, registers,
  });
  const tokenRequests = new Counter({
    name: 'caregate_token_requests_total', help: 'Token endpoint requests by grant type and outcome (and the OAuth error of a refusal).',
    labelNames: ['grant_type', 'outcome', 'error'] as const, registers,
  });
  const tokensIssued = new Counter({
    name: 'caregate_tokens_issued_total', help: 'Tokens and codes issued, by kind (access_token, client_credentials, refresh_token, authorization_code).',
    labelNames: ['kind'] as const, registers,
  });
  let stores: () => StoreHealth | undefined = () => undefined;
  new Gauge({
    name: 'caregate_store_up', help: 'Whether the store answered its last health probe (1) or not (0): database (PostgreSQL or embedded) and ephemeral (Redis or memory).',
    labelNames: ['store'] as const, registers,
    collect() {
      const health = stores();
      if (!health) return;
      this.set({ store: 'database' }, health.database === 'up' ? 1 : 0);
      this.set({ store: 'ephemeral' }, health.ephemeral === 'up' ? 1 : 0);
    },
  });
  const syncRuns = new Counter({
    name: 'caregate_directory_sync_runs_total', help: 'Directory sync runs ended, by tenant, source, mode, dry run and status (succeeded, refused, failed).',
    labelNames: ['tenant', 'source', 'mode', 'dry_run', 'status'] as const, registers,
  });
  const syncSeconds = new Histogram({
    name: 'caregate_directory_sync_duration_seconds', help: 'Directory sync run durations by mode and status.',
    labelNames: ['mode', 'status'] as const, buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600], registers,
  });
  const syncChanges = new Counter({
    name: 'caregate_directory_sync_changes_total', help: 'People changed by directory syncs (not dry runs), by tenant, source and change (created, updated, disabled, reenabled, errors).',
    labelNames: ['tenant', 'source', 'change'] as const, registers,
  });
  const syncRunning = new Gauge({ name: 'caregate_directory_sync_running', help: 'Whether this node is running a sync of the source now.', labelNames: ['tenant', 'source'] as const, registers });
  const syncEntries = new Gauge({ name: 'caregate_directory_sync_entries_read', help: 'Directory entries the running (or last) sync of the source has read.', labelNames: ['tenant', 'source'] as const, registers });
  const syncApplied = new Gauge({ name: 'caregate_directory_sync_changes_applied', help: 'Changes the running (or last) sync of the source has applied so far.', labelNames: ['tenant', 'source'] as const, registers });
  const syncPlanned = new Gauge({ name: 'caregate_directory_sync_changes_planned', help: 'Changes the running (or last) sync of the source planned to apply.', labelNames: ['tenant', 'source'] as const, registers });
  const syncLastSuccess = new Gauge({
    name: 'caregate_directory_sync_last_success_timestamp_seconds', help: 'When a sync of the source last succeeded on this node (Unix time; dry runs not counted).',
    labelNames: ['tenant', 'source'] as const, registers,
  });

  const idleCollections = new Counter({
    name: 'caregate_idle_collections_total', help: 'Full garbage collections this node ran once traffic was quiet and memory had grown, handing freed memory back to the system.',
    registers,
  });
  const idleReturnedBytes = new Counter({
    name: 'caregate_idle_collection_returned_bytes_total', help: 'Resident memory those collections handed back to the system, bytes.',
    registers,
  });

  let defaults = false;
  return {
    registry,
    /** Node's process metrics too (CPU, memory, event loop lag, GC): only for a serving process. */
    collectProcessMetrics() {
      if (defaults) return;
      defaults = true;
      collectDefaultMetrics({ register: registry });
    },
    /** Store health as the store monitor last saw it, read at each scrape. */
    watchStores(read: () => StoreHealth) {
      stores = read;
    },
    request(method: string, route: string, status: number, seconds: number) {
      requestSeconds.observe({ method: HTTP_METHODS.has(method) ? method : 'other', route, status: String(status) }, seconds);
    },
    signIn(method: unknown, outcome: 'success' | 'failure', reason?: unknown) {
      const m = typeof method === 'string' ? (SIGN_IN_METHODS[method] ?? 'other') : 'other';
      signIns.inc(outcome === 'success' ? { method: m, outcome } : { method: m, outcome, reason: word(reason) });
    },
    secondFactor(method: unknown, outcome: 'success' | 'failure') {
      secondFactors.inc({ method: typeof method === 'string' && SECOND_FACTORS.has(method) ? method : 'other', outcome });
    },
    lockout(mode: 'timed' | 'admin') {
      lockouts.inc({ mode });
    },
    tokenRequest(grantType: unknown, outcome: 'success' | 'failure', error?: unknown) {
      const grant_type = typeof grantType === 'string' && GRANT_TYPES.has(grantType) ? grantType : 'other';
      tokenRequests.inc(outcome === 'success' ? { grant_type, outcome } : { grant_type, outcome, error: word(error) });
    },
    tokenIssued(kind: 'access_token' | 'client_credentials' | 'refresh_token' | 'authorization_code') {
      tokensIssued.inc({ kind });
    },
    idleCollection(returnedBytes: number) {
      idleCollections.inc();
      if (returnedBytes > 0) idleReturnedBytes.inc(returnedBytes);
    },
    syncStarted(tenant: string, source: string) {
      const labels = { tenant, source };
      syncRunning.set(labels, 1);
      for (const gauge of [syncEntries, syncApplied, syncPlanned]) gauge.set(labels, 0);
    },
    syncProgress(tenant: string, source: string, progress: SyncProgress) {
      const labels = { tenant, source };
      syncEntries.set(labels, progress.entries);
      syncApplied.set(labels, progress.applied);
      syncPlanned.set(labels, progress.total);
    },
    syncFinished(s: SyncEnd) {
      const labels = { tenant: s.tenant, source: s.source };
      syncRunning.set(labels, 0);
      syncRuns.inc({ ...labels, mode: s.mode, dry_run: String(s.dryRun), status: s.status });
      syncSeconds.observe({ mode: s.mode, status: s.status }, s.durationMs / 1000);
      if (s.dryRun) return;
      for (const change of ['created', 'updated', 'disabled', 'reenabled', 'errors'] as const) if (s[change]) syncChanges.inc({ ...labels, change }, s[change]);
      if (s.status === 'succeeded') syncLastSuccess.set(labels, Date.now() / 1000);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
