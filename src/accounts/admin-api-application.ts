// An application that reaches the admin API carries the admin rights of whoever signs in through it.
// Whoever decides where it sends people (redirect URIs, grants) and holds its secret can redeem their
// codes and act as any of them, the tenant's owner included. So registering one, opening the admin
// API to one, and changing or rotating the secret of one is for someone holding every admin
// permission tenant-wide (the operator at the terminal and Caregate itself are trusted).
import { heldPermissions, missingPermissions } from '../authz/index.ts';
import { EscalationError } from '../errors.ts';
import type { Repos, Tenant } from '../storage/index.ts';
import type { Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { adminCatalogue } from './builtin-roles.ts';

const TENANT_WIDE = { scopeType: 'tenant', scopeId: null } as const;

/** Refuses unless the actor holds the whole admin catalogue tenant-wide. `what` words the refusal. */
export async function assertMayManageAdminApiApplication(repos: Repos, tenant: Tenant, actor: Actor, what: string): Promise<void> {
  const authority = await loadAuthority(repos, tenant, actor);
  if (authority.subject === undefined) return;
  const missing = missingPermissions(authority.snapshot ? heldPermissions(authority.snapshot, TENANT_WIDE) : new Set<string>(), adminCatalogue);
  if (!missing.length) return;
  throw new EscalationError(
    `you cannot ${what}: an application that reaches the admin API acts for whoever signs in to it, so this needs every admin permission tenant-wide (you lack ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''})`,
    { reason: 'escalation', missing },
  );
}
