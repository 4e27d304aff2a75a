// Adding an authenticator app, wherever it happens (the enrolment step of a sign-in, the account
// page): a pending secret shown as a QR code and as text, confirmed by a first good code.
import type { Actor } from '../accounts/index.ts';
import type { Tenant, User } from '../storage/index.ts';
import type { InteractionDeps } from './interaction-kit.ts';

type Deps = Pick<InteractionDeps, 'factors' | 'totp'>;

/** The user's pending secret (started now if there is none), as the page shows it. */
export async function totpEnrolment(deps: Deps, tenant: Tenant, user: User): Promise<{ svg: string; secret: string }> {
  const pending = (await deps.factors.list(user.id)).find((f) => f.type === 'totp' && !f.confirmedAt);
  const secret = pending ? deps.factors.totpSecret(pending) : deps.totp.generateSecret();
  if (!pending) await deps.factors.beginTotp(user, secret);
  const uri = deps.totp.keyUri(secret, { issuer: tenant.name, account: user.username });
  return { svg: await deps.totp.qrSvg(uri), secret: secret.replace(/(.{4})/g, '$1 ').trim() };
}

/** Confirms the pending secret with `code` (audited as an enrolment); false when the code is wrong. */
export async function confirmTotp(deps: Deps, user: User, code: string, actor: Actor): Promise<boolean> {
  const pending = (await deps.factors.list(user.id)).find((f) => f.type === 'totp' && !f.confirmedAt);
  if (!pending || !(await deps.totp.verify(deps.factors.totpSecret(pending), code.replace(/\s/g, ''), `${user.tenantId}:${pending.id}`))) return false;
  await deps.factors.confirm(pending, actor);
  return true;
}
