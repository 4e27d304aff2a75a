// Whether a sign-in needs a second factor: the tenant's policy (everyone, or holders of listed or
// PHI roles), the application asking for it (acr_values), or the user having enrolled one.
import { inEffect, roleRequiresPhi, type AuthzSnapshot } from '../authz/index.ts';
import type { TenantPolicy } from './tenant-policy.ts';

/** Keys of the roles a user holds right now (directly or through teams, any scope). */
export function activeRoleKeys(snapshot: AuthzSnapshot, now = new Date()): string[] {
  const keys = new Set<string>();
  for (const a of snapshot.assignments) {
    if (!inEffect(a, now)) continue;
    const role = snapshot.roles.get(a.roleId);
    if (role) keys.add(role.key);
  }
  return [...keys];
}

function holdsPhiRole(snapshot: AuthzSnapshot, now: Date): boolean {
  return snapshot.assignments.some(
    (a) => inEffect(a, now) && roleRequiresPhi(a.roleId, snapshot.roles),
  );
}

/** True when the tenant's policy makes this user use a second factor (and so enrol one). */
export function policyRequiresMfa(policy: TenantPolicy, snapshot: AuthzSnapshot, now = new Date()): boolean {
  const { mode, roles, phiRoles } = policy.mfa;
  if (mode === 'required') return true;
  if (mode !== 'roles') return false;
  if (phiRoles && holdsPhiRole(snapshot, now)) return true;
  const held = new Set(activeRoleKeys(snapshot, now));
  return roles.some((r) => held.has(r));
}

export type MfaNeed = 'none' | 'verify' | 'enrol';

/**
 * What this sign-in must do about a second factor:
 * 1. Policy "off": nothing (enrolled factors rest unused).
 * 2. The user has a factor: verify it.
 * 3. Policy or the application (acr_values) demands one and the user has none: enrol now.
 */
export function mfaNeed(input: { policy: TenantPolicy; snapshot: AuthzSnapshot; hasFactor: boolean; acrDemandsMfa: boolean }): MfaNeed {
  const { policy, snapshot, hasFactor, acrDemandsMfa } = input;
  if (policy.mfa.mode === 'off' && !acrDemandsMfa) return 'none';
  if (hasFactor) return 'verify';
  return acrDemandsMfa || policyRequiresMfa(policy, snapshot) ? 'enrol' : 'none';
}

/** The built-in admin console's client id (src/oidc/client-metadata.ts registers it). */
export const CONSOLE_CLIENT_ID = 'console';

/**
 * Whether the request itself demands a second factor: the application asked for it (acr_values
 * with `acrMfa`), or it is the admin console and the tenant's policy says the console needs one.
 */
export function requestDemandsMfa(params: { client_id?: unknown; acr_values?: unknown }, policy: TenantPolicy, acrMfa: string): boolean {
  if (String(params.acr_values ?? '').split(' ').includes(acrMfa)) return true;
  return params.client_id === CONSOLE_CLIENT_ID && policy.mfa.console;
}
