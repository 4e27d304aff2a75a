// Sign-ins are decided in several doors (password, passkey, federation, second factor) and every one
// of them records its decision in the audit log; reading those records here gives one metric and one
// log line per decision without a second call in each door. The log line names the account, method,
// outcome, reason and address — never the login typed (people type passwords there by mistake).
import type { AuditInput } from '../audit/index.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from './metrics.ts';

export function observeSignIns(log: Logger, metrics?: Metrics): (event: AuditInput) => void {
  return (event) => {
    const firstFactor = event.action === 'login.success' || event.action === 'login.failure';
    const secondFactor = event.action === 'login.mfa.success' || event.action === 'login.mfa.failure';
    if (!firstFactor && !secondFactor) return;
    const outcome = event.outcome ?? 'success';
    const details = event.details ?? {};
    if (firstFactor) metrics?.signIn(details.method, outcome, details.reason);
    else metrics?.secondFactor(details.method, outcome);
    log.info(firstFactor ? 'sign-in' : 'sign-in second factor', {
      outcome, method: details.method, ...(outcome === 'failure' ? { reason: details.reason } : {}),
      ...(typeof details.connection === 'string' ? { connection: details.connection } : {}),
      tenantId: event.tenantId, userId: event.actor.type === 'user' ? event.actor.id : undefined, ip: event.actor.ip ?? undefined,
    });
  };
}
