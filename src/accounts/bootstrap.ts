// First start on an empty database: tenant `demo` (configurable) and an `admin` user holding the
// admin role. Returns what to tell the operator; does nothing once any tenant exists.
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
  if ((await accounts.tenants.list()).length) return undefined;
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
  return { tenant, username: 'admin', generatedPassword: generated };
}
