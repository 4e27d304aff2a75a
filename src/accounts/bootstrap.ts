// First start on an empty database: tenant `demo` (configurable) and an `admin` user holding the
// admin role, its owner. Returns what to tell the operator; does nothing once any tenant exists.
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import type { Accounts } from './index.ts';

export interface BootstrapResult {
  tenant: string;
  username: string;
  /** Present only when the password was generated (print it once). */
  generatedPassword?: string;
}

export async function bootstrap(
  accounts: Accounts,
  { tenant, password }: { tenant: string; password?: string },
): Promise<BootstrapResult | undefined> {
  const existing = await accounts.tenants.list();
  if (existing.length) {
    for (const t of existing) await fixBuiltinRoles(accounts, t.slug);
    return undefined;
  }
  const actor = { type: 'system' as const, id: 'bootstrap' };
  try {
    await accounts.tenants.create({ slug: tenant, name: tenant === 'demo' ? 'Demo Clinic' : tenant }, actor);
  } catch (error) {
    // Another node starting at the same moment bootstrapped first.
    if (error instanceof ConflictError) return undefined;
    throw error;
  }
  const generated = password ? undefined : randomBytes(18).toString('base64url');
  await accounts.users.create(
    tenant,
    { username: 'admin', displayName: 'Administrator', password: password ?? generated, phiAccess: true },
    [{ role: 'admin' }],
    actor,
  );
  await accounts.ownership.establish(tenant, 'admin', actor);
  return { tenant, username: 'admin', generatedPassword: generated };
}

/**
 * Built-in templates corrected since a tenant was created. `engagement_queue_viewer` shows patients'
 * messages, so it requires PHI access; tenants made before that hold it unmarked, sometimes given
 * to people without the flag. Once per tenant: mark it, and end (audited) those people's
 * assignments of it. A tenant that changed the role itself since is left as it is.
 */
async function fixBuiltinRoles(accounts: Accounts, slug: string) {
  const role = await accounts.roles.get(slug, 'engagement_queue_viewer').catch(() => undefined);
  if (!role?.builtin || role.requiresPhi || role.permissions.join() !== 'engagement:read') return;
  await accounts.roles.update(slug, 'engagement_queue_viewer', { requiresPhi: true }, { type: 'system', id: 'builtin-role-fix' }, { dropNonPhiHolders: true });
}
