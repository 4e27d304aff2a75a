// A sync of one directory source, as a list of steps:
//   1. lock    — one run per source at a time, across nodes (the ephemeral store), a run row to
//                show its progress;
//   2. read    — the whole search (full) or what changed since the watermark (incremental), into
//                memory, before anything is written: a search that fails part-way changes nothing;
//   3. plan    — who is created, updated, disabled (disabled in the directory, or gone from a full
//                search) and re-enabled; an empty search, or more disables than the threshold
//                allows, stops the run here;
//   4. apply   — 250 people to a transaction: new people written together (one insert per
//                table), everyone else — and a batch whose insert fails — each in a savepoint of
//                their own, through the same provisioning as a federated sign-in (mapping rules,
//                PHI refusal), every change audited with the run; a dry run captures those
//                changes as the diff and rolls back;
//   5. finish  — the new watermark (only when everything applied), the run's result, one
//                `directory.sync` audit event.
import { createHash, randomUUID } from 'node:crypto';
import { revokeGrants, type SessionIndex } from '../accounts/index.ts';
import type { AuditActor, AuditInput, AuditWriter } from '../audit/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { isUniqueViolation, queries, type DirectoryLink, type DirectoryRun, type Repos, type Storage, type Tenant } from '../storage/index.ts';
import { provisionNewUsersIn, provisionUserIn, UpstreamError, type ProvisionCache, type UpstreamPolicy } from '../upstream/index.ts';
import { DirectoryError } from './directory-error.ts';
import { changedSince, currentWatermark, readGroups, toEntry, userAttributes, type DirectoryEntry, type Watermark } from './directory-reader.ts';
import { connect } from './ldap-connection.ts';
import type { LoadedSource } from './source-service.ts';

export interface SyncDeps {
  storage: Storage;
  audit: AuditWriter;
  ephemeral: EphemeralStore;
  sessions: SessionIndex;
}

export interface SyncRequest {
  tenant: Tenant;
  source: LoadedSource;
  mode: 'full' | 'incremental';
  dryRun?: boolean;
  trigger: DirectoryRun['trigger'];
  actor: AuditActor;
  /** Allow this many disables in this run, whatever the threshold (an admin who has checked). */
  allowDisables?: number;
  /** Called after each page read and every few people applied (tests stop the directory here). */
  onProgress?(progress: SyncProgress): void | Promise<void>;
}

export interface SyncProgress {
  phase: 'reading' | 'applying';
  groups: number;
  entries: number;
  pages: number;
  applied: number;
  total: number;
}

export type ChangeKind = 'create' | 'update' | 'disable' | 'reenable';

/** One person's change in a dry run's diff: what would be recorded in the audit log. */
export interface DiffLine {
  change: ChangeKind;
  subject: string;
  username?: string;
  dn?: string;
  reason?: string;
  events: Array<{ action: string; before?: object | null; after?: object | null }>;
}

export interface SyncSummary {
  runId: string;
  tenant: string;
  source: string;
  mode: 'full' | 'incremental';
  /** Why an incremental run became full (no watermark, another server, a group changed). */
  escalated?: string;
  dryRun: boolean;
  status: 'succeeded' | 'failed' | 'refused';
  created: number;
  updated: number;
  disabled: number;
  reenabled: number;
  unchanged: number;
  errors: number;
  entries: number;
  groups: number;
  durationMs: number;
  errorList: Array<{ subject?: string; dn?: string; reason: string; detail: string }>;
  diff?: DiffLine[];
  reason?: string;
  message?: string;
}

type Link = DirectoryLink;

const LOCK_TTL = 120;
const MAX_LISTED = 1000;
const BATCH = 250;

export function policyOf(source: LoadedSource, jit = true): UpstreamPolicy {
  const s = source.settings;
  return {
    upstream: `ldap:${source.row.key}`, origin: 'ldap-group', jit, linkByEmail: s.linkByEmail,
    // The directory is the organisation's own: its addresses are taken as verified.
    requireVerifiedEmail: false, profileFields: s.profileFields, mappings: s.mappings,
  };
}

/** What a sync last applied for an entry: the same digest, under the same rules, is nothing to do. */
export function entryDigest(source: LoadedSource, entry: DirectoryEntry): string {
  const { identity, profile } = entry;
  return createHash('sha256').update(JSON.stringify([source.row.updatedAt.getTime(), identity.username, identity.email, identity.displayName, identity.phone, identity.attributes, profile])).digest('base64url');
}

/**
 * Takes the lock and opens the run (a run already going fails here, as `busy`); `done` settles
 * with the result. A refused or failed run resolves too (status, reason): only an unexpected
 * fault — the database gone — rejects.
 */
