// The shapes administrators and users send for emergency access (break-glass) and just-in-time
// elevation, and how a request is shown. Defaults: a break-glass grant lasts 60 minutes; no grant
// lasts longer than the tenant's maximum (240 minutes unless set).
import { z } from 'zod';
import type { AccessRequest } from '../storage/index.ts';
import { keySchema, scopeInput } from './schemas.ts';

export const DEFAULT_BREAK_GLASS_MINUTES = 60;
export const DEFAULT_MAX_MINUTES = 240;
/** An elevation request nobody decides within this lapses (expired, audited, the requester told). */
export const PENDING_HOURS = 24;

const reason = z.string().trim().min(1, 'give a reason').max(2000);
const note = z.string().trim().max(2000);

export const emergencySettingsInput = z.strictObject({
  maxMinutes: z.int().min(1).max(10080).default(DEFAULT_MAX_MINUTES).describe('The longest a break-glass or elevation grant may last, in minutes'),
  webhookUrl: z.url({ protocol: /^https?$/ }).nullable().default(null).describe('Where each emergency use is also POSTed, signed (X-Caregate-Signature: sha256 HMAC of "<timestamp>.<body>")'),
  webhookSecret: z.string().min(16).max(200).optional().describe('The HMAC secret for the webhook (write-only; kept when left out)'),
});

export const breakGlassRuleInput = z.strictObject({
  key: keySchema.describe('A name for the rule ("er-provider")'),
  role: keySchema.describe('The role taken in an emergency'),
  scope: scopeInput.default({ type: 'tenant' }).describe('Where the role is taken'),
  eligibleRoles: z.array(keySchema).max(50).default([]).describe('Holders of any of these roles may invoke it'),
  eligibleUsers: z.array(z.string().min(1).max(128)).max(200).default([]).describe('These users (id or username) may invoke it'),
  minutes: z.int().min(1).max(10080).default(DEFAULT_BREAK_GLASS_MINUTES).describe("How long a use lasts (at most the tenant's maximum)"),
  reviewerRole: keySchema.describe('Holders of this role review each use (never the person who used it)'),
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

export const decisionInput = z.strictObject({ note: note.optional() });

export const requestFilter = z.object({
  kind: z.enum(['break-glass', 'elevation']).optional(),
  status: z.enum(['pending', 'granted', 'rejected', 'expired']).optional(),
  unreviewed: z.stringbool().optional().describe('Only break-glass uses nobody has reviewed'),
});

/** A request as the API shows it, with names for its ids. */
export function publicRequest(r: AccessRequest, names: { role?: string; user?: string } = {}) {
  return { ...r, role: names.role, user: names.user };
}
