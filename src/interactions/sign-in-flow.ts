// The steps of a sign-in after the first factor, in order. Each page handler records what it
// proved in the sign-in state and calls `advance`, which sends the browser to the first step still
// owed, or completes the sign-in with the methods used (amr) and the level reached (acr).
import type { Context } from 'koa';
import { loadAuthzSnapshot, loadTenantPolicy, mfaNeed, requestDemandsMfa, type TenantPolicy } from '../accounts/index.ts';
import { ACR } from '../oidc/index.ts';
import type { Tenant, User } from '../storage/index.ts';
import type { InteractionDeps, InteractionDetails, InteractionKit, TenantState } from './interaction-kit.ts';

import type { SignInState } from './sign-in-state.ts';
import { admitAddress, deviceIsNew, newDeviceNeedsMfa, notePlace } from './network-check.ts';

export type Step = 'password' | 'mfa' | 'enrol' | 'recovery-codes' | 'done';

export const loadPolicyFor = (deps: Pick<InteractionDeps, 'claimsCache' | 'storage'>, tenant: Tenant): Promise<TenantPolicy> => loadTenantPolicy(deps, tenant.id);

export const loadPolicy = (kit: InteractionKit, tenant: Tenant) => loadPolicyFor(kit.deps, tenant);

/** `newDevice`: asked only when the tenant makes a new device take the second factor. */
export async function nextStep(
  kit: InteractionKit, tenant: Tenant, interaction: InteractionDetails, state: SignInState, user: User, newDevice: () => Promise<boolean> = async () => false,
): Promise<Step> {
  const policy = await loadPolicy(kit, tenant);
  // 1. A temporary or expired password is replaced first (a passkey sign-in proved no password).
  if (state.amr.includes('pwd') && kit.deps.passwords.mustChange(user, policy)) return 'password';
  // 2. A second factor, when the policy, the application or the user's own enrolment asks for one.
  if (!state.mfa) {
    // The same cached snapshot the token's claims come from (emptied by any audited change).
    const snapshot = await kit.deps.claimsCache.get(tenant.id, `snapshot:${user.id}`, () => loadAuthzSnapshot(kit.deps.storage, user));
    const factors = await kit.deps.factors.confirmed(user.id);
    // A browser the person has not signed in with before takes the second factor when the tenant says so.
    const demanded = requestDemandsMfa(interaction.params, policy, ACR.mfa) || (newDeviceNeedsMfa(policy) && (await newDevice()));
    const need = mfaNeed({ policy, snapshot, hasFactor: factors.length > 0, acrDemandsMfa: demanded });
    if (need === 'verify') return 'mfa';
    if (need === 'enrol') return 'enrol';
  }
  // 3. Fresh recovery codes are shown once before leaving.
  if (state.recoveryCodes?.length) return 'recovery-codes';
  return 'done';
}

/**
 * Saves the state and moves on: to the next page, or back to the application. `signedIn`: the
 * account as the step that just proved a factor read it in this request (read again otherwise).
 */
export async function advance(kit: InteractionKit, ctx: Context, interaction: InteractionDetails, state: SignInState, signedIn?: User): Promise<void> {
  const { tenant } = ctx.state as TenantState;
  const user = signedIn?.id === state.userId && signedIn.tenantId === tenant.id ? signedIn : await kit.deps.storage.users.findOneBy({ tenantId: tenant.id, id: state.userId });
  if (!user) return ctx.throw(400, 'This sign-in can no longer continue. Start again.');
  // Whatever the first factor was, the tenant's network rule has the last word.
  if (!(await admitAddress(kit, ctx, user))) return;
  const step = await nextStep(kit, tenant, interaction, state, user, () => deviceIsNew(kit, ctx, user));
  if (step !== 'done') {
    await kit.signIns.save(tenant.id, ctx.params.uid as string, state);
    ctx.status = 303;
    return ctx.redirect(`${kit.base(ctx)}/${step}`);
  }
  if (!(await admitSession(kit, ctx, interaction, user))) return;
  await notePlace(kit, ctx, user, await loadPolicy(kit, tenant));
  const amr = [...new Set(state.amr)];
  await kit.finish(ctx, { login: { accountId: user.id, acr: state.mfa ? ACR.mfa : ACR.password, amr, remember: true } });
}

/**
 * Applies the tenant's limit on concurrent sessions before a new one begins: ends the oldest, or
 * refuses this sign-in (403, audited). Re-authenticating in a browser that already holds the
 * user's session does not count as a new one.
 */
async function admitSession(kit: InteractionKit, ctx: Context, interaction: InteractionDetails, user: User): Promise<boolean> {
  const { tenant } = ctx.state as TenantState;
  const { maxConcurrent, onLimit } = (await loadPolicy(kit, tenant)).sessions;
  if (!maxConcurrent) return true;
  const current = interaction.session?.accountId === user.id ? interaction.session.cookie : undefined;
  const room = await kit.deps.sessions.makeRoom(tenant.id, user.id, { max: maxConcurrent, onLimit, current });
  const audit = { tenantId: tenant.id, actor: { type: 'user' as const, id: user.id, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }, target: { type: 'user', id: user.id } };
  if (room.ended.length) await kit.deps.audit.record({ ...audit, action: 'session.end_oldest', details: { limit: maxConcurrent, ended: room.ended } });
  if (room.allowed) return true;
  await kit.deps.audit.record({ ...audit, action: 'session.limit_reached', outcome: 'failure', details: { limit: maxConcurrent, active: room.active } });
  kit.page(ctx, 403, 'message', {
    title: 'Too many sessions',
    problem: true,
    message: `You are already signed in on ${room.active} devices, the most your organisation allows. Sign out on one of them, or ask your administrator to end a session, then try again.`,
  });
  return false;
}

/** The sign-in state for a step page, or a redirect back to the start when there is none. */
export async function requireState(kit: InteractionKit, ctx: Context): Promise<SignInState | undefined> {
  const { tenant } = ctx.state as TenantState;
  // The interaction cookie must belong to this uid: a uid alone (it appears in URLs) opens nothing.
  await kit.details(ctx);
  const state = await kit.signIns.get(tenant.id, ctx.params.uid as string);
  if (!state) {
    ctx.status = 303;
    ctx.redirect(kit.base(ctx));
  }
  return state;
}