export async function startSync(deps: SyncDeps, request: SyncRequest): Promise<{ runId: string; done: Promise<SyncSummary> }> {
  const { storage, ephemeral } = deps;
  const { tenant, source } = request;
  const started = new Date();
  const runId = randomUUID();
  const lockKey = `directory:sync:${source.row.id}`;
  const summary: SyncSummary = {
    runId, tenant: tenant.slug, source: source.row.key, mode: request.mode, dryRun: Boolean(request.dryRun), status: 'succeeded',
    created: 0, updated: 0, disabled: 0, reenabled: 0, unchanged: 0, errors: 0, entries: 0, groups: 0, durationMs: 0, errorList: [],
    ...(request.dryRun ? { diff: [] } : {}),
  };

  // 1. Lock: one run per source, whichever node or command started it.
  if (!source.row.enabled && request.trigger === 'schedule') throw new DirectoryError('source_disabled', `directory source "${source.row.key}" is disabled`);
  if (!(await ephemeral.setIfAbsent(lockKey, runId, LOCK_TTL))) {
    throw new DirectoryError('busy', `another sync of "${source.row.key}" is running; try again when it has finished`);
  }
  try {
    // A run whose node died left its row "running": it stopped when its heartbeat did.
    await queries.directorySync.abandonRunning(storage, source.row.id);
    await storage.directoryRuns.insert({
      id: runId, tenantId: tenant.id, sourceId: source.row.id, mode: request.mode, trigger: request.trigger, dryRun: summary.dryRun,
      status: 'running', startedAt: started, heartbeatAt: started, finishedAt: null, progress: {}, summary: null, error: null,
    });
  } catch (error) {
    await ephemeral.del(lockKey).catch(() => {});
    throw error;
  }
  return { runId, done: run() };

  async function run(): Promise<SyncSummary> {
    const progress: SyncProgress = { phase: 'reading', groups: 0, entries: 0, pages: 0, applied: 0, total: 0 };
    let lastBeat = 0;
    // The lock is kept on a timer of its own (a slow server must not let it lapse mid-run), and only
    // while it is still this run's: a run that lost it stops at its next step instead of racing another.
    let lost = false;
    const keeper = setInterval(() => {
      void (async () => {
        if ((await ephemeral.get(lockKey)) !== runId) lost = true;
        else await ephemeral.set(lockKey, runId, LOCK_TTL);
      })().catch(() => {});
    }, (LOCK_TTL / 4) * 1000);
    keeper.unref();
    const beat = async (force = false) => {
      if (lost) throw new DirectoryError('busy', 'this run lost its lock (it stalled longer than the lock lasts, and another run may have started); it stopped');
      await request.onProgress?.(progress);
      if (!force && Date.now() - lastBeat < 1000) return;
      lastBeat = Date.now();
      await queries.directorySync.heartbeat(storage, runId, progress);
    };

    try {
      // 2. Read everything first.
      const read = await readDirectory(source, summary, progress, beat);
      summary.entries = read.entries.length;
      summary.groups = progress.groups;
      // 3. Plan, and the safety checks, before anything is written.
      const plan = await planChanges(storage, tenant, source, summary.mode, read.entries, { allowDisables: request.allowDisables, complete: summary.errors === 0 });
      summary.unchanged = plan.unchanged;
      // 4. Apply.
      progress.phase = 'applying';
      progress.total = plan.changes.length;
      await beat(true);
      await applyChanges(deps, tenant, source, plan.changes, runId, summary, async (count) => {
        progress.applied += count;
        await beat();
      });
      // 5. The watermark moves on (a person who failed has no digest of this run: the next full run tries them again).
      if (!summary.dryRun) {
        await queries.directorySync.advance(storage, source.row.id, read.watermark, summary.mode === 'full');
      }
    } catch (error) {
      const refused = error instanceof DirectoryError && (error.reason === 'threshold' || error.reason === 'empty');
      if (!(error instanceof DirectoryError)) throw await fail(error as Error);
      summary.status = refused ? 'refused' : 'failed';
      summary.reason = error.reason;
      summary.message = error.message;
    } finally {
      clearInterval(keeper);
      summary.durationMs = Date.now() - started.getTime();
    }
    await finish(progress);
    return summary;
  }

  async function finish(progress: object) {
    // A dry run keeps its diff for the admin API; a real run's changes are in the audit log.
    const stored = { ...summary, errorList: summary.errorList.slice(0, 100) };
    // An incremental run that had to read everything is recorded as the full run it was.
    await queries.directorySync.finishRun(storage, runId, { status: summary.status, progress, summary: stored, error: summary.message ?? null, mode: summary.mode });
    const { errorList, diff, ...counts } = summary;
    await deps.audit.record({
      tenantId: tenant.id, actor: request.actor, action: 'directory.sync', target: { type: 'directory_source', id: source.row.id },
      outcome: summary.status === 'succeeded' ? 'success' : 'failure',
      details: { ...counts, run: runId, trigger: request.trigger, errorList: errorList.slice(0, 20) },
    });
    if ((await ephemeral.get(lockKey)) === runId) await ephemeral.del(lockKey);
  }

  /** An unexpected failure (the database went away): record what can be, release the lock, rethrow. */
  async function fail(error: Error): Promise<Error> {
    summary.status = 'failed';
    summary.reason = 'internal_error';
    summary.message = error.message;
    summary.durationMs = Date.now() - started.getTime();
    await finish({}).catch(() => ephemeral.del(lockKey).catch(() => {}));
    return error;
  }
}

