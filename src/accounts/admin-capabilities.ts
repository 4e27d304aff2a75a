// What the signed-in administrator may do, for a client that shows only the controls its user may
// use (the console): each admin permission they hold, and whether tenant-wide or only at some
// locations, institutions or applications. It decides nothing — every route still checks.
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { adminCatalogue } from './builtin-roles.ts';
import { resolvePolicy } from './tenant-policy.ts';

export type Reach = 'tenant' | 'scoped';

export function createCapabilityService({ storage }: AccountsContext) {
  return {
    async of(slug: string, actor: Actor) {
      const tenant = await requireTenant(storage, slug);
      const authority = await loadAuthority(storage, tenant, actor);
      const permissions: Record<string, Reach> = {};
      for (const permission of adminCatalogue) {
        const scopes = authority.reach(permission);
        if (scopes.length) permissions[permission] = scopes.some((s) => s.scopeType === 'tenant') ? 'tenant' : 'scoped';
      }
      const subject = authority.subject;
      return {
        tenant: { slug: tenant.slug, name: tenant.name, timeZone: resolvePolicy(tenant.policy).timeZone },
        user: subject ? { id: subject.id, username: subject.username, displayName: subject.displayName, givenName: subject.givenName, owner: subject.ownership === 'owner' } : null,
        permissions,
        /** Every admin permission tenant-wide: what an application that reaches the admin API (its flag, its service roles) needs (admin-api-application.ts). */
        allAdminPermissions: adminCatalogue.every((p) => permissions[p] === 'tenant'),
      };
    },
  };
}
