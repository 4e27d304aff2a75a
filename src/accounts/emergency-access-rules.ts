// The shapes administrators and users send for emergency access (break-glass) and just-in-time
// elevation, and how a request is shown. Defaults: a break-glass grant lasts 60 minutes; no grant
// lasts longer than the tenant's maximum (240 minutes unless set).
import { z } from 'zod';
import type { AccessApproval, AccessRequest } from '../storage/index.ts';
import { keySchema, scopeInput } from './schemas.ts';

export const DEFAULT_BREAK_GLASS_MINUTES = 60;
export const DEFAULT_MAX_MINUTES = 240;
/** An elevation request nobody decides within this lapses (expired, audited, the requester told). */
export const PENDING_HOURS = 24;
/** A break-glass use awaiting its approvals lapses after this: an emergency cannot wait a day. */
export const BREAK_GLASS_PENDING_MINUTES = 30;

const reason = z.string().trim().min(1, 'give a reason').max(2000);
const note = z.string().trim().max(2000);

export const emergencySettingsInput = z.strictObject({
  maxMinutes: z.int().min(1).max(10080).default(DEFAULT_MAX_MINUTES).describe('The longest a break-glass or elevation grant may last, in minutes'),
  webhookUrl: z.url({ protocol: /^https?$/ }).nullable().default(null).describe('Where each emergency use is also POSTed, signed (X-Caregate-Signature: sha256 HMAC of "<timestamp>.<body>")'),
  webhookSecret: z.string().min(16).max(200).optional().describe('The HMAC secret for the webhook (write-only; kept when left out)'),
  approvalLevels: z.array(z.union([
    z.strictObject({ role: keySchema.describe('Holders of this role at the request\'s scope (with caregate.access:approve there) approve this level') }),
    z.strictObject({ manager: z.literal(true).describe("The requester's manager approves this level") }),
  ])).max(5).default([]).describe('Ordered approval levels for elevation requests (e.g. [{"manager": true}, {"role": "admin"}]); empty: one approval'),
});

export const breakGlassRuleInput = z.strictObject({
  key: keySchema.describe('A name for the rule ("er-provider")'),
  role: keySchema.describe('The role taken in an emergency'),
  scope: scopeInput.default({ type: 'tenant' }).describe('Where the role is taken'),
  eligibleRoles: z.array(keySchema).max(50).default([]).describe('Holders of any of these roles may invoke it'),
  eligibleUsers: z.array(z.string().min(1).max(128)).max(200).default([]).describe('These users (id or username) may invoke it'),
  minutes: z.int().min(1).max(10080).default(DEFAULT_BREAK_GLASS_MINUTES).describe("How long a use lasts (at most the tenant's maximum)"),
  reviewerRole: keySchema.describe('Holders of this role review each use (never the person who used it)'),
  approvalsRequired: z.int().min(0).max(2).default(0).describe('How many other people (reviewer-role holders or named approvers, never the invoker) must approve a use before it takes effect; 0: at once'),
  approvers: z.array(z.string().min(1).max(128)).max(50).default([]).describe('Users (id or username) who may approve a use, besides holders of the reviewer role'),
}).refine((r) => r.eligibleRoles.length || r.eligibleUsers.length, { message: 'name eligibleRoles or eligibleUsers', path: ['eligibleRoles'] });

export const invokeInput = z.strictObject({
  rule: keySchema,
  reason,
  minutes: z.int().min(1).max(10080).optional(),
});

export const reviewInput = z.strictObject({
  outcome: z.enum(['justified', 'not_justified']),
  note: note.min(1, 'say why'),
});

export const elevationInput = z.strictObject({
  role: keySchema,
  scope: scopeInput.default({ type: 'tenant' }),
  minutes: z.int().min(1).max(10080),
  reason,
  oneTime: z.boolean().default(false).describe('The grant is consumed by the first token issued with it'),
});

export const decisionInput = z.strictObject({
  note: note.optional(),
  level: z.int().min(1).max(5).optional().describe('The approval level you decide (refused unless it is the level awaiting a decision)'),
});

export const requestFilter = z.object({
  kind: z.enum(['break-glass', 'elevation']).optional(),
  status: z.enum(['pending', 'granted', 'rejected', 'expired']).optional(),
  unreviewed: z.stringbool().optional().describe('Only break-glass uses nobody has reviewed'),
});

/** A request as the API shows it, with names for its ids and, where it has approvals, who gave each. */
export function publicRequest(r: AccessRequest, names: { role?: string; roleName?: string; user?: string; roleKey?: (id: string) => string | undefined; userName?: (id: string) => string | undefined } = {}, given: AccessApproval[] = []) {
  const by = (level: number) => given.find((a) => a.level === level);
  const approval = (level: number) => {
    const a = by(level);
    return a ? { approvedBy: names.userName?.(a.approverId) ?? a.approverId, approvedAt: a.approvedAt, note: a.note } : { approvedBy: null, approvedAt: null, note: null };
  };
  const levels = r.approvalLevels.map((l, i) => ({ level: i + 1, ...('roleId' in l ? { role: names.roleKey?.(l.roleId) ?? l.roleId } : { manager: true }), ...approval(i + 1) }));
  const approvals = r.kind === 'break-glass' && r.approvalsRequired ? Array.from({ length: r.approvalsRequired }, (_, i) => ({ approval: i + 1, ...approval(i + 1) })) : undefined;
  return { ...r, role: names.role, roleName: names.roleName ?? names.role, user: names.user, approvalLevels: undefined, approverUserIds: undefined, levels, ...(approvals ? { approvals } : {}) };
}
