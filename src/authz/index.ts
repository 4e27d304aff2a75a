export { isPermission, basePermission, projectPermissions, permissionCovered, missingPermissions } from './permissions.ts';
export { rolePermissions, roleRequiresPhi, RoleCycleError, type RoleDefinition } from './role-permissions.ts';
export {
  projectClaims,
  locationAndDescendants,
  isEffective,
  withDerived,
  assignmentPermissions,
  contributingAssignments,
  claimsValidUntil,
  type AuthzSnapshot,
  type SnapshotAssignment,
  type ProjectedClaims,
  type ProjectionTarget,
} from './project-claims.ts';
export {
  scopeContains,
  heldPermissions,
  allPermissions,
  scopesHolding,
  isAdminPermission,
  widerLimits,
  type ScopeRef,
  type WiderLimit,
} from './grant-rule.ts';
export { hasExpired, inEffect } from './in-effect.ts';
export { windowOpen, windowState, startOfLocalDay, weekIntervals, clockMinutes, wallClock, WEEKDAYS, type TimeWindow, type TimeRange, type Weekday } from './time-window.ts';
export { roleConstraints, leastRestrictive, CONSTRAINT_NAMES, type PermissionConstraints } from './constraints.ts';
export { restrictSnapshot, intersectPermissions } from './restrict-snapshot.ts';
export { decide, evaluateAccess, type AccessQuestion, type AccessDecision, type DenyReason } from './decide.ts';
export { parseRange, formatRange, normaliseRanges, rangeMatcher, familyOf, neighbourhoodOf, networkPredicate, tenantAllows, RangeSyntaxError, type NetworkRuleRow } from './network-rules.ts';
