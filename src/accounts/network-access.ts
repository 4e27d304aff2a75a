// What a tenant's network rules mean for one request (issue 18): whether an address may sign in
// or refresh at all (the tenant-wide rule), which roles count in the tokens issued to it (role
// rules, applied by the same evaluator that builds tokens), and the places a person signs in
// from — a device, an address neighbourhood — with an alert to holders of PHI roles when one is new.
import { createHash } from 'node:crypto';
import { isEffective, neighbourhoodOf, networkPredicate, roleRequiresPhi, tenantAllows, type AuthzSnapshot, type NetworkRuleRow } from '../authz/index.ts';
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import type { Sender } from '../notify/index.ts';
import { queries, type Repos, type Tenant, type User } from '../storage/index.ts';
import type { ClaimsCache } from './claims-cache.ts';
import type { TenantPolicy } from './tenant-policy.ts';

export interface NetworkDeps {
  storage: Repos;
  claimsCache: ClaimsCache;
}

/** The tenant's rules, through the claims cache (any audited change empties it). */
export function loadNetworkRules({ storage, claimsCache }: NetworkDeps, tenantId: string): Promise<NetworkRuleRow[]> {
  return claimsCache.get(tenantId, 'network-rules', async () => (await queries.networkRules.list(storage, tenantId)).map((r) => ({ roleId: r.roleId, ranges: r.ranges })));
}

/** False when the tenant has a tenant-wide rule and `address` is outside it. */
export async function addressMaySignIn(deps: NetworkDeps, tenantId: string, address: string): Promise<boolean> {
  return tenantAllows(await loadNetworkRules(deps, tenantId), address);
}

/**
 * The snapshot as seen from `address`: assignments of a role whose rule (its own or an ancestor's)
 * leaves the address out count for nothing. The cached snapshot is not changed.
 */
export async function snapshotFrom(deps: NetworkDeps, tenantId: string, snapshot: AuthzSnapshot, address: string | undefined): Promise<AuthzSnapshot> {
  const rules = await loadNetworkRules(deps, tenantId);
  if (!rules.some((r) => r.roleId)) return snapshot;
  // An unknown address (no peer) is outside every range.
  return { ...snapshot, networkAllowed: networkPredicate(rules, snapshot.roles, address ?? '') };
}

/** The hash kept for a device cookie's value (the value itself is never stored). */
export const deviceHash = (cookie: string) => createHash('sha256').update(cookie).digest('hex');

/** Whether the person has signed in from this device before. */
export function deviceKnown(storage: Repos, userId: string, cookie: string | undefined): Promise<boolean> {
  return cookie ? queries.signInPlaces.known(storage, userId, 'device', deviceHash(cookie)) : Promise.resolve(false);
}

/** True when the person holds, now, a role that requires PHI access. */
export function holdsPhiRole(snapshot: AuthzSnapshot, now = new Date()): boolean {
  return snapshot.assignments.some((a) => roleRequiresPhi(a.roleId, snapshot.roles) && isEffective(a, snapshot, now));
}

export interface PlaceDeps {
  storage: Repos;
  audit: AuditWriter;
  sender: Sender;
  onError(error: Error, what: string): void;
}

/**
 * Notes a completed sign-in's device and address neighbourhood. When either is new — and the
 * person had signed in before, held a PHI role, and the tenant wants alerts — they are told by
 * email and the event is audited. The first sign-in only sets the baseline.
 */
export async function noteSignInPlace(
  deps: PlaceDeps, tenant: Tenant, user: User, snapshot: AuthzSnapshot, policy: TenantPolicy,
  seen: { cookie: string; actor: AuditActor; device: string | null },
): Promise<{ newDevice: boolean; newRange: boolean }> {
  const { storage } = deps;
  const range = seen.actor.ip ? neighbourhoodOf(seen.actor.ip) : null;
  const { hadAny, newKinds } = await queries.signInPlaces.note(storage, user.id, [
    { kind: 'device', value: deviceHash(seen.cookie) },
    ...(range ? [{ kind: 'range' as const, value: range }] : []),
  ]);
  const newDevice = newKinds.has('device');
  const newRange = newKinds.has('range');
  if (!hadAny || !(newDevice || newRange) || !policy.network.alertNewPlaces || !holdsPhiRole(snapshot)) return { newDevice, newRange };
  await deps.audit.record({
    tenantId: tenant.id, actor: { ...seen.actor, type: 'user', id: user.id }, action: 'login.new_place', target: { type: 'user', id: user.id },
    details: { newDevice, newRange, range, device: seen.device, emailed: Boolean(user.email) },
  });
  if (user.email) {
    const what = newDevice && newRange ? 'a new device and network' : newDevice ? 'a new device' : 'a new network';
    const text = [
      `Someone signed in to your ${tenant.name} account from ${what}.`,
      '',
      `When: ${new Date().toISOString()}`,
      `Address: ${seen.actor.ip ?? 'unknown'} (network ${range ?? 'unknown'})`,
      `Device: ${seen.device ?? 'unknown'}`,
      '',
      'If this was you, there is nothing to do. If it was not, change your password now and tell your administrator:',
      'your account can reach patient information.',
    ].join('\n');
    await deps.sender.send({ channel: 'email', to: user.email, subject: `New sign-in to ${tenant.name} from ${what}`, text, tenant: tenant.slug })
      .catch((e: Error) => deps.onError(e, 'new sign-in place alert'));
  }
  return { newDevice, newRange };
}
