// The directory capability as the rest of Caregate uses it: sources (CRUD), sync runs (from the
// CLI, the admin API and the schedule), `directory test`, and bind sign-in for directory users.
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import { requireTenant, type ClaimsCache, type SessionIndex } from '../accounts/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Storage, Tenant, User } from '../storage/index.ts';
import { mappingTargetFindings, provisionUser, UpstreamError, type PasswordConnector, type TestFinding } from '../upstream/index.ts';
import { testSource, verifyDirectoryPassword } from './bind-auth.ts';
import { DirectoryError } from './directory-error.ts';
import { createSourceService, type LoadedSource } from './source-service.ts';
import { policyOf, startSync, type SyncProgress, type SyncRequest, type SyncSummary } from './sync-engine.ts';

export interface DirectorySyncDeps {
  storage: Storage;
  audit: AuditWriter;
  box: SealedBox;
  claimsCache: ClaimsCache;
  ephemeral: EphemeralStore;
  sessions: SessionIndex;
  /** Told of every run this process starts, however started (the sync metrics). */
  observer?: SyncObserver;
}

/** How a run ended, as far as an observer needs it. */
export type SyncEnd = Pick<SyncSummary, 'tenant' | 'source' | 'mode' | 'dryRun' | 'status' | 'created' | 'updated' | 'disabled' | 'reenabled' | 'errors' | 'durationMs'>;

export interface SyncObserver {
  started(tenant: string, source: string): void;
  progress(tenant: string, source: string, progress: SyncProgress): void;
  finished(end: SyncEnd): void;
}

export interface SyncOptions {
  full?: boolean;
  dryRun?: boolean;
  allowDisables?: number;
  trigger: SyncRequest['trigger'];
  actor: AuditActor;
  onProgress?: SyncRequest['onProgress'];
}

/** What a directory password sign-in came to (null from `login`: not a directory user). */
export type DirectoryLogin =
  | { ok: true; user: User }
  | { ok: false; reason: 'unknown_user' | 'bad_password' | 'directory_unavailable' | 'directory_refused' | 'not_active'; detail?: string; user?: User };

/** A source's password connector (CONVENTIONS point 5): the directory checks the password. */
export function ldapConnector(source: LoadedSource): PasswordConnector {
  return {
    kind: 'password',
    async verify(username, password) {
      const verdict = await verifyDirectoryPassword(source, username, password);
      if (!verdict.ok) return null;
      if (verdict.entry.disabled) throw new UpstreamError('not_active', `the directory marks ${verdict.entry.dn} disabled`);
      return verdict.entry.identity;
    },
    test: () => testSource(source),
  };
}

