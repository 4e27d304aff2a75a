// The token contract (DESIGN.md): what a relying application reads from roles, locations,
// institutions and permissions, projected for that application only.
import { describe, expect, it } from '@jest/globals';
import { locationAndDescendants, projectClaims, type AuthzSnapshot } from './project-claims.ts';
import type { RoleDefinition } from './role-permissions.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3600_000;

const EHR_APP = 'app-ehr';
const ANALYTICS_APP = 'app-analytics';
const ehr = {
  applicationId: EHR_APP,
  catalogue: ['patients:read', 'patients:edit', 'notes:read', 'notes:edit:own', 'schedule:read', 'schedule:create', 'billing:charges:approve'],
};
const analytics = { applicationId: ANALYTICS_APP, catalogue: ['reports:read', 'reports:export', 'dashboards:edit'] };

function role(id: string, permissions: string[], init: Partial<RoleDefinition> = {}): RoleDefinition {
  return { id, key: id.replace(/^role-/, ''), parentId: null, permissions, removedPermissions: [], requiresPhi: false, ...init };
}

const roles = new Map<string, RoleDefinition>(
  [
    role('role-provider', ['patients:read', 'patients:edit', 'notes:read', 'notes:edit:own'], { requiresPhi: true }),
    // Inherits PHI from its parent without declaring it itself.
    role('role-senior-provider', ['billing:charges:approve'], { parentId: 'role-provider' }),
    role('role-front_desk', ['patients:read', 'schedule:*']),
    role('role-reporting_user', ['reports:read', 'reports:export']),
    role('role-staff', ['schedule:read', 'inventory:read']),
    role('role-coordinator', ['participants:read', 'notes:read']),
  ].map((r) => [r.id, r]),
);

// region-north → site-north-a → room-north-a1 ; region-north → site-north-b ; site-south stands alone
const locations = new Map([
  ['loc-region-north', { key: 'region-north', parentId: null }],
  ['loc-site-north-a', { key: 'site-north-a', parentId: 'loc-region-north' }],
  ['loc-room-north-a1', { key: 'room-north-a1', parentId: 'loc-site-north-a' }],
  ['loc-site-north-b', { key: 'site-north-b', parentId: 'loc-region-north' }],
  ['loc-site-south', { key: 'site-south', parentId: null }],
]);

const institutions = new Map([
  ['inst-boston', { key: 'site-boston' }],
  ['inst-denver', { key: 'site-denver' }],
]);

type Assignment = AuthzSnapshot['assignments'][number];
const tenantWide = (roleId: string, init: Partial<Assignment> = {}): Assignment => ({
  roleId,
  scopeType: 'tenant',
  scopeId: null,
  startsAt: null,
  expiresAt: null,
  ...init,
});
const scoped = (roleId: string, scopeType: Assignment['scopeType'], scopeId: string, init: Partial<Assignment> = {}): Assignment =>
  tenantWide(roleId, { scopeType, scopeId, ...init });

function snapshot(assignments: Assignment[], init: Partial<AuthzSnapshot> = {}): AuthzSnapshot {
  return { phiAccess: true, roles, locations, institutions, teams: [], assignments, ...init };
}

describe('projectClaims: tenant-wide roles', () => {
  it('puts tenant-wide role keys in roles and their permissions in permissions', () => {
    const claims = projectClaims(snapshot([tenantWide('role-provider')]), ehr, NOW);
    expect(claims.roles).toEqual(['provider']);
    expect(claims.permissions).toEqual(['notes:edit:own', 'notes:read', 'patients:edit', 'patients:read']);
    expect(claims.locations).toEqual({});
    expect(claims.location_permissions).toEqual({});
    expect(claims.institutions).toEqual([]);
  });

  it('unions the permissions of several roles, sorted', () => {
    const claims = projectClaims(snapshot([tenantWide('role-front_desk'), tenantWide('role-staff')]), ehr, NOW);
    expect(claims.roles).toEqual(['front_desk', 'staff']);
    expect(claims.permissions).toEqual(['patients:read', 'schedule:create', 'schedule:read']);
  });

  it('includes permissions a role inherits from its parent', () => {
    const claims = projectClaims(snapshot([tenantWide('role-senior-provider')]), ehr, NOW);
    expect(claims.permissions).toEqual(['billing:charges:approve', 'notes:edit:own', 'notes:read', 'patients:edit', 'patients:read']);
  });

  it('carries the team keys and the PHI flag through, sorted', () => {
    const claims = projectClaims(snapshot([], { teams: ['study-coordinators', 'everyone'], phiAccess: false }), ehr, NOW);
    expect(claims.teams).toEqual(['everyone', 'study-coordinators']);
    expect(claims.phi).toBe(false);
  });
});

