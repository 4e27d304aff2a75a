// Directory sources of a tenant: created, changed and removed through the CLI and the admin API
// (validated whole, audited, the service account's password sealed), and read by sync runs and
// bind sign-ins (cached per tenant, emptied by any audited change).
import { randomUUID } from 'node:crypto';
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import { parseInput, requireTenant, type ClaimsCache } from '../accounts/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { SealedBox } from '../security/index.ts';
import { isUniqueViolation, queries, type DirectoryRun, type DirectorySource, type Repos, type Storage, type Tenant } from '../storage/index.ts';
import { checkMappingGrants, checkMappingTargets } from '../upstream/index.ts';
import { sourceRequest, sourceSettings, type SourceSettings, type StoredSettings } from './source-settings.ts';

export interface SourceServiceDeps {
  storage: Storage;
  audit: AuditWriter;
  box: SealedBox;
  claimsCache: ClaimsCache;
}

/** A source as runs and sign-ins use it: settings resolved, password opened. */
export interface LoadedSource {
  row: DirectorySource;
  settings: SourceSettings;
  bindPassword: string;
}

// Columns of their own; everything else is the settings document (never the password).
const COLUMNS = ['key', 'name', 'preset', 'mappings', 'enabled'] as const;
const secretContext = (sourceId: string) => `directory-source:${sourceId}`;

const storedOf = (row: DirectorySource): StoredSettings =>
  sourceRequest.parse({ ...row.settings, ...Object.fromEntries(COLUMNS.map((c) => [c, row[c]])) });

