// can(): the decisions a relying application takes offline from a Caregate token's claims.
import { describe, expect, it } from '@jest/globals';
import { can } from './can.ts';
import type { CaregateClaims } from './caregate-claims.ts';

const claims: CaregateClaims = {
  sub: 'user-1',
  tenant: 'acme',
  tenant_id: 'tenant-1',
  permissions: ['patients:read', 'notes:edit:own', 'billing:charges:approve', 'trials:enrol'],
  location_permissions: { 'loc-north': ['schedule:approve'], 'loc-south': ['schedule:create'] },
  institutions: ['site-boston'],
  constraints: { 'billing:charges:approve': { maxAmount: 500 } },
};
const without = <K extends keyof CaregateClaims>(key: K): CaregateClaims => {
  const copy = { ...claims };
  delete copy[key];
  return copy;
};

describe('can: tenant-wide permissions', () => {
  it('allows a permission held outright', () => {
    expect(can(claims, 'patients:read')).toBe(true);
  });

  it('refuses a permission not held', () => {
    expect(can(claims, 'patients:delete')).toBe(false);
  });

  it('refuses when the token has no permissions claim at all', () => {
    expect(can({ sub: 'user-1', tenant: 'acme', tenant_id: 't' }, 'patients:read')).toBe(false);
  });

  it('does not read a permission as a prefix of a longer one', () => {
    expect(can(claims, 'patients')).toBe(false);
    expect(can(claims, 'patients:read:all')).toBe(false);
  });
});

describe('can: own-only permissions', () => {
  it('allows a "feature:action:own" permission on a record the subject owns', () => {
    expect(can(claims, 'notes:edit', { ownerId: 'user-1' })).toBe(true);
  });

  it("refuses it on someone else's record", () => {
    expect(can(claims, 'notes:edit', { ownerId: 'user-2' })).toBe(false);
  });

  it('refuses it when no owner is given', () => {
    expect(can(claims, 'notes:edit')).toBe(false);
  });

  it('refuses it when the token has no subject, even for an owner id of "undefined"', () => {
    expect(can(without('sub'), 'notes:edit', { ownerId: 'user-1' })).toBe(false);
    expect(can(without('sub'), 'notes:edit', { ownerId: undefined })).toBe(false);
  });

  it('answers a question asked with ":own" as the action itself, the owner deciding', () => {
    expect(can(claims, 'notes:edit:own')).toBe(false);
    expect(can(claims, 'notes:edit:own', { ownerId: 'user-2' })).toBe(false);
    expect(can(claims, 'notes:edit:own', { ownerId: 'user-1' })).toBe(true);
  });

  it('lets the full permission allow the action on anyone\'s record', () => {
    const editor: CaregateClaims = { ...claims, permissions: ['notes:edit'] };
    expect(can(editor, 'notes:edit', { ownerId: 'user-2' })).toBe(true);
    expect(can(editor, 'notes:edit:own', { ownerId: 'user-2' })).toBe(true);
  });
});

describe('can: locations', () => {
  it('allows a location permission only at that location', () => {
    expect(can(claims, 'schedule:approve', { location: 'loc-north' })).toBe(true);
    expect(can(claims, 'schedule:approve', { location: 'loc-south' })).toBe(false);
    expect(can(claims, 'schedule:approve')).toBe(false);
  });

  it('refuses at a location the claim does not list', () => {
    expect(can(claims, 'schedule:approve', { location: 'loc-west' })).toBe(false);
  });

  it('refuses a location permission when the token has no location_permissions claim', () => {
    expect(can(without('location_permissions'), 'schedule:approve', { location: 'loc-north' })).toBe(false);
  });

  it('still allows tenant-wide permissions at any location', () => {
    expect(can(claims, 'patients:read', { location: 'loc-south' })).toBe(true);
  });

  it('applies the own-only rule to a location permission too', () => {
    const located: CaregateClaims = { ...claims, permissions: [], location_permissions: { 'loc-north': ['notes:edit:own'] } };
    expect(can(located, 'notes:edit', { location: 'loc-north', ownerId: 'user-1' })).toBe(true);
    expect(can(located, 'notes:edit', { location: 'loc-north', ownerId: 'user-2' })).toBe(false);
    expect(can(located, 'notes:edit', { location: 'loc-south', ownerId: 'user-1' })).toBe(false);
  });
});