describe('projectClaims: locations', () => {
  it('lets a role granted on a region reach every site and room below it, and no other location', () => {
    const claims = projectClaims(snapshot([scoped('role-front_desk', 'location', 'loc-region-north')]), ehr, NOW);
    expect(claims.locations).toEqual({
      'region-north': ['front_desk'],
      'site-north-a': ['front_desk'],
      'room-north-a1': ['front_desk'],
      'site-north-b': ['front_desk'],
    });
    expect(claims.location_permissions['room-north-a1']).toEqual(['patients:read', 'schedule:create', 'schedule:read']);
    expect(claims.location_permissions['site-south']).toBeUndefined();
  });

  it('does not put location-scoped roles or permissions in the tenant-wide claims', () => {
    const claims = projectClaims(snapshot([scoped('role-front_desk', 'location', 'loc-site-south')]), ehr, NOW);
    expect(claims.roles).toEqual([]);
    expect(claims.permissions).toEqual([]);
    expect(claims.locations).toEqual({ 'site-south': ['front_desk'] });
    expect(claims.location_permissions).toEqual({ 'site-south': ['patients:read', 'schedule:create', 'schedule:read'] });
  });

  it('merges a region role with a site role at the site, and keeps only the region role at its sibling', () => {
    const claims = projectClaims(
      snapshot([scoped('role-staff', 'location', 'loc-region-north'), scoped('role-provider', 'location', 'loc-site-north-a')]),
      ehr,
      NOW,
    );
    expect(claims.locations['site-north-a']).toEqual(['provider', 'staff']);
    expect(claims.locations['site-north-b']).toEqual(['staff']);
    expect(claims.location_permissions['site-north-a']).toEqual([
      'notes:edit:own',
      'notes:read',
      'patients:edit',
      'patients:read',
      'schedule:read',
    ]);
    expect(claims.location_permissions['site-north-b']).toEqual(['schedule:read']);
  });

  it('lists the location in locations but omits it from location_permissions when nothing applies to this application', () => {
    const claims = projectClaims(snapshot([scoped('role-reporting_user', 'location', 'loc-site-south')]), ehr, NOW);
    expect(claims.locations).toEqual({ 'site-south': ['reporting_user'] });
    expect(claims.location_permissions).toEqual({});
  });

  it('ignores an assignment on a location that does not exist', () => {
    const claims = projectClaims(snapshot([scoped('role-staff', 'location', 'loc-deleted')]), ehr, NOW);
    expect(claims.locations).toEqual({});
  });
});

describe('locationAndDescendants', () => {
  it('returns the location and all its descendants, breadth first', () => {
    expect(locationAndDescendants('loc-region-north', locations)).toEqual([
      'loc-region-north',
      'loc-site-north-a',
      'loc-site-north-b',
      'loc-room-north-a1',
    ]);
  });

  it('terminates on a corrupt tree whose parents loop', () => {
    const loop = new Map([
      ['a', { parentId: 'b' }],
      ['b', { parentId: 'a' }],
    ]);
    expect(locationAndDescendants('a', loop).sort()).toEqual(['a', 'b']);
  });
});

describe('projectClaims: institutions', () => {
  it('adds the institution key and the role permissions for an institution assignment', () => {
    const claims = projectClaims(snapshot([scoped('role-coordinator', 'institution', 'inst-boston')]), ehr, NOW);
    expect(claims.institutions).toEqual(['site-boston']);
    expect(claims.roles).toEqual(['coordinator']);
    expect(claims.permissions).toEqual(['notes:read']);
  });

  it('lists every institution the user is assigned to', () => {
    const claims = projectClaims(
      snapshot([scoped('role-coordinator', 'institution', 'inst-denver'), scoped('role-coordinator', 'institution', 'inst-boston')]),
      ehr,
      NOW,
    );
    expect(claims.institutions).toEqual(['site-boston', 'site-denver']);
  });

  it('ignores an assignment on an institution that does not exist', () => {
    const claims = projectClaims(snapshot([scoped('role-coordinator', 'institution', 'inst-gone')]), ehr, NOW);
    expect(claims.institutions).toEqual([]);
    expect(claims.roles).toEqual([]);
    expect(claims.permissions).toEqual([]);
  });
});