/** What the API shows: the resolved settings, never the password; the last run when asked. */
export function publicSource(row: DirectorySource, lastRun?: DirectoryRun | null) {
  const { bindPassword: _, ...settings } = sourceSettings.parse(storedOf(row));
  return {
    id: row.id,
    ...settings,
    hasBindPassword: Boolean(row.secretsSealed),
    watermark: row.watermark,
    lastFullSyncAt: row.lastFullSyncAt,
    ...(lastRun !== undefined ? { lastRun: lastRun ? publicRun(lastRun) : null } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type PublicSource = ReturnType<typeof publicSource>;

/** A run whose heartbeat stopped this long ago died with its process (its lock has long expired). */
const ABANDONED_AFTER_MS = 5 * 60_000;

export function publicRun(run: DirectoryRun) {
  const abandoned = run.status === 'running' && Date.now() - new Date(run.heartbeatAt).getTime() > ABANDONED_AFTER_MS;
  return {
    id: run.id, mode: run.mode, trigger: run.trigger, dryRun: run.dryRun, status: abandoned ? 'failed' : run.status,
    startedAt: run.startedAt, finishedAt: run.finishedAt, progress: run.progress, summary: run.summary,
    error: abandoned ? 'abandoned: its process stopped' : run.error,
  };
}

export function createSourceService({ storage, audit, box, claimsCache }: SourceServiceDeps) {
  /** Validates what an admin gave; the password goes to the sealed secret, the rest to the document. */
  function prepare(raw: Record<string, unknown>) {
    const given = parseInput(sourceRequest, raw);
    const { bindPassword, ...rest } = given;
    const document = Object.fromEntries(Object.entries(rest).filter(([k]) => !(COLUMNS as readonly string[]).includes(k)));
    return { given, bindPassword, document };
  }

  async function requireSource(tx: Repos, tenant: Tenant, key: string): Promise<DirectorySource> {
    const row = await tx.directorySources.findOneBy({ tenantId: tenant.id, key });
    if (!row) throw new NotFoundError(`directory source "${key}" does not exist`);
    return row;
  }

  const lastRun = (tx: Repos, sourceId: string) => tx.directoryRuns.findOne({ where: { sourceId }, order: { startedAt: 'DESC' } });

  const open = (row: DirectorySource): LoadedSource => ({
    row,
    settings: sourceSettings.parse(storedOf(row)),
    bindPassword: row.secretsSealed ? JSON.parse(box.open(row.secretsSealed, secretContext(row.id))).bindPassword : '',
  });

  /** Every source of a tenant, validated and opened: cached until the tenant next changes. */
  const all = (tenantId: string): Promise<LoadedSource[]> =>
    claimsCache.get(tenantId, 'directory-sources', async () =>
      (await storage.directorySources.find({ where: { tenantId }, order: { key: 'ASC' } })).map(open));

  return {
    async create(tenantSlug: string, raw: Record<string, unknown>, actor: AuditActor) {
      const { given, bindPassword, document } = prepare(raw);
      if (!bindPassword) throw new ValidationError('bindPassword: required (the service account\'s password)');
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          if (await tx.directorySources.findOneBy({ tenantId: tenant.id, key: given.key })) throw new ConflictError(`directory source "${given.key}" already exists`);
          await checkMappingTargets(tx, tenant.id, given.mappings);
          await checkMappingGrants(tx, tenant, actor, given.mappings);
          const id = randomUUID();
          const row: DirectorySource = {
            id, tenantId: tenant.id, key: given.key, name: given.name, preset: given.preset, settings: document,
            secretsSealed: box.seal(JSON.stringify({ bindPassword }), secretContext(id)), mappings: given.mappings, enabled: given.enabled,
            watermark: null, lastFullSyncAt: null, createdAt: new Date(), updatedAt: new Date(),
          };
          await tx.directorySources.insert(row as never);
          const shown = publicSource(row);
          await audit.record({ tenantId: tenant.id, actor, action: 'directory.source.create', target: { type: 'directory_source', id }, after: shown }, tx);
          return shown;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`directory source "${given.key}" already exists`);
        throw error;
      }
    },

    /**
     * Changes some settings; the result is validated whole. A new bindPassword replaces the old.
     * A change to where or what is searched forgets the watermark: the next run is full.
     */
    async update(tenantSlug: string, key: string, patch: Record<string, unknown>, actor: AuditActor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await requireSource(tx, tenant, key);
        if ('key' in patch && patch.key !== key) throw new ValidationError("key: a source keeps its key (its users' source names it)");
        const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
        const current = storedOf(before);
        const next = prepare({ ...current, ...given });
        await checkMappingTargets(tx, tenant.id, next.given.mappings);
        await checkMappingGrants(tx, tenant, actor, next.given.mappings);
        const changed = (f: string) => f in given && JSON.stringify(given[f]) !== JSON.stringify((current as Record<string, unknown>)[f]);
        // The sealed password goes only where it went before: a new server, account or CA needs it given again.
        const whereTo = ['urls', 'bindDn', 'caCertificates'].filter(changed);
        if (whereTo.length && !next.bindPassword) throw new ValidationError(`bindPassword: required again when ${whereTo.join(', ')} change (the stored one is not sent to a new server)`);
        // People are known by the id attribute: changing it would make every linked person "gone".
        const ids = [sourceSettings.parse(current).attributes.id, sourceSettings.parse(next.given).attributes.id];
        if (ids[0] !== ids[1] && (await tx.userIdentities.count({ where: { tenantId: tenant.id, upstream: `ldap:${key}` } }))) {
          throw new ValidationError(`attributes.id: this source's people are linked by ${ids[0]}; create a new source to identify them by ${ids[1]}`);
        }
        // Anything that changes what a run reads or grants makes the next run full (scheduling and limits do not).
        const RUN_ONLY = new Set(['name', 'enabled', 'bindPassword', 'syncIntervalMinutes', 'fullSyncHours', 'disableThresholdPercent', 'disableThresholdMinimum', 'timeoutSeconds', 'connectTimeoutSeconds', 'pageSize', 'bindAuth', 'jit']);
        const scopeChanged = Object.keys(given).some((f) => !RUN_ONLY.has(f) && changed(f));
        const after: DirectorySource = {
          ...before, name: next.given.name, preset: next.given.preset, settings: next.document, mappings: next.given.mappings, enabled: next.given.enabled,
          secretsSealed: next.bindPassword ? box.seal(JSON.stringify({ bindPassword: next.bindPassword }), secretContext(before.id)) : before.secretsSealed,
          watermark: scopeChanged ? null : before.watermark, updatedAt: new Date(),
        };
        await tx.directorySources.save(after as never);
        const shown = publicSource(after);
        await audit.record({ tenantId: tenant.id, actor, action: 'directory.source.update', target: { type: 'directory_source', id: before.id }, before: publicSource(before), after: shown, details: { passwordChanged: 'bindPassword' in given, watermarkReset: scopeChanged } }, tx);
        return shown;
      });
    },

    /** Removes a source and what its mappings granted; its users stay (an admin decides on them). */
    async remove(tenantSlug: string, key: string, actor: AuditActor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const row = await requireSource(tx, tenant, key);
        const removed = await queries.identities.removeUpstream(tx, tenant.id, `ldap:${key}`);
        await tx.directorySources.delete({ id: row.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'directory.source.delete', target: { type: 'directory_source', id: row.id }, before: publicSource(row), details: removed }, tx);
      });
    },

    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const rows = await storage.directorySources.find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } });
      return Promise.all(rows.map(async (r) => publicSource(r, await lastRun(storage, r.id))));
    },

    async get(tenantSlug: string, key: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const row = await requireSource(storage, tenant, key);
      return publicSource(row, await lastRun(storage, row.id));
    },

    /** The latest runs of a source, newest first (a running one shows its progress). */
    async runs(tenantSlug: string, key: string, limit = 20) {
      const tenant = await requireTenant(storage, tenantSlug);
      const row = await requireSource(storage, tenant, key);
      return (await storage.directoryRuns.find({ where: { sourceId: row.id }, order: { startedAt: 'DESC' }, take: Math.min(Math.max(limit, 1), 100) })).map(publicRun);
    },

    async run(tenantSlug: string, key: string, runId: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const row = await requireSource(storage, tenant, key);
      const run = await storage.directoryRuns.findOneBy({ sourceId: row.id, id: runId });
      if (!run) throw new NotFoundError(`run ${runId} of directory source "${key}" does not exist`);
      return publicRun(run);
    },

    /** Read fresh from the database (a run must not start from a stale watermark). */
    async load(tenantSlug: string, key: string): Promise<{ tenant: Tenant; source: LoadedSource }> {
      const tenant = await requireTenant(storage, tenantSlug);
      return { tenant, source: open(await requireSource(storage, tenant, key)) };
    },

    all,
  };
}
export type SourceService = ReturnType<typeof createSourceService>;