describe('can: institutions', () => {
  it('allows at an institution the subject is assigned to', () => {
    expect(can(claims, 'trials:enrol', { institution: 'site-boston' })).toBe(true);
  });

  it('refuses at an institution the subject is not assigned to, though the permission is held', () => {
    expect(can(claims, 'trials:enrol', { institution: 'site-denver' })).toBe(false);
  });

  it('refuses at any institution when the token has no institutions claim (scope not asked for)', () => {
    expect(can(without('institutions'), 'trials:enrol', { institution: 'site-boston' })).toBe(false);
  });

  it('refuses a permission not held, even at an assigned institution', () => {
    expect(can(claims, 'trials:withdraw', { institution: 'site-boston' })).toBe(false);
  });
});

describe('can: constraints', () => {
  const approve = 'billing:charges:approve';

  it('allows an amount up to the maxAmount constraint, inclusive', () => {
    expect(can(claims, approve, { amount: 120 })).toBe(true);
    expect(can(claims, approve, { amount: 500 })).toBe(true);
  });

  it('refuses an amount above maxAmount', () => {
    expect(can(claims, approve, { amount: 600 })).toBe(false);
    expect(can(claims, approve, { amount: 500.01 })).toBe(false);
  });

  it('refuses a constrained permission when no amount is given', () => {
    expect(can(claims, approve)).toBe(false);
  });

  it('refuses an amount that is not a finite number', () => {
    expect(can(claims, approve, { amount: Number.NaN })).toBe(false);
    expect(can(claims, approve, { amount: Number.NEGATIVE_INFINITY })).toBe(false);
    expect(can(claims, approve, { amount: '100' as unknown as number })).toBe(false);
  });

  it('leaves permissions without constraints unbounded', () => {
    expect(can(claims, 'patients:read', { amount: 1_000_000 })).toBe(true);
  });

  it('refuses a constraint it does not know, since it cannot enforce it', () => {
    const odd = { ...claims, constraints: { [approve]: { maxAmount: 500, currency: 'USD' } } } as CaregateClaims;
    expect(can(odd, approve, { amount: 100 })).toBe(false);
  });

  it('refuses when the constraint is malformed', () => {
    for (const bad of [null, [], 'cheap', { maxAmount: '500' }]) {
      const odd = { ...claims, constraints: { [approve]: bad } } as unknown as CaregateClaims;
      expect(can(odd, approve, { amount: 100 })).toBe(false);
    }
  });

  it('binds an own-only grant by a constraint filed under either form of the permission', () => {
    const own: CaregateClaims = { ...claims, permissions: ['expenses:approve:own'], constraints: { 'expenses:approve': { maxAmount: 50 } } };
    expect(can(own, 'expenses:approve', { ownerId: 'user-1', amount: 40 })).toBe(true);
    expect(can(own, 'expenses:approve', { ownerId: 'user-1', amount: 60 })).toBe(false);
    const ownForm: CaregateClaims = { ...own, constraints: { 'expenses:approve:own': { maxAmount: 50 } } };
    expect(can(ownForm, 'expenses:approve', { ownerId: 'user-1', amount: 60 })).toBe(false);
  });

  it('applies the constraint to a permission held at a location', () => {
    const located: CaregateClaims = { ...claims, permissions: [], location_permissions: { 'loc-north': [approve] } };
    expect(can(located, approve, { location: 'loc-north', amount: 400 })).toBe(true);
    expect(can(located, approve, { location: 'loc-north', amount: 600 })).toBe(false);
  });
});

describe('can: claims exactly as Caregate emits them', () => {
  // A delegate holding part of a shift lead's role at North, and a billing role limited to 500 that
  // another role widens to 2,000 (the least restrictive wins before the token is signed).
  const emitted: CaregateClaims = {
    sub: 'dave', tenant: 'demo', tenant_id: 't-1', roles: ['charge_approver', 'senior_approver'],
    permissions: ['billing:charges:approve', 'billing:charges:read'],
    locations: { north: ['rota_viewer'] }, location_permissions: { north: ['rota:edit', 'rota:read'] },
    institutions: [], teams: [], phi: false,
    constraints: { 'billing:charges:approve': { maxAmount: 2000 } },
    delegated_from: { 'rota:edit': ['maria'] },
  };

  it('enforces the merged limit and leaves delegated permissions to decide like any other', () => {
    expect(can(emitted, 'billing:charges:approve', { amount: 2000 })).toBe(true);
    expect(can(emitted, 'billing:charges:approve', { amount: 2001 })).toBe(false);
    expect(can(emitted, 'billing:charges:read', { amount: 1_000_000 })).toBe(true);
    expect(can(emitted, 'rota:edit', { location: 'north' })).toBe(true);
    expect(can(emitted, 'rota:edit', { location: 'south' })).toBe(false);
  });
});
