// The no-escalation rule's pure parts: which held permissions cover a wanted one, and which
// assignments count at a scope.
import { describe, expect, it } from '@jest/globals';
import { heldPermissions, scopeContains, widerLimits } from './grant-rule.ts';
import { missingPermissions, permissionCovered } from './permissions.ts';
import type { AuthzSnapshot } from './project-claims.ts';
import type { RoleDefinition } from './role-permissions.ts';

const held = (...p: string[]) => new Set(p);

describe('permissionCovered', () => {
  it.each([
    [['*'], '*', true],
    [['*'], 'caregate.users:edit', true],
    [['notes:edit'], 'notes:edit', true],
    [['notes:edit'], 'notes:edit:own', true],
    [['notes:edit:own'], 'notes:edit', false],
    [['notes:*'], 'notes:edit:own', true],
    [['billing:*'], 'billing:payments:create', true],
    [['billing:*'], 'billing:payments:*', true],
    [['billing:payments:*'], 'billing:*', false],
    [['caregate.users:*'], 'caregate.users:delete', true],
    [['caregate.users:*'], 'caregate.roles:read', false],
    [['caregate.users:edit'], '*', false],
    [['notes:*'], 'notesx:read', false],
  ])('%j covers %s: %s', (h, wanted, expected) => {
    expect(permissionCovered(held(...h), wanted)).toBe(expected);
  });

  it('lists what is missing, sorted and once', () => {
    expect(missingPermissions(held('reports:read'), ['reports:read', 'dashboards:read', 'a:b', 'dashboards:read'])).toEqual(['a:b', 'dashboards:read']);
  });
});

describe('heldPermissions at a scope', () => {
  const role = (id: string, permissions: string[], requiresPhi = false): RoleDefinition => ({ id, key: id, parentId: null, permissions, removedPermissions: [], requiresPhi });
  const roles = new Map([role('manager', ['staff:edit']), role('clinician', ['patients:read'], true), role('auditor', ['audit:read'])].map((r) => [r.id, r]));
  const locations = new Map([
    ['region', { key: 'region', parentId: null }],
    ['site', { key: 'site', parentId: 'region' }],
    ['other', { key: 'other', parentId: null }],
  ]);
  const snapshot = (assignments: AuthzSnapshot['assignments'], phiAccess = false): AuthzSnapshot => ({ phiAccess, roles, locations, institutions: new Map(), teams: [], assignments });
  const at = (scopeType: 'tenant' | 'location' | 'institution' | 'application', scopeId: string | null = null) => ({ scopeType, scopeId });
  const assignment = (roleId: string, scope: ReturnType<typeof at>, validity: { startsAt?: Date; expiresAt?: Date } = {}) => ({ roleId, ...scope, startsAt: validity.startsAt ?? null, expiresAt: validity.expiresAt ?? null });

  it('a role on a region holds at its sites, not at another location nor tenant-wide', () => {
    const s = snapshot([assignment('manager', at('location', 'region'))]);
    expect([...heldPermissions(s, at('location', 'site'))]).toEqual(['staff:edit']);
    expect([...heldPermissions(s, at('location', 'other'))]).toEqual([]);
    expect([...heldPermissions(s, at('tenant'))]).toEqual([]);
  });

  it('a tenant-wide role holds everywhere; an institution or application role only there', () => {
    const s = snapshot([assignment('manager', at('tenant')), assignment('auditor', at('institution', 'i1'))]);
    expect([...heldPermissions(s, at('application', 'a1'))]).toEqual(['staff:edit']);
    expect([...heldPermissions(s, at('institution', 'i1'))].sort()).toEqual(['audit:read', 'staff:edit']);
    expect([...heldPermissions(s, at('institution', 'i2'))]).toEqual(['staff:edit']);
  });

  it('ignores expired and future assignments, and PHI roles of a user without the flag', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const s = snapshot([
      assignment('manager', at('tenant'), { expiresAt: new Date('2026-05-01T00:00:00Z') }),
      assignment('auditor', at('tenant'), { startsAt: new Date('2026-07-01T00:00:00Z') }),
      assignment('clinician', at('tenant')),
    ]);
    expect([...heldPermissions(s, at('tenant'), now)]).toEqual([]);
    expect([...heldPermissions({ ...s, phiAccess: true }, at('tenant'), now)]).toEqual(['patients:read']);
  });

  it('scopeContains: a location contains itself and its descendants only', () => {
    expect(scopeContains(at('location', 'region'), at('location', 'region'), locations)).toBe(true);
    expect(scopeContains(at('location', 'site'), at('location', 'region'), locations)).toBe(false);
    expect(scopeContains(at('location', 'region'), at('institution', 'region'), locations)).toBe(false);
  });
});

describe('widerLimits: holding a permission within limits is not holding it without them', () => {
  const role = (id: string, permissions: string[], constraints?: RoleDefinition['constraints']): RoleDefinition => ({ id, key: id, parentId: null, permissions, removedPermissions: [], requiresPhi: false, ...(constraints ? { constraints } : {}) });
  const roles = new Map([
    role('small_approver', ['billing:charges:approve', 'billing:charges:read'], { 'billing:charges:approve': { maxAmount: 500 } }),
    role('large_approver', ['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 5000 } }),
    role('billing_admin', ['billing:*']),
  ].map((r) => [r.id, r]));
  const tenantWide = { scopeType: 'tenant' as const, scopeId: null };
  const snapshot = (...roleIds: string[]): AuthzSnapshot => ({
    phiAccess: false, roles, locations: new Map(), institutions: new Map(), teams: [],
    assignments: roleIds.map((roleId) => ({ roleId, ...tenantWide, startsAt: null, expiresAt: null })),
  });
  const grant = (permissions: string[], constraints: Record<string, { maxAmount?: number }> = {}) => ({ permissions: new Set(permissions), constraints: new Map(Object.entries(constraints)) });

  it('refuses a grant with no limit or a larger one, allows the same or a smaller one', () => {
    const mine = snapshot('small_approver');
    expect(widerLimits(mine, tenantWide, grant(['billing:charges:approve']))).toEqual([{ permission: 'billing:charges:approve', held: { maxAmount: 500 }, granted: null }]);
    expect(widerLimits(mine, tenantWide, grant(['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 501 } }))).toHaveLength(1);
    expect(widerLimits(mine, tenantWide, grant(['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 500 } }))).toEqual([]);
    expect(widerLimits(mine, tenantWide, grant(['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 20 } }))).toEqual([]);
  });

  it('a wildcard grant carries the constrained permission too', () => {
    expect(widerLimits(snapshot('small_approver'), tenantWide, grant(['billing:*']))).toHaveLength(1);
  });

  it('permissions the grant does not carry are not compared', () => {
    expect(widerLimits(snapshot('small_approver'), tenantWide, grant(['billing:charges:read']))).toEqual([]);
  });

  it('merges the granter\'s own grants as tokens do: an unlimited grant of the permission lifts the limit', () => {
    expect(widerLimits(snapshot('small_approver', 'billing_admin'), tenantWide, grant(['billing:charges:approve']))).toEqual([]);
    expect(widerLimits(snapshot('small_approver', 'large_approver'), tenantWide, grant(['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 5000 } }))).toEqual([]);
    expect(widerLimits(snapshot('small_approver', 'large_approver'), tenantWide, grant(['billing:charges:approve'], { 'billing:charges:approve': { maxAmount: 5001 } }))).toHaveLength(1);
  });
});
