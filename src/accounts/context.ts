import type { AuditActor, AuditWriter } from '../audit/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Lockout, PasswordHasher, SealedBox } from '../security/index.ts';
import type { Storage, Repos, Tenant } from '../storage/index.ts';
import { NotFoundError } from '../errors.ts';
import type { SessionIndex } from './session-index.ts';

/** What every account service needs; built once at start-up and passed in. */
export interface AccountsContext {
  storage: Storage;
  audit: AuditWriter;
  hasher: PasswordHasher;
  box: SealedBox;
  /** Lockout counters (ephemeral store); admins read and clear them. */
  lockout: Lockout;
  /** Sign-on sessions by user (ephemeral store), ended when an account is disabled, locked or deleted. */
  sessions: SessionIndex;
  /** Short-lived shared state: API key rate limits and use counters. */
  ephemeral: EphemeralStore;
  /** The admin API's resource indicator: reachable only through an application's adminApi flag, never claimed as a resource. */
  adminResource: string;
}

export type Actor = AuditActor;

export async function requireTenant(repos: Repos, slug: string): Promise<Tenant> {
  const tenant = await repos.tenants.findOneBy({ slug });
  if (!tenant) throw new NotFoundError(`tenant "${slug}" does not exist`);
  return tenant;
}

export async function requireByKey<T extends { id: string }>(
  repo: { findOneBy(where: object): Promise<T | null> },
  tenantId: string,
  key: string,
  what: string,
): Promise<T> {
  const row = await repo.findOneBy({ tenantId, key });
  if (!row) throw new NotFoundError(`${what} "${key}" does not exist`);
  return row;
}