export function createDirectorySync(deps: DirectorySyncDeps) {
  const sources = createSourceService(deps);

  async function start(tenantSlug: string, key: string, options: SyncOptions) {
    const { tenant, source } = await sources.load(tenantSlug, key);
    const mode = options.full ? 'full' : 'incremental';
    const { observer } = deps;
    const [slug, sourceKey] = [tenant.slug, source.row.key];
    const onProgress: SyncOptions['onProgress'] = observer
      ? (progress) => {
          observer.progress(slug, sourceKey, progress);
          return options.onProgress?.(progress);
        }
      : options.onProgress;
    const started = Date.now();
    const run = await startSync(deps, { tenant, source, mode, dryRun: options.dryRun, trigger: options.trigger, actor: options.actor, allowDisables: options.allowDisables, onProgress });
    if (observer) {
      observer.started(slug, sourceKey);
      // A fault (the database gone) rejects `done`: the run still ended, as failed.
      const fault: SyncEnd = { tenant: slug, source: sourceKey, mode, dryRun: Boolean(options.dryRun), status: 'failed', created: 0, updated: 0, disabled: 0, reenabled: 0, errors: 0, durationMs: 0 };
      run.done.then((summary) => observer.finished(summary), () => observer.finished({ ...fault, durationMs: Date.now() - started }));
    }
    return run;
  }

  return {
    sources,

    /** Runs a sync to its end (the CLI): the summary, refused and failed runs included. */
    async sync(tenantSlug: string, key: string, options: SyncOptions): Promise<SyncSummary> {
      return (await start(tenantSlug, key, options)).done;
    },

    /** Starts a sync and returns at once (the admin API): its progress and result are the run's. */
    async begin(tenantSlug: string, key: string, options: SyncOptions, onFault: (error: Error) => void) {
      const { runId, done } = await start(tenantSlug, key, options);
      done.catch(onFault);
      return sources.run(tenantSlug, key, runId);
    },

    /** `directory test`: reachability, TLS, the service account, the searches, the mapping rules. */
    async test(tenantSlug: string, key: string): Promise<{ ok: boolean; findings: TestFinding[] }> {
      const tenant = await requireTenant(deps.storage, tenantSlug);
      const { source } = await sources.load(tenantSlug, key);
      const findings: TestFinding[] = [{ check: 'enabled', ok: source.row.enabled, detail: source.row.enabled ? 'syncs and directory sign-ins are on' : 'disabled: no syncs, no directory sign-ins' }];
      findings.push(...(await mappingTargetFindings(deps.storage, tenant.id, source.settings.mappings)));
      findings.push(...(await ldapConnector(source).test()));
      return { ok: findings.every((f) => f.ok), findings };
    },

    /**
     * A directory password sign-in, when `login` is a directory user's: the user linked to a source
     * that allows bind sign-in, or — no user yet — whoever a source that creates users finds.
     * null: not a directory user (the local password decides).
     */
    async login(tenant: Tenant, login: string, password: string, user: User | undefined): Promise<DirectoryLogin | null> {
      const bindable = (await sources.all(tenant.id)).filter((s) => s.row.enabled && s.settings.bindAuth);
      if (!bindable.length) return null;
      let candidates: LoadedSource[];
      if (user) {
        const links = await deps.storage.userIdentities.findBy({ tenantId: tenant.id, userId: user.id });
        const keys = new Set(links.filter((l) => l.upstream.startsWith('ldap:')).map((l) => l.upstream.slice(5)));
        candidates = bindable.filter((s) => keys.has(s.row.key));
      } else candidates = bindable.filter((s) => s.settings.jit);
      if (!candidates.length) return null;
      let unavailable: DirectoryError | undefined;
      let wrongPassword = false;
      for (const source of candidates) {
        try {
          const verdict = await verifyDirectoryPassword(source, login, password);
          if (!verdict.ok) {
            wrongPassword ||= verdict.reason === 'bad_password';
            continue;
          }
          if (verdict.entry.disabled) throw new UpstreamError('not_active', `the directory marks ${verdict.entry.dn} disabled`);
          const { user: signedIn } = await provisionUser(deps, tenant, policyOf(source, source.settings.jit), verdict.entry.identity);
          return { ok: true, user: signedIn };
        } catch (error) {
          if (error instanceof DirectoryError) unavailable = error;
          else if (error instanceof UpstreamError) return { ok: false, reason: error.reason === 'not_active' ? 'not_active' : 'directory_refused', detail: `${error.reason}: ${error.detail}`, user };
          else throw error;
        }
      }
      // A wrong password any directory saw counts, even while another is down (else guesses would go uncounted).
      if (unavailable && !wrongPassword) return { ok: false, reason: 'directory_unavailable', detail: `${unavailable.reason}: ${unavailable.message}`, user };
      // The directory's own answer: a person it knows who gave a wrong password, or nobody it knows.
      return { ok: false, reason: user || wrongPassword ? 'bad_password' : 'unknown_user', user };
    },

    /** Whether a user's password lives in a directory (no local password, no reset link). */
    async directoryManaged(tenantId: string, userId: string): Promise<boolean> {
      const bindable = new Set((await sources.all(tenantId)).filter((s) => s.settings.bindAuth).map((s) => `ldap:${s.row.key}`));
      if (!bindable.size) return false;
      return (await deps.storage.userIdentities.findBy({ tenantId, userId })).some((l) => bindable.has(l.upstream));
    },
  };
}
export type DirectorySync = ReturnType<typeof createDirectorySync>;
