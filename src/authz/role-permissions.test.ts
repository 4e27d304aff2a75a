// Custom roles inherit their parent's permissions, add their own and remove those they list.
import { describe, expect, it } from '@jest/globals';
import { RoleCycleError, rolePermissions, roleRequiresPhi, type RoleDefinition } from './role-permissions.ts';

function role(id: string, parentId: string | null, init: Partial<RoleDefinition> = {}): RoleDefinition {
  return { id, key: id, parentId, permissions: [], removedPermissions: [], requiresPhi: false, ...init };
}

function catalogue(...roles: RoleDefinition[]): Map<string, RoleDefinition> {
  return new Map(roles.map((r) => [r.id, r]));
}

// provider → senior-provider → supervising-provider
const roles = catalogue(
  role('provider', null, { permissions: ['patients:read', 'notes:read', 'notes:edit:own', 'rx:create'], requiresPhi: true }),
  role('senior-provider', 'provider', { permissions: ['notes:edit', 'notes:delete'], removedPermissions: ['rx:create'] }),
  role('supervising-provider', 'senior-provider', {
    permissions: ['rx:create', 'notes:approve'],
    removedPermissions: ['notes:delete'],
  }),
  role('front-desk', null, { permissions: ['appointments:create'] }),
);

describe('rolePermissions', () => {
  it('returns the permissions of a role without a parent', () => {
    expect([...rolePermissions('front-desk', roles)]).toEqual(['appointments:create']);
  });

  it('inherits the parent, adds its own and removes what it lists (two levels)', () => {
    expect([...rolePermissions('senior-provider', roles)].sort()).toEqual(
      ['notes:delete', 'notes:edit', 'notes:edit:own', 'notes:read', 'patients:read'].sort(),
    );
  });

  it('applies removals level by level across three levels, so a grandchild may re-add what its parent removed', () => {
    expect([...rolePermissions('supervising-provider', roles)].sort()).toEqual(
      ['notes:approve', 'notes:edit', 'notes:edit:own', 'notes:read', 'patients:read', 'rx:create'].sort(),
    );
  });

  it('does not change the parent when a child removes one of its permissions', () => {
    expect(rolePermissions('provider', roles).has('rx:create')).toBe(true);
  });

  it('returns nothing for an unknown role', () => {
    expect(rolePermissions('missing', roles).size).toBe(0);
  });

  it('throws RoleCycleError naming the role when inheritance loops', () => {
    const looping = catalogue(role('a', 'c'), role('b', 'a'), role('c', 'b'));
    expect(() => rolePermissions('a', looping)).toThrow(RoleCycleError);
    expect(() => rolePermissions('b', looping)).toThrow(/cycle at [abc]/);
  });

  it('throws RoleCycleError for a role that is its own parent', () => {
    expect(() => rolePermissions('self', catalogue(role('self', 'self')))).toThrow(RoleCycleError);
  });
});

describe('roleRequiresPhi', () => {
  it('is true for a role that requires PHI itself', () => {
    expect(roleRequiresPhi('provider', roles)).toBe(true);
  });

  it('is true for a role whose grandparent requires PHI', () => {
    expect(roleRequiresPhi('supervising-provider', roles)).toBe(true);
  });

  it('is false when neither the role nor any ancestor requires PHI', () => {
    expect(roleRequiresPhi('front-desk', roles)).toBe(false);
  });

  it('terminates on a cycle instead of looping forever', () => {
    expect(roleRequiresPhi('a', catalogue(role('a', 'b'), role('b', 'a')))).toBe(false);
  });
});
