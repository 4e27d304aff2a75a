// POST {issuer}/access/v1/evaluation — one question, one Decision (AuthZEN Access Evaluation API).
// A question the application may not ask (a permission outside its catalogue) is a 403, audited; a
// malformed one a 400; everything else a 200 with the decision.
import type { Context } from 'koa';
import { parseInput } from '../accounts/index.ts';
import type { AuditWriter } from '../audit/index.ts';
import { ValidationError } from '../errors.ts';
import { OutsideCatalogueError } from './access-errors.ts';
import { evaluationRequest } from './authzen-request.ts';
import type { AuthzenDecision, createEvaluationAnswerer } from './answer-evaluation.ts';
import type { AccessState } from './koa-authenticate-application.ts';

export type Answerer = ReturnType<typeof createEvaluationAnswerer>;

/** Turns a refused ask of a single evaluation into the HTTP error it is; a 403 is audited first. */
export async function throwIfRefused(ctx: Context, audit: AuditWriter, result: AuthzenDecision, permissions: string[]): Promise<void> {
  const error = result.context?.error;
  if (!error) return;
  if (error.status === 403) {
    await auditOutsideCatalogue(ctx, audit, permissions);
    throw new OutsideCatalogueError(error.message);
  }
  throw new ValidationError(error.message);
}

/** One audit event per request that asked about permissions outside the application's catalogue. */
export async function auditOutsideCatalogue(ctx: Context, audit: AuditWriter, permissions: string[]): Promise<void> {
  const { tenant, client } = ctx.state as AccessState;
  await audit.record({
    tenantId: tenant.id,
    actor: { type: 'client', id: client.clientId, ip: ctx.ip, userAgent: ctx.get('user-agent').slice(0, 512) || null },
    action: 'access.forbidden', outcome: 'failure',
    target: { type: 'application', id: client.applicationId },
    details: { reason: 'outside_catalogue', permissions: [...new Set(permissions)].slice(0, 20).map((p) => p.slice(0, 256)), path: ctx.path },
  });
}

export function accessEvaluation(audit: AuditWriter, answererOf: (ctx: Context) => Answerer) {
  return async (ctx: Context) => {
    const evaluation = parseInput(evaluationRequest, ctx.request.body);
    const result = await answererOf(ctx)(evaluation);
    await throwIfRefused(ctx, audit, result, [evaluation.action.name]);
    ctx.body = result;
  };
}
