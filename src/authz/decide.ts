// Answers one access question — may this subject perform this action here, now — from the claims a
// token issued now for the asking application would carry (projectClaims), read by the rules
// @caregate/client's can() applies to a token: tenant-wide and per-location permissions, the
// record's institution, own-only permissions and per-permission constraints. The two are held
// together by one table of cases (test/unit/decision-rules.test.ts). Pure.
import { CONSTRAINT_NAMES, type PermissionConstraints } from './constraints.ts';
import { basePermission } from './permissions.ts';
import { projectClaims, type AuthzSnapshot, type ProjectedClaims, type ProjectionTarget } from './project-claims.ts';

export interface AccessQuestion {
  /** The action, e.g. "notes:edit"; an own-only form ("notes:edit:own") is asked as the action. */
  permission: string;
  /** Location key where the action happens; permissions held at a location count only there. */
  location?: string;
  /** Institution key of the record; the subject must be assigned to it. */
  institution?: string;
  /** Owner of the record (a user id); an own-only permission allows the action only on the subject's own. */
  ownerId?: string;
  /** Amount the action carries, checked against a `maxAmount` constraint. */
  amount?: number;
}

/** Why a question was answered no (for the asking application, never shown to the subject). */
export type DenyReason = 'permission_not_held' | 'own_records_only' | 'outside_institution' | 'amount_required' | 'amount_over_limit';

export type AccessDecision = { allowed: true } | { allowed: false; reason: DenyReason };

const deny = (reason: DenyReason): AccessDecision => ({ allowed: false, reason });

/** The decision for `subjectId` holding `claims` (a projection for the asking application). */
export function decide(subjectId: string, claims: Pick<ProjectedClaims, 'permissions' | 'location_permissions' | 'institutions' | 'constraints'>, question: AccessQuestion): AccessDecision {
  const action = basePermission(question.permission);
  if (question.institution !== undefined && !claims.institutions.includes(question.institution)) return deny('outside_institution');
  const atLocation = question.location === undefined ? [] : (claims.location_permissions[question.location] ?? []);
  const holds = (p: string) => claims.permissions.includes(p) || atLocation.includes(p);
  let granted: string;
  if (holds(action)) granted = action;
  else if (holds(`${action}:own`)) {
    if (question.ownerId === undefined || question.ownerId !== subjectId) return deny('own_records_only');
    granted = `${action}:own`;
  } else return deny('permission_not_held');
  // A constraint filed under either form of the permission binds it.
  return withinLimits(claims.constraints?.[action], question) ?? withinLimits(claims.constraints?.[granted], question) ?? { allowed: true };
}

/** Undefined when every limit is known and met; else the refusal (an unknown limit refuses: fail closed). */
function withinLimits(limits: PermissionConstraints | undefined, question: AccessQuestion): AccessDecision | undefined {
  if (!limits) return undefined;
  for (const [name, limit] of Object.entries(limits)) {
    if (!(CONSTRAINT_NAMES as readonly string[]).includes(name) || typeof limit !== 'number') return deny('amount_over_limit');
    if (typeof question.amount !== 'number' || !Number.isFinite(question.amount)) return deny('amount_required');
    if (question.amount > limit) return deny('amount_over_limit');
  }
  return undefined;
}

/** The decision now for the owner of `snapshot`, asked by (and projected for) `target`: the one evaluator tokens come from. */
export function evaluateAccess(snapshot: AuthzSnapshot, target: ProjectionTarget, subjectId: string, question: AccessQuestion, now = new Date()): AccessDecision {
  return decide(subjectId, projectClaims(snapshot, target, now), question);
}