async function readDirectory(source: LoadedSource, summary: SyncSummary, progress: SyncProgress, beat: () => Promise<void>) {
  const s = source.settings;
  const conn = await connect(s, { dn: s.bindDn, password: source.bindPassword });
  try {
    const started = new Date();
    const watermark: Watermark | undefined = await currentWatermark(conn, s, started);
    const previous = source.row.watermark;
    // Incremental only from a watermark this server wrote for this attribute, and only while no
    // group changed (a membership removed in AD does not change the user's entry).
    if (summary.mode === 'incremental') {
      if (!previous) summary.escalated = 'no watermark yet';
      else if (previous.server !== (watermark?.server ?? conn.url)) summary.escalated = `the watermark belongs to ${previous.server}`;
      else if (previous.attribute !== s.changeAttribute) summary.escalated = 'the change attribute changed';
      else if ((await conn.search(s.groupBaseDn, changedSince(s.groupFilter, previous), ['1.1'])).length) summary.escalated = 'a group changed';
      if (summary.escalated) summary.mode = 'full';
    }
    const groups = await readGroups(conn, s, async () => {
      progress.pages++;
      await beat();
    });
    progress.groups = groups.size;
    // No groups while rules test them would strip every mapped role: a wrong base or filter, or an ACL.
    if (!groups.size && s.mappings.some((r) => r.claim === 'groups' || r.claim === 'groupDns')) {
      throw new DirectoryError('empty', `the group search of ${s.groupBaseDn} with ${s.groupFilter} found no groups, and mapping rules test groups; nobody was changed`);
    }
    const filter = summary.mode === 'full' ? s.userFilter : changedSince(s.userFilter, previous!);
    const { attributes, binary } = userAttributes(s);
    const entries: DirectoryEntry[] = [];
    for await (const page of conn.pages(s.baseDn, filter, attributes, { binary })) {
      for (const raw of page) {
        const entry = toEntry(raw, s, source.row.key, groups);
        if (entry) entries.push(entry);
        else {
          summary.errors++;
          summary.errorList.push({ dn: raw.dn, reason: 'no_id', detail: `the entry has no ${s.attributes.id}` });
        }
      }
      progress.entries = entries.length;
      progress.pages++;
      await beat();
    }
    return { entries, watermark };
  } finally {
    await conn.close();
  }
}

interface Change {
  kind: ChangeKind;
  entry?: DirectoryEntry;
  link?: Link;
  reason?: 'disabled_in_directory' | 'gone';
}

