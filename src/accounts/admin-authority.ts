// What an administrator may see and change: the admin permissions their roles carry, and where
// (DESIGN.md, Administration). A role holding `caregate.users:edit` tenant-wide reaches every user;
// at a location, the users with any assignment at that location or below it; at an institution,
// that institution's users; at an application, the users and assignments scoped to it. Services
// call `require` before they read or write one thing, and filter lists with `reach`.
import { locationAndDescendants, restrictSnapshot, scopeContains, scopesHolding, type AuthzSnapshot, type ScopeRef } from '../authz/index.ts';
import { AdminRefusalError } from '../errors.ts';
import { In, queries, type Repos, type Tenant, type User } from '../storage/index.ts';
import { apiKeyUsable } from './api-key-rules.ts';
import { canSignIn } from './can-sign-in.ts';
import type { Actor } from './context.ts';
import { loadAuthzSnapshot } from './load-authz-snapshot.ts';

const TENANT: ScopeRef = { scopeType: 'tenant', scopeId: null };

/** Lacking an admin permission, or holding it only elsewhere than the thing asked for. */
export class OutOfScopeError extends AdminRefusalError {
  override readonly code = 'out_of_scope';
}

/** What a request reads or changes, for the scope check. */
export type AdminTarget =
  | { kind: 'tenant' }
  | { kind: 'scope'; scope: ScopeRef }
  | { kind: 'user'; user: User }
  | { kind: 'application'; applicationId: string };

export interface Authority {
  /** The user whose rights the actor exercises; undefined for a trusted operator (CLI, Caregate itself). */
  subject: User | null | undefined;
  snapshot: AuthzSnapshot | undefined;
  /** Where `permission` is held (tenant-wide for a trusted operator); empty when nowhere. */
  reach(permission: string): ScopeRef[];
  /** True when `permission` is held tenant-wide. */
  tenantWide(permission: string): boolean;
  /** The scopes where `permission` is held that contain `target`. */
  scopesFor(permission: string, target: AdminTarget): Promise<ScopeRef[]>;
  /** Refuses unless `permission` is held at a scope that contains `target`. */
  require(permission: string, target: AdminTarget): Promise<void>;
  /** The ids of the users within reach of `permission`; undefined when it is held tenant-wide (everyone). */
  visibleUsers(permission: string): Promise<string[] | undefined>;
}

/** The user whose rights an actor exercises (an application's are its service account's); undefined for a trusted operator. */
export async function subjectOf(repos: Repos, tenant: Tenant, actor: Actor): Promise<User | null | undefined> {
  if (actor.type === 'cli' || actor.type === 'system') return undefined;
  let userId = actor.type === 'user' ? actor.id : undefined;
  if (actor.type === 'client' && actor.id) {
    userId = (await repos.applications.findOneBy({ tenantId: tenant.id, clientId: actor.id }))?.serviceUserId ?? undefined;
  }
  if (actor.type === 'api_key' && actor.id) {
    const key = await queries.apiKeys.find(repos, tenant.id, actor.id);
    userId = key && apiKeyUsable(key) ? key.serviceUserId : undefined;
  }
  return userId ? repos.users.findOneBy({ tenantId: tenant.id, id: userId }) : null;
}

/**
 * The access the actor exercises as `subject`: the subject's own, or — for an API key — its
 * service account's narrowed to the permissions the key carries (never more than both).
 */
export async function loadActorSnapshot(repos: Repos, tenant: Tenant, actor: Actor, subject: User): Promise<AuthzSnapshot> {
  const snapshot = await loadAuthzSnapshot(repos, subject);
  if (actor.type !== 'api_key') return snapshot;
  const key = actor.id ? await queries.apiKeys.find(repos, tenant.id, actor.id) : undefined;
  return restrictSnapshot(snapshot, key && apiKeyUsable(key) ? key.permissions : []);
}

