// The requests of the AuthZEN Authorization API 1.0 (OpenID) as Caregate reads them, and how
// one evaluation maps onto an access question: subject.id is the user (the tokens' `sub`),
// action.name the permission, resource.properties the record's location, institution and owner,
// context.amount the amount a constraint limits, context.ip the address the user acts from (for
// roles restricted to a network; without it such roles count as outside). Unknown members are ignored ("receivers MUST
// ignore unknown fields", JSON Serialization); nulls count as absent (JSON Payload Considerations).
import { isIP } from 'node:net';
import { z } from 'zod';
import type { AccessQuestion } from '../authz/index.ts';

/** The most evaluations one batch may carry (a PDP bounds what one request costs: Availability & Denial of Service). */
export const MAX_EVALUATIONS = 100;

export const EVALUATIONS_SEMANTICS = ['execute_all', 'deny_on_first_deny', 'permit_on_first_permit'] as const;
export type EvaluationsSemantic = (typeof EVALUATIONS_SEMANTICS)[number];

const properties = z.record(z.string(), z.unknown()).nullish();
const entity = z.object({ type: z.string().min(1).max(256), id: z.string().min(1).max(256), properties });
const action = z.object({ name: z.string().min(1).max(256), properties });
const context = z.record(z.string(), z.unknown()).nullish();

/** One evaluation (Access Evaluation API): subject, action and resource required, context optional. */
export const evaluationRequest = z.object({ subject: entity, action, resource: entity, context });
export type EvaluationRequest = z.infer<typeof evaluationRequest>;

const evaluationDefaults = z.object({ subject: entity.nullish(), action: action.nullish(), resource: entity.nullish(), context });

/** A batch (Access Evaluations API): top-level members are defaults for each item of `evaluations`. */
export const evaluationsRequest = evaluationDefaults.extend({
  evaluations: z.array(evaluationDefaults).max(MAX_EVALUATIONS, `at most ${MAX_EVALUATIONS} evaluations per request`).nullish(),
  options: z.object({ evaluations_semantic: z.enum(EVALUATIONS_SEMANTICS).nullish() }).nullish(),
});
export type EvaluationsRequest = z.infer<typeof evaluationsRequest>;

/** The subject types Caregate answers for by id: people, and applications' service accounts. */
export const SUBJECT_TYPES = { user: 'human', service_account: 'service' } as const;

/**
 * The subject type of a request made with an API key: subject.id is the key's value as the
 * integration presented it to the application (a PEP asks "may this key do X", as it would
 * introspect a token). The answer is its service account's access narrowed to the key.
 */
export const API_KEY_SUBJECT = 'api_key';

/**
 * The access question one evaluation asks, or what is wrong with it: the properties Caregate
 * reads must have the type it reads them as (a location given as a number is a malformed request,
 * not a "no").
 */
export function toQuestion(evaluation: EvaluationRequest): AccessQuestion | { invalid: string } {
  const record = evaluation.resource.properties ?? {};
  const question: AccessQuestion = { permission: evaluation.action.name };
  for (const key of ['location', 'institution', 'ownerId'] as const) {
    const value = record[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') return { invalid: `resource.properties.${key} must be a string` };
    question[key] = value;
  }
  const amount = evaluation.context?.amount;
  if (amount !== undefined && amount !== null) {
    if (typeof amount !== 'number' || !Number.isFinite(amount)) return { invalid: 'context.amount must be a number' };
    question.amount = amount;
  }
  return question;
}

/**
 * The address the subject acts from (context.ip), which a role's network rule is judged by; a
 * string says what is wrong with it. Without it, roles restricted to a network are left out, as
 * for a token issued to an address outside (fail closed).
 */
export function addressOf(evaluation: EvaluationRequest): string | undefined | { invalid: string } {
  const ip = evaluation.context?.ip;
  if (ip === undefined || ip === null) return undefined;
  if (typeof ip !== 'string' || !isIP(ip)) return { invalid: 'context.ip must be an IPv4 or IPv6 address' };
  return ip;
}

/** The batch's evaluations with the top-level defaults filled in (Default values); a string says which is incomplete. */
export function withDefaults(batch: EvaluationsRequest): EvaluationRequest[] | string {
  const items = batch.evaluations?.length ? batch.evaluations : [{}];
  const out: EvaluationRequest[] = [];
  for (const [i, item] of items.entries()) {
    const subject = item.subject ?? batch.subject;
    const action = item.action ?? batch.action;
    const resource = item.resource ?? batch.resource;
    if (!subject || !action || !resource) {
      const missing = [!subject && 'subject', !action && 'action', !resource && 'resource'].filter(Boolean).join(', ');
      return `evaluations[${i}] has no ${missing}, and the request gives no default for it`;
    }
    out.push({ subject, action, resource, context: item.context ?? batch.context });
  }
  return out;
}