async function planChanges(storage: Storage, tenant: Tenant, source: LoadedSource, mode: 'full' | 'incremental', entries: DirectoryEntry[], { allowDisables, complete }: { allowDisables?: number; complete: boolean }) {
  const upstream = `ldap:${source.row.key}`;
  const links = new Map((await queries.directorySync.links(storage, tenant.id, upstream)).map((l) => [l.subject, l]));
  if (mode === 'full' && entries.length === 0) {
    throw new DirectoryError('empty', `the search of ${source.settings.baseDn} with ${source.settings.userFilter} found no users; a directory without users is taken as a fault, and nobody was changed`);
  }
  const changes: Change[] = [];
  let unchanged = 0;
  const seen = new Set<string>();
  for (const entry of entries) {
    const link = links.get(entry.identity.subject);
    seen.add(entry.identity.subject);
    if (entry.disabled) {
      if (link?.status === 'active') changes.push({ kind: 'disable', entry, link, reason: 'disabled_in_directory' });
      else unchanged++;
    } else if (!link) changes.push({ kind: 'create', entry });
    else if (link.status === 'disabled' && link.disabledAt) changes.push({ kind: 'reenable', entry, link });
    // An account an admin disabled, locked or that expired stays as the admin or the policy left it.
    else if (link.status !== 'active' || link.digest === entryDigest(source, entry)) unchanged++;
    else changes.push({ kind: 'update', entry, link });
  }
  // Gone from a full search: disabled (an incremental search cannot see who left), unless some entry
  // could not be read (one without its id would look gone).
  if (mode === 'full' && complete) {
    for (const link of links.values()) if (!seen.has(link.subject) && link.status === 'active') changes.push({ kind: 'disable', link, reason: 'gone' });
  }
  const disables = changes.filter((c) => c.kind === 'disable').length;
  const users = [...links.values()].filter((l) => l.status === 'active').length;
  const { disableThresholdPercent: percent, disableThresholdMinimum: minimum } = source.settings;
  const limit = allowDisables ?? Math.max(minimum, Math.floor((users * percent) / 100));
  if (disables > limit) {
    throw new DirectoryError('threshold', `this run would disable ${disables} of the source's ${users} active users, more than its threshold allows (${limit}: ${percent}% or at least ${minimum}); nothing was changed. Check the directory; if the disables are intended, run it once with --allow-disables ${disables}`, { disables, users, limit });
  }
  // Disables last: a run that a fault stops part-way has done the harmless part first.
  const order: Record<ChangeKind, number> = { reenable: 0, create: 1, update: 2, disable: 3 };
  changes.sort((a, b) => order[a.kind] - order[b.kind]);
  return { changes, unchanged };
}

type Applied = { change: Change; outcome: ChangeKind | 'unchanged'; events: DiffLine['events'] } | { change: Change; error: Error };
type RecordChange = (input: Omit<AuditInput, 'tenantId' | 'actor'>) => Promise<void>;

/** jsonb keeps its own key order: compare the fields, not the text. */
const sameProfile = (a: Record<string, string> | null, b: Record<string, string>) =>
  a !== null && Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

/** Rolls a dry run's transaction back once its changes have been captured. */
class DryRunRollback extends Error {}

