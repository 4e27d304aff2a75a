// The no-escalation rule's pure parts: which held permissions cover a wanted one, and which
// assignments count at a scope.
import { describe, expect, it } from '@jest/globals';
import { heldPermissions, scopeContains } from './grant-rule.ts';
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
