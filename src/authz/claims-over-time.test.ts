// Claims that change with time and hand-overs: an assignment with a weekly window grants only while
// it is open, a delegation carries `delegated_from` (a partial one only its permissions), and
// claimsValidUntil says when the claims projected now stop being true.
import { describe, expect, it } from '@jest/globals';
import { claimsValidUntil, projectClaims, type AuthzSnapshot, type SnapshotAssignment } from './project-claims.ts';
import { heldPermissions } from './grant-rule.ts';
import type { RoleDefinition } from './role-permissions.ts';
import type { TimeWindow } from './time-window.ts';

const role = (id: string, permissions: string[]): RoleDefinition => ({ id, key: id, parentId: null, permissions, removedPermissions: [], requiresPhi: false });
const roles = new Map([role('manager', ['schedule:read', 'schedule:edit', 'staff:read', 'caregate.users:read']), role('nurse', ['patients:read'])].map((r) => [r.id, r]));
const app = { applicationId: 'app', catalogue: ['schedule:read', 'schedule:edit', 'staff:read', 'patients:read'] };
const a = (roleId: string, init: Partial<SnapshotAssignment> = {}): SnapshotAssignment => ({ roleId, scopeType: 'tenant', scopeId: null, startsAt: null, expiresAt: null, ...init });
const snap = (assignments: SnapshotAssignment[], timeZone = 'Europe/London'): AuthzSnapshot => ({
  phiAccess: false, roles, locations: new Map([['loc-a', { key: 'site-a', parentId: null }]]), institutions: new Map(), teams: [], timeZone, assignments,
});

const DAY_SHIFT: TimeWindow = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }];
// Wednesday 4 March 2026; London is on GMT (UTC+0) until 29 March.
const WED_NOON = new Date('2026-03-04T12:00:00Z');
const WED_EVENING = new Date('2026-03-04T18:00:00Z');

describe('weekly windows in claims', () => {
  it('grants a windowed role only while its window is open, in the tenant\'s time zone', () => {
    const s = snap([a('nurse'), a('manager', { timeWindow: DAY_SHIFT })]);
    expect(projectClaims(s, app, WED_NOON).roles).toEqual(['manager', 'nurse']);
    expect(projectClaims(s, app, WED_EVENING).roles).toEqual(['nurse']);
    expect(projectClaims(s, app, WED_EVENING).permissions).toEqual(['patients:read']);
    // 12:00 UTC is 07:00 in New York: the same window is closed there.
    expect(projectClaims(snap(s.assignments, 'America/New_York'), app, WED_NOON).roles).toEqual(['nurse']);
  });

  it('holds no admin permission outside the window either (the grant rule reads the same evaluation)', () => {
    const s = snap([a('manager', { timeWindow: DAY_SHIFT })]);
    expect(heldPermissions(s, { scopeType: 'tenant', scopeId: null }, WED_NOON).has('caregate.users:read')).toBe(true);
    expect(heldPermissions(s, { scopeType: 'tenant', scopeId: null }, WED_EVENING).size).toBe(0);
  });
});

describe('claimsValidUntil', () => {
  it('is the close of the window of a contributing assignment', () => {
    expect(claimsValidUntil(snap([a('nurse'), a('manager', { timeWindow: DAY_SHIFT })]), app, WED_NOON)).toEqual(new Date('2026-03-04T17:00:00Z'));
  });

  it('is the earliest end among window closes and expiry dates', () => {
    const soon = new Date('2026-03-04T13:30:00Z');
    expect(claimsValidUntil(snap([a('nurse', { expiresAt: soon }), a('manager', { timeWindow: DAY_SHIFT })]), app, WED_NOON)).toEqual(soon);
  });

  it('ignores assignments that do not shape this token: closed, not started, another application', () => {
    const s = snap([
      a('nurse'),
      a('manager', { timeWindow: DAY_SHIFT, expiresAt: new Date('2026-03-04T19:00:00Z') }), // closed at 18:00
      a('manager', { startsAt: new Date('2026-03-05T00:00:00Z'), expiresAt: new Date('2026-03-06T00:00:00Z') }),
      a('manager', { scopeType: 'application', scopeId: 'other-app', expiresAt: new Date('2026-03-04T18:30:00Z') }),
    ]);
    expect(claimsValidUntil(s, app, WED_EVENING)).toBeNull();
  });
});

describe('delegations in claims', () => {
  const manager = 'user-manager-1';

  it('carries a delegated role like any role, naming the delegator in delegated_from', () => {
    const claims = projectClaims(snap([a('nurse'), a('manager', { delegatedBy: manager })]), app, WED_NOON);
    expect(claims.roles).toEqual(['manager', 'nurse']);
    expect(claims.delegated_from).toEqual({ manager: [manager] });
  });

  it('carries only the permissions of a partial delegation, keyed by permission, without the role key', () => {
    const claims = projectClaims(snap([a('nurse'), a('manager', { delegatedBy: manager, permissions: ['schedule:edit', 'caregate.users:read'] })]), app, WED_NOON);
    expect(claims.roles).toEqual(['nurse']);
    expect(claims.permissions).toEqual(['patients:read', 'schedule:edit']);
    expect(claims.delegated_from).toEqual({ 'schedule:edit': [manager] });
  });

  it('grants a partial delegate only that part as admin authority too', () => {
    const s = snap([a('manager', { delegatedBy: manager, permissions: ['schedule:edit'] })]);
    expect([...heldPermissions(s, { scopeType: 'tenant', scopeId: null }, WED_NOON)]).toEqual(['schedule:edit']);
  });

  it('keeps a permission the role no longer carries out of a partial delegation', () => {
    const claims = projectClaims(snap([a('nurse', { delegatedBy: manager, permissions: ['schedule:edit'] })]), app, WED_NOON);
    expect(claims.permissions).toEqual([]);
    expect(claims).not.toHaveProperty('delegated_from');
  });

  it('stops carrying a delegation after its end, and caps the claims at it', () => {
    const end = new Date('2026-03-04T15:00:00Z');
    const s = snap([a('nurse'), a('manager', { delegatedBy: manager, expiresAt: end })]);
    expect(claimsValidUntil(s, app, WED_NOON)).toEqual(end);
    expect(projectClaims(s, app, end)).not.toHaveProperty('delegated_from');
    expect(projectClaims(s, app, end).roles).toEqual(['nurse']);
  });

  it('names a delegated role held at a location under its key', () => {
    const claims = projectClaims(snap([a('manager', { scopeType: 'location', scopeId: 'loc-a', delegatedBy: manager })]), app, WED_NOON);
    expect(claims.locations).toEqual({ 'site-a': ['manager'] });
    expect(claims.delegated_from).toEqual({ manager: [manager] });
  });
});