async function applyChanges(deps: SyncDeps, tenant: Tenant, source: LoadedSource, changes: Change[], runId: string, summary: SyncSummary, onApplied: (count: number) => Promise<void>) {
  const policy = policyOf(source);
  const actor: AuditActor = { type: 'system', id: policy.upstream };
  const tag = { run: runId };
  // Roles, scopes and teams, read once for the run.
  const cache: ProvisionCache = {};
  const auditInput = (e: Omit<AuditInput, 'tenantId' | 'actor'>): AuditInput => ({ tenantId: tenant.id, actor, ...e, details: { ...tag, ...e.details } });
  const diffEvents = (events: AuditInput[]) => events.map((e) => ({ action: e.action, before: e.before, after: e.after }));

  // A batch to a transaction. New people are written together (one insert per table); everyone
  // else, and a batch whose set-based write fails, person by person, each in a savepoint of their
  // own so that one refusal rolls back only their changes. A batch's audit events are appended
  // together, as it commits; a dry run captures them as the diff and rolls back.
  let results: Applied[] = [];
  for (let i = 0; i < changes.length; i += BATCH) {
    const batch = changes.slice(i, i + BATCH);
    const attempt = async (together: boolean) => {
      results = [];
      const recorded: AuditInput[] = [];
      try {
        await deps.storage.transaction(async (tx) => {
          const single = together ? await applyNew(tx, batch, recorded) : batch;
          for (const change of single) await applyInSavepoint(tx, change, recorded);
          if (summary.dryRun) throw new DryRunRollback();
          await deps.audit.recordMany(recorded, tx);
        });
      } catch (error) {
        if (!(error instanceof DryRunRollback)) throw error;
      }
    };
    try {
      await attempt(true);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await attempt(false);
    }
    for (const result of results) tally(result);
    await onApplied(batch.length);
  }

  /** Creates the batch's new people together; returns the changes left to apply one by one. */
  async function applyNew(tx: Repos, batch: Change[], recorded: AuditInput[]): Promise<Change[]> {
    const creates = batch.filter((c) => c.kind === 'create');
    const provisioned = await provisionNewUsersIn(tx, tenant, policy,
      creates.map((c) => ({ identity: c.entry!.identity, linkRecord: { syncDigest: entryDigest(source, c.entry!), profile: c.entry!.profile } })), { tag, cache });
    const rest = batch.filter((c) => c.kind !== 'create');
    provisioned.forEach((p, n) => {
      const change = creates[n]!;
      if ('individually' in p) rest.push(change);
      else if ('error' in p) results.push({ change, error: p.error });
      else {
        const events = p.events.map(auditInput);
        recorded.push(...events);
        results.push({ change, outcome: 'create', events: diffEvents(events) });
      }
    });
    return rest;
  }

  async function applyInSavepoint(tx: Repos, change: Change, recorded: AuditInput[]) {
    // The person's events are kept aside until their savepoint is released: a refusal records nothing.
    const events: AuditInput[] = [];
    const audit: AuditWriter = {
      record: async (e) => void events.push(auditInput(e)),
      recordMany: async (list) => void events.push(...list.map(auditInput)),
      verify: deps.audit.verify,
    };
    const done = await queries.directorySync.inSavepoint(tx, () => applyOne(tx, change, audit), (error) => error instanceof UpstreamError || isUniqueViolation(error));
    if ('error' in done) results.push({ change, error: done.error as Error });
    else {
      recorded.push(...events);
      results.push({ change, outcome: done.value, events: diffEvents(events) });
    }
  }

  function tally(result: Applied) {
    const { change } = result;
    if ('error' in result) {
      const { error } = result;
      summary.errors++;
      if (summary.errorList.length < MAX_LISTED) {
        const reason = error instanceof UpstreamError ? error.reason : 'conflict';
        summary.errorList.push({ subject: change.entry?.identity.subject ?? change.link?.subject, dn: change.entry?.dn, reason, detail: error instanceof UpstreamError ? error.detail : 'another account holds this username or email' });
      }
      return;
    }
    const counter = ({ create: 'created', update: 'updated', disable: 'disabled', reenable: 'reenabled', unchanged: 'unchanged' } as const)[result.outcome];
    summary[counter]++;
    if (summary.diff && result.outcome !== 'unchanged' && summary.diff.length < MAX_LISTED) {
      summary.diff.push({ change: result.outcome, subject: change.entry?.identity.subject ?? change.link!.subject, username: change.entry?.identity.username ?? change.link?.username, dn: change.entry?.dn, reason: change.reason, events: result.events });
    }
  }

  /** One person's change; what it came to (an update that changed nothing is "unchanged"). */
  async function applyOne(tx: Repos, change: Change, audit: AuditWriter): Promise<ChangeKind | 'unchanged'> {
    const record = (input: Omit<AuditInput, 'tenantId' | 'actor'>) =>
      audit.record({ tenantId: tenant.id, actor, ...input, details: { upstream: policy.upstream, ...input.details } }, tx);
    if (change.kind === 'disable') {
      await disable(tx, change, record);
      return 'disable';
    }
    if (change.kind === 'reenable') await reenable(tx, change, record);
    const entry = change.entry!;
    const result = await provisionUserIn({ storage: deps.storage, audit }, tx, tenant, policy, entry.identity,
      { signIn: false, tag, cache, linkRecord: { syncDigest: entryDigest(source, entry), profile: entry.profile } });
    // The profile as the plan read it (a new link has none).
    const before = change.link?.profile ?? null;
    const profileChanged = !sameProfile(before, entry.profile);
    if (profileChanged && !result.created) await record({ action: 'user.update', target: { type: 'user', id: result.user.id }, before: { profile: before }, after: { profile: entry.profile } });
    change.link ??= { subject: entry.identity.subject, userId: result.user.id, username: result.user.username, status: 'active', disabledAt: null, digest: null, profile: null };
    if (change.kind === 'create') return result.linked ? 'update' : 'create';
    if (change.kind === 'update' && !result.changed && !profileChanged) return 'unchanged';
    return change.kind;
  }

  async function disable(tx: Repos, change: Change, record: RecordChange) {
    const { userId } = change.link!;
    if (!(await queries.directorySync.disableLinked(tx, { tenantId: tenant.id, userId, upstream: policy.upstream, subject: change.link!.subject }))) return;
    await revokeGrants(tx, tenant.id, userId);
    await record({ action: 'user.disable', target: { type: 'user', id: userId }, before: { status: 'active' }, after: { status: 'disabled' }, details: { reason: change.reason } });
    await tx.afterCommit(() => deps.sessions.endAll(tenant.id, userId).then(() => undefined));
  }

  async function reenable(tx: Repos, change: Change, record: RecordChange) {
    const { userId } = change.link!;
    await queries.directorySync.reenableLinked(tx, { tenantId: tenant.id, userId, upstream: policy.upstream, subject: change.link!.subject });
    await record({ action: 'user.enable', target: { type: 'user', id: userId }, before: { status: 'disabled' }, after: { status: 'active' }, details: { reason: 'enabled_in_directory' } });
  }
}