/** True when one of `user`'s assignments (direct or through a team, in effect or not) lies within `scope`. */
export function userWithin(scope: ScopeRef, user: AuthzSnapshot): boolean {
  return user.assignments.some((a) => scopeContains(scope, a, user.locations));
}

const describeTarget = (target: AdminTarget) =>
  target.kind === 'tenant' ? 'tenant-wide' : target.kind === 'user' ? `for user "${target.user.username}"` : target.kind === 'application' ? 'for that application' : `at that ${target.scope.scopeType}`;

/**
 * The ids of the users with an assignment (direct, or through a team) within any of `scopes`: a
 * location and the locations below it, an institution, an application.
 */
export async function usersWithin(repos: Repos, tenantId: string, scopes: ScopeRef[], locations: AuthzSnapshot['locations']): Promise<string[]> {
  // Only the assignments at the scopes' own ids (a location's subtree): reading every location
  // assignment of the tenant took seconds per request at 50,000 users (bench/user-search.ts).
  const wanted = new Map<ScopeRef['scopeType'], Set<string>>();
  for (const s of scopes) {
    const ids = s.scopeType === 'location' ? locationAndDescendants(s.scopeId, locations) : s.scopeId ? [s.scopeId] : [];
    wanted.set(s.scopeType, new Set([...(wanted.get(s.scopeType) ?? []), ...ids]));
  }
  const found = await Promise.all([...wanted].filter(([, ids]) => ids.size).map(([scopeType, ids]) => repos.assignments.findBy({ tenantId, scopeType, scopeId: In([...ids]) })));
  const inside = found.flat().filter((a) => scopes.some((s) => scopeContains(s, a, locations)));
  const teamIds = [...new Set(inside.flatMap((a) => (a.teamId ? [a.teamId] : [])))];
  const members = teamIds.length ? await repos.teamMembers.findBy({ teamId: In(teamIds) }) : [];
  return [...new Set([...inside.flatMap((a) => (a.userId ? [a.userId] : [])), ...members.map((m) => m.userId)])];
}

export async function loadAuthority(repos: Repos, tenant: Tenant, actor: Actor): Promise<Authority> {
  const subject = await subjectOf(repos, tenant, actor);
  const active = subject && canSignIn(subject);
  const snapshot = subject && active ? await loadActorSnapshot(repos, tenant, actor, subject) : undefined;
  const reach = (permission: string): ScopeRef[] => (subject === undefined ? [TENANT] : snapshot ? scopesHolding(snapshot, permission) : []);

  async function contains(scope: ScopeRef, target: AdminTarget): Promise<boolean> {
    if (scope.scopeType === 'tenant') return true;
    switch (target.kind) {
      case 'tenant':
        return false;
      case 'scope':
        return scopeContains(scope, target.scope, snapshot!.locations);
      case 'application':
        return scope.scopeType === 'application' && scope.scopeId === target.applicationId;
      case 'user':
        return userWithin(scope, await loadAuthzSnapshot(repos, target.user));
    }
  }

  return {
    subject,
    snapshot,
    reach,
    tenantWide: (permission) => reach(permission).some((s) => s.scopeType === 'tenant'),
    async scopesFor(permission, target) {
      const within: ScopeRef[] = [];
      for (const scope of reach(permission)) if (await contains(scope, target)) within.push(scope);
      return within;
    },
    async visibleUsers(permission) {
      const scopes = reach(permission);
      if (scopes.some((s) => s.scopeType === 'tenant')) return undefined;
      return scopes.length ? usersWithin(repos, tenant.id, scopes, snapshot!.locations) : [];
    },
    async require(permission, target) {
      const scopes = reach(permission);
      for (const scope of scopes) if (await contains(scope, target)) return;
      throw new OutOfScopeError(
        scopes.length ? `you hold "${permission}" only elsewhere, not ${describeTarget(target)}` : `you do not hold "${permission}"`,
        { reason: 'out_of_scope', permission },
      );
    },
  };
}
