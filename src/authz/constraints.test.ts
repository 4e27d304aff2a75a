// Conditional permissions: what a role's limits become in the token's `constraints` claim when one
// or several grants carry the permission (the least restrictive wins, key by key).
import { describe, expect, it } from '@jest/globals';
import { leastRestrictive, roleConstraints } from './constraints.ts';
import { projectClaims, type AuthzSnapshot } from './project-claims.ts';
import { restrictSnapshot } from './restrict-snapshot.ts';
import type { RoleDefinition } from './role-permissions.ts';

const NOW = new Date('2026-03-04T12:00:00Z');
const APPROVE = 'billing:charges:approve';
const billingApp = { applicationId: 'app-billing', catalogue: [APPROVE, 'billing:charges:read', 'expenses:approve:own'] };

const role = (id: string, permissions: string[], init: Partial<RoleDefinition> = {}): RoleDefinition => ({
  id, key: id, parentId: null, permissions, removedPermissions: [], requiresPhi: false, ...init,
});
const roles = new Map<string, RoleDefinition>(
  [
    role('clerk', [APPROVE, 'billing:charges:read'], { constraints: { [APPROVE]: { maxAmount: 500 } } }),
    role('senior_clerk', [], { parentId: 'clerk', constraints: { [APPROVE]: { maxAmount: 2000 } } }),
    role('lead', [], { parentId: 'clerk', constraints: { [APPROVE]: {} } }),
    role('supervisor', ['billing:*']),
    role('staff', ['expenses:approve:own'], { constraints: { 'expenses:approve': { maxAmount: 50 } } }),
  ].map((r) => [r.id, r]),
);
const locations = new Map([['loc-a', { key: 'site-a', parentId: null }]]);
const at = (roleId: string, init: Partial<AuthzSnapshot['assignments'][number]> = {}) => ({ roleId, scopeType: 'tenant' as const, scopeId: null, startsAt: null, expiresAt: null, ...init });
const claimsOf = (assignments: AuthzSnapshot['assignments'], init: Partial<AuthzSnapshot> = {}) =>
  projectClaims({ phiAccess: false, roles, locations, institutions: new Map(), teams: [], assignments, ...init }, billingApp, NOW);

describe('roleConstraints', () => {
  it('inherits the parent role\'s limits, a child\'s own entry replacing them and {} lifting them', () => {
    expect(roleConstraints('senior_clerk', roles).get(APPROVE)).toEqual({ maxAmount: 2000 });
    expect(roleConstraints('lead', roles).has(APPROVE)).toBe(false);
    expect(roleConstraints('clerk', roles).get(APPROVE)).toEqual({ maxAmount: 500 });
  });
});

describe('leastRestrictive', () => {
  it('takes the largest limit when every grant sets it, and none when one grant is unlimited', () => {
    expect(leastRestrictive([{ maxAmount: 500 }, { maxAmount: 2000 }])).toEqual({ maxAmount: 2000 });
    expect(leastRestrictive([{ maxAmount: 500 }, undefined])).toBeUndefined();
    expect(leastRestrictive([{ maxAmount: 500 }, {}])).toBeUndefined();
    expect(leastRestrictive([])).toBeUndefined();
  });
});

describe('projectClaims: the constraints claim', () => {
  it('carries a role\'s limit on a permission the token carries, and nothing for unconstrained ones', () => {
    const claims = claimsOf([at('clerk')]);
    expect(claims.permissions).toEqual([APPROVE, 'billing:charges:read']);
    expect(claims.constraints).toEqual({ [APPROVE]: { maxAmount: 500 } });
  });

  it('lets the least restrictive of two roles win', () => {
    expect(claimsOf([at('clerk'), at('senior_clerk')]).constraints).toEqual({ [APPROVE]: { maxAmount: 2000 } });
  });

  it('drops the limit when another role grants the permission without one (a wildcard too)', () => {
    expect(claimsOf([at('clerk'), at('supervisor')]).constraints).toBeUndefined();
    expect(claimsOf([at('lead')]).constraints).toBeUndefined();
  });

  it('drops the limit when a per-user override grants the permission', () => {
    const overrides = [{ applicationId: 'app-billing', permission: APPROVE, effect: 'grant' as const }];
    expect(claimsOf([at('clerk')], { overrides }).constraints).toBeUndefined();
  });

  it('counts grants at a location with the tenant-wide ones', () => {
    const claims = claimsOf([at('clerk'), at('senior_clerk', { scopeType: 'location', scopeId: 'loc-a' })]);
    expect(claims.location_permissions['site-a']).toContain(APPROVE);
    expect(claims.constraints).toEqual({ [APPROVE]: { maxAmount: 2000 } });
  });

  it('files a limit on the full form under the own-only permission the token carries', () => {
    expect(claimsOf([at('staff')]).constraints).toEqual({ 'expenses:approve:own': { maxAmount: 50 } });
  });

  it('leaves the claim out when the token carries no constrained permission', () => {
    const claims = projectClaims({ phiAccess: false, roles, locations, institutions: new Map(), teams: [], assignments: [at('clerk')] }, { applicationId: 'other', catalogue: ['billing:charges:read'] }, NOW);
    expect(claims).not.toHaveProperty('constraints');
  });
});

describe('through an API key (restrictSnapshot)', () => {
  it('keeps the limits a role inherits: a key is never less limited than its account', () => {
    const withJunior = new Map([...roles, ['junior_clerk', role('junior_clerk', [], { parentId: 'clerk' })]]);
    for (const [held, limit] of [['junior_clerk', 500], ['senior_clerk', 2000]] as const) {
      const snapshot: AuthzSnapshot = { phiAccess: false, roles: withJunior, locations, institutions: new Map(), teams: [], assignments: [at(held)] };
      const keyed = projectClaims(restrictSnapshot(snapshot, [APPROVE]), billingApp, NOW);
      expect([held, keyed.permissions, keyed.constraints]).toEqual([held, [APPROVE], { [APPROVE]: { maxAmount: limit } }]);
    }
  });
});
