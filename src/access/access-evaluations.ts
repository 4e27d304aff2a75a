// POST {issuer}/access/v1/evaluations — several questions in one request (AuthZEN Access
// Evaluations API): top-level members are defaults for each evaluation; the answers come in the
// request's order, each a Decision, a refused or malformed item being a "no" that carries its error.
// options.evaluations_semantic: execute_all (the default) answers every item; deny_on_first_deny
// stops at the first "no" (like &&), permit_on_first_permit at the first "yes" (like ||).
// Without evaluations the request is a single evaluation, answered as one.
import type { Context } from 'koa';
import { parseInput } from '../accounts/index.ts';
import type { AuditWriter } from '../audit/index.ts';
import { ValidationError } from '../errors.ts';
import { auditOutsideCatalogue, throwIfRefused, type Answerer } from './access-evaluation.ts';
import type { AuthzenDecision } from './answer-evaluation.ts';
import { evaluationsRequest, withDefaults } from './authzen-request.ts';

export function accessEvaluations(audit: AuditWriter, answererOf: (ctx: Context) => Answerer) {
  return async (ctx: Context) => {
    const batch = parseInput(evaluationsRequest, ctx.request.body);
    const items = withDefaults(batch);
    if (typeof items === 'string') throw new ValidationError(items);
    const answer = answererOf(ctx);
    if (!batch.evaluations?.length) {
      const result = await answer(items[0]!);
      await throwIfRefused(ctx, audit, result, [items[0]!.action.name]);
      ctx.body = result;
      return;
    }
    const semantic = batch.options?.evaluations_semantic ?? 'execute_all';
    const answers: AuthzenDecision[] = [];
    const outside: string[] = [];
    for (const item of items) {
      const result = await answer(item);
      if (result.context?.error?.status === 403) outside.push(item.action.name);
      if (semantic === 'deny_on_first_deny' && !result.decision) {
        // As the specification's example answers it: the denial that ended the batch says so.
        answers.push({ decision: false, context: { ...result.context, code: '200', reason: 'deny_on_first_deny', ...(result.context?.reason ? { cause: result.context.reason } : {}) } });
        break;
      }
      answers.push(result);
      if (semantic === 'permit_on_first_permit' && result.decision) break;
    }
    if (outside.length) await auditOutsideCatalogue(ctx, audit, outside);
    ctx.body = { evaluations: answers };
  };
}
