// One table of access questions, answered alike by the two readers of Caregate's claims: the
// server's decide() (the live decision endpoint, over a projection made now) and @caregate/client's
// can() (offline, over a token's claims). A rule changed in one and not the other fails here.
import { describe, expect, it } from '@jest/globals';
import { decide, type AccessQuestion, type ProjectedClaims } from '../../src/authz/index.ts';
import { can } from '../../packages/client/src/can.ts';

const SUBJECT = 'user-1';
const claims: ProjectedClaims = {
  roles: ['clinician'],
  permissions: ['patients:read', 'notes:edit:own', 'billing:charges:approve', 'billing:refunds:issue:own', 'trials:enrol'],
  locations: { north: ['scheduler'] },
  location_permissions: { north: ['schedule:approve'], south: ['schedule:create'] },
  institutions: ['boston'],
  teams: [],
  phi: false,
  constraints: { 'billing:charges:approve': { maxAmount: 500 }, 'billing:refunds:issue:own': { maxAmount: 50 } },
};

const cases: Array<[string, AccessQuestion, boolean]> = [
  ['a permission held tenant-wide', { permission: 'patients:read' }, true],
  ['a permission not held', { permission: 'patients:delete' }, false],
  ['a prefix of a held permission', { permission: 'patients' }, false],
  ['a longer form of a held permission', { permission: 'patients:read:all' }, false],
  ['own-only, on the subject\'s own record', { permission: 'notes:edit', ownerId: SUBJECT }, true],
  ['own-only, on someone else\'s record', { permission: 'notes:edit', ownerId: 'user-2' }, false],
  ['own-only, with no owner given', { permission: 'notes:edit' }, false],
  ['own-only asked with ":own", own record', { permission: 'notes:edit:own', ownerId: SUBJECT }, true],
  ['own-only asked with ":own", no owner', { permission: 'notes:edit:own' }, false],
  ['a location permission at its location', { permission: 'schedule:approve', location: 'north' }, true],
  ['a location permission at another location', { permission: 'schedule:approve', location: 'south' }, false],
  ['a location permission with no location given', { permission: 'schedule:approve' }, false],
  ['a location permission at an unknown location', { permission: 'schedule:approve', location: 'west' }, false],
  ['a tenant-wide permission at any location', { permission: 'patients:read', location: 'west' }, true],
  ['a record of the subject\'s institution', { permission: 'trials:enrol', institution: 'boston' }, true],
  ['a record of another institution', { permission: 'trials:enrol', institution: 'chicago' }, false],
  ['an amount within the limit', { permission: 'billing:charges:approve', amount: 500 }, true],
  ['an amount over the limit', { permission: 'billing:charges:approve', amount: 600 }, false],
  ['a constrained permission with no amount', { permission: 'billing:charges:approve' }, false],
  ['a constrained permission with a non-finite amount', { permission: 'billing:charges:approve', amount: Number.POSITIVE_INFINITY }, false],
  ['own-only and constrained, own record within the limit', { permission: 'billing:refunds:issue', ownerId: SUBJECT, amount: 50 }, true],
  ['own-only and constrained, own record over the limit', { permission: 'billing:refunds:issue', ownerId: SUBJECT, amount: 51 }, false],
];

describe('decide() and can() answer every question alike', () => {
  it.each(cases)('%s', (_name, question, expected) => {
    const { permission, ...context } = question;
    expect(decide(SUBJECT, claims, question).allowed).toBe(expected);
    expect(can({ sub: SUBJECT, tenant: 'acme', tenant_id: 't', ...claims }, permission, context)).toBe(expected);
  });

  it('both refuse a constraint they do not know (fail closed)', () => {
    const odd = { ...claims, constraints: { 'patients:read': { maxRecords: 10 } as never } };
    expect(decide(SUBJECT, odd, { permission: 'patients:read', amount: 1 }).allowed).toBe(false);
    expect(can({ sub: SUBJECT, tenant: 'acme', tenant_id: 't', ...odd }, 'patients:read', { amount: 1 })).toBe(false);
  });
});

describe('decide() says why it refuses', () => {
  it.each<[AccessQuestion, string]>([
    [{ permission: 'patients:delete' }, 'permission_not_held'],
    [{ permission: 'notes:edit', ownerId: 'user-2' }, 'own_records_only'],
    [{ permission: 'trials:enrol', institution: 'chicago' }, 'outside_institution'],
    [{ permission: 'billing:charges:approve' }, 'amount_required'],
    [{ permission: 'billing:charges:approve', amount: 501 }, 'amount_over_limit'],
  ])('%j → %s', (question, reason) => {
    expect(decide(SUBJECT, claims, question)).toEqual({ allowed: false, reason });
  });
});
