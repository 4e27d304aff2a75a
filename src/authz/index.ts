export { isPermission, basePermission, projectPermissions, permissionCovered, missingPermissions } from './permissions.ts';
export { rolePermissions, roleRequiresPhi, RoleCycleError, type RoleDefinition } from './role-permissions.ts';
export {
  projectClaims,
  locationAndDescendants,
  isEffective,
  withDerived,
  type AuthzSnapshot,
  type ProjectedClaims,
  type ProjectionTarget,
} from './project-claims.ts';
export {
  scopeContains,
  heldPermissions,
  allPermissions,
  scopesHolding,
  isAdminPermission,
  type ScopeRef,
} from './grant-rule.ts';
export { hasExpired, inEffect } from './in-effect.ts';