describe('projectClaims: application-scoped assignments', () => {
  const assignments = [scoped('role-reporting_user', 'application', ANALYTICS_APP), tenantWide('role-staff')];

  it('applies an application-scoped role in a token for that application', () => {
    const claims = projectClaims(snapshot(assignments), analytics, NOW);
    expect(claims.roles).toEqual(['reporting_user', 'staff']);
    expect(claims.permissions).toEqual(['reports:export', 'reports:read']);
  });

  it('leaves an application-scoped role out of a token for another application', () => {
    const claims = projectClaims(snapshot(assignments), ehr, NOW);
    expect(claims.roles).toEqual(['staff']);
    expect(claims.permissions).toEqual(['schedule:read']);
  });

  it('leaves an application-scoped role out of a projection for no application', () => {
    const claims = projectClaims(snapshot(assignments), { applicationId: null, catalogue: analytics.catalogue }, NOW);
    expect(claims.roles).toEqual(['staff']);
    expect(claims.permissions).toEqual([]);
  });
});

describe('projectClaims: validity windows', () => {
  it('excludes an assignment that starts in the future', () => {
    const claims = projectClaims(snapshot([tenantWide('role-staff', { startsAt: new Date(NOW.getTime() + HOUR) })]), ehr, NOW);
    expect(claims.roles).toEqual([]);
    expect(claims.permissions).toEqual([]);
  });

  it('excludes an assignment that has expired', () => {
    const claims = projectClaims(snapshot([tenantWide('role-staff', { expiresAt: new Date(NOW.getTime() - HOUR) })]), ehr, NOW);
    expect(claims.roles).toEqual([]);
  });

  it('excludes an assignment at the exact instant it expires', () => {
    const claims = projectClaims(snapshot([tenantWide('role-staff', { expiresAt: NOW })]), ehr, NOW);
    expect(claims.roles).toEqual([]);
  });

  it('includes an assignment inside its window', () => {
    const claims = projectClaims(
      snapshot([
        tenantWide('role-staff', { startsAt: new Date(NOW.getTime() - HOUR), expiresAt: new Date(NOW.getTime() + HOUR) }),
      ]),
      ehr,
      NOW,
    );
    expect(claims.roles).toEqual(['staff']);
  });

  it('excludes expired location and institution assignments as well', () => {
    const past = new Date(NOW.getTime() - HOUR);
    const claims = projectClaims(
      snapshot([
        scoped('role-staff', 'location', 'loc-site-south', { expiresAt: past }),
        scoped('role-coordinator', 'institution', 'inst-boston', { expiresAt: past }),
      ]),
      ehr,
      NOW,
    );
    expect(claims.locations).toEqual({});
    expect(claims.institutions).toEqual([]);
  });
});

describe('projectClaims: PHI', () => {
  it('ignores a PHI-requiring role when the user has no PHI access', () => {
    const claims = projectClaims(snapshot([tenantWide('role-provider'), tenantWide('role-staff')], { phiAccess: false }), ehr, NOW);
    expect(claims.roles).toEqual(['staff']);
    expect(claims.permissions).toEqual(['schedule:read']);
    expect(claims.phi).toBe(false);
  });

  it('ignores a PHI-requiring role at a location when the user has no PHI access', () => {
    const claims = projectClaims(snapshot([scoped('role-provider', 'location', 'loc-site-south')], { phiAccess: false }), ehr, NOW);
    expect(claims.locations).toEqual({});
  });

  it('ignores a role that inherits the PHI requirement from its parent when the user has no PHI access', () => {
    const claims = projectClaims(snapshot([tenantWide('role-senior-provider')], { phiAccess: false }), ehr, NOW);
    expect(claims.roles).toEqual([]);
    expect(claims.permissions).toEqual([]);
  });

  it('grants a PHI-requiring role to a user with PHI access', () => {
    const claims = projectClaims(snapshot([tenantWide('role-provider')], { phiAccess: true }), ehr, NOW);
    expect(claims.roles).toEqual(['provider']);
    expect(claims.phi).toBe(true);
  });
});

describe('projectClaims: catalogue filtering', () => {
  it('drops permissions the application does not declare, from tenant-wide and location roles alike', () => {
    const claims = projectClaims(
      snapshot([tenantWide('role-staff'), scoped('role-coordinator', 'location', 'loc-site-south')]),
      ehr,
      NOW,
    );
    expect(claims.permissions).toEqual(['schedule:read']); // not inventory:read
    expect(claims.location_permissions).toEqual({ 'site-south': ['notes:read'] }); // not participants:read
  });

  it('projects the same user differently for two applications', () => {
    const s = snapshot([tenantWide('role-staff'), tenantWide('role-reporting_user')]);
    expect(projectClaims(s, ehr, NOW).permissions).toEqual(['schedule:read']);
    expect(projectClaims(s, analytics, NOW).permissions).toEqual(['reports:export', 'reports:read']);
  });
});
