// Emergency access (break-glass) and just-in-time elevation (issue 18). Administrators set the
// tenant's maximum and webhook and the break-glass rules (policy permissions, tenant-wide; a rule
// also needs the right to grant its role there); reviewers list uses and record their verdict;
// anyone asks for elevation for themselves; holders of caregate.access:approve decide, where
// they hold it (each level in turn where the tenant names approval levels). Break-glass itself is
// invoked from the account page, after signing in again; a rule that wants approvals makes the use
// wait for its approvers (a role or named people, checked by the service: no admin permission).
import { z } from 'zod';
import { breakGlassRuleInput, decisionInput, elevationInput, emergencySettingsInput, requestFilter, reviewInput, schemas, type BreakGlassApprovals, type Elevations, type EmergencyAccess } from '../accounts/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';

const id = z.object({ id: z.uuid() });
const key = z.object({ key: schemas.keySchema });

export function accessRoutes(emergency: EmergencyAccess, elevations: Elevations, approvals: BreakGlassApprovals): AdminRoute[] {
  return [
    defineRoute({ method: 'get', path: '/emergency-access/settings', summary: "The tenant's longest emergency or elevation grant and its alert webhook (never the secret)", permission: 'caregate.policy:read', handler: (r) => emergency.getSettings(r.tenant) }),
    defineRoute({
      method: 'put', path: '/emergency-access/settings', summary: 'Set the longest grant (minutes), the signed webhook every emergency use is posted to, and the approval levels of elevation requests',
      permission: 'caregate.policy:edit', body: emergencySettingsInput, handler: (r) => emergency.setSettings(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'get', path: '/emergency-access/rules', summary: 'Break-glass rules: which role may be taken where, by whom, for how long, reviewed by whom', permission: 'caregate.policy:read', handler: (r) => emergency.listRules(r.tenant) }),
    defineRoute({
      method: 'post', path: '/emergency-access/rules', summary: 'Add a break-glass rule (you must be allowed to grant its role at its scope)',
      permission: 'caregate.policy:edit', body: breakGlassRuleInput, status: 201, handler: (r) => emergency.createRule(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'delete', path: '/emergency-access/rules/{key}', summary: 'Remove a break-glass rule (uses already made stay, with their reviews)', permission: 'caregate.policy:edit', params: key, status: 204, handler: (r) => emergency.removeRule(r.tenant, r.params.key, r.actor) }),
    defineRoute({
      method: 'get', path: '/emergency-access/uses', summary: 'Emergency access uses, newest first (unreviewed=true: those still awaiting a review)',
      permission: 'caregate.access:review', query: requestFilter.pick({ unreviewed: true }), handler: (r) => emergency.listUses(r.tenant, r.query),
    }),
    defineRoute({
      method: 'post', path: '/emergency-access/uses/{id}/review', summary: "Record whether a use was justified (holders of the rule's reviewer role; never the person who used it)",
      permission: 'caregate.access:review', params: id, body: reviewInput, handler: (r) => emergency.review(r.tenant, r.params.id, r.body, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/emergency-access/uses/{id}/approve', summary: "Approve a use waiting for approval (the rule's named approvers and reviewer-role holders; never your own, one approval per person); the last approval grants it",
      permission: null, params: id, body: decisionInput.pick({ note: true }), handler: (r) => approvals.approveUse(r.tenant, r.params.id, r.body ?? {}, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/emergency-access/uses/{id}/reject', summary: "Refuse a use waiting for approval (any one of its approvers; never your own): nothing is granted and the person is told",
      permission: null, params: id, body: decisionInput.pick({ note: true }), handler: (r) => approvals.rejectUse(r.tenant, r.params.id, r.body ?? {}, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/access-requests', summary: 'Ask for a role at a scope for a while, with a reason (for yourself); approvers are told by email',
      permission: null, body: elevationInput, status: 201, handler: (r) => elevations.request(r.tenant, r.body, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/access-requests/choices', summary: 'What you may ask for, by name: the roles (those needing the PHI flag you lack marked mayAsk: false), the locations, institutions and applications to ask for them at, and the longest grant in minutes',
      permission: null, handler: (r) => elevations.choices(r.tenant, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/access-requests', summary: 'Elevation requests you may decide (where you hold caregate.access:approve) and your own',
      permission: null, query: requestFilter.pick({ status: true }), handler: (r) => elevations.list(r.tenant, r.query, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/access-requests/{id}/approve', summary: 'Approve a request (or, where the tenant names approval levels, the level awaiting a decision): the last approval grants the role until its end (never your own, one level per person; the granting approver must be allowed to grant the role there)',
      permission: 'caregate.access:approve', scoped: true, params: id, body: decisionInput, handler: (r) => elevations.approve(r.tenant, r.params.id, r.body ?? {}, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/access-requests/{id}/reject', summary: 'Reject a request (never your own); the requester is told',
      permission: 'caregate.access:approve', scoped: true, params: id, body: decisionInput, handler: (r) => elevations.reject(r.tenant, r.params.id, r.body ?? {}, r.actor),
    }),
  ];
}
