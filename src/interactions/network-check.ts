// The network side of a sign-in (issue 18): a tenant-wide rule refuses a sign-in from outside its
// ranges with a page that says so (and an audit event); a completed sign-in notes its device and
// address neighbourhood, alerting holders of PHI roles to a new one; and with the tenant's
// newDeviceRequiresMfa, a device the person has not used before needs the second factor.
import type { Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { addressMaySignIn, deviceKnown, describeDevice, loadAuthzSnapshot, noteSignInPlace, type TenantPolicy } from '../accounts/index.ts';
import type { User } from '../storage/index.ts';
import type { InteractionKit, TenantState } from './interaction-kit.ts';

/** The long-lived cookie that tells one browser from another (per tenant; only its hash is stored). */
const deviceCookie = (ctx: Context) => `_device.${(ctx.state as TenantState).tenant.slug}`;
const DEVICE_COOKIE_DAYS = 400;

/**
 * Refuses the sign-in when the tenant's rule leaves the client's address out: a 403 page naming
 * the clinic network, and a `login.network_refused` audit event. True when the sign-in may go on.
 */
export async function admitAddress(kit: InteractionKit, ctx: Context, user?: User): Promise<boolean> {
  const { tenant } = ctx.state as TenantState;
  if (await addressMaySignIn(kit.deps, tenant.id, ctx.ip)) return true;
  await kit.deps.audit.record({
    tenantId: tenant.id, actor: { ...kit.actorOf(ctx), ...(user ? { type: 'user' as const, id: user.id } : {}) },
    action: 'login.network_refused', outcome: 'failure', target: user ? { type: 'user', id: user.id } : undefined,
    details: { stage: 'sign-in', address: ctx.ip },
  });
  kit.page(ctx, 403, 'message', {
    title: 'Not from this network',
    problem: true,
    message: `You can sign in to ${tenant.name} only from the clinic network. Connect to it (at the clinic, or through its VPN) and try again.`,
  });
  return false;
}

/** Whether this browser is new to the person (no device cookie, or one they have not signed in with). */
export async function deviceIsNew(kit: InteractionKit, ctx: Context, user: User): Promise<boolean> {
  return !(await deviceKnown(kit.deps.storage, user.id, ctx.cookies.get(deviceCookie(ctx)) || undefined));
}

/** Whether the tenant makes a new device take the second factor. */
export const newDeviceNeedsMfa = (policy: TenantPolicy) => policy.network.newDeviceRequiresMfa;

/** Notes the completed sign-in's device (setting its cookie when the browser has none) and address, alerting on a new one. */
export async function notePlace(kit: InteractionKit, ctx: Context, user: User, policy: TenantPolicy): Promise<void> {
  const { tenant } = ctx.state as TenantState;
  let cookie = ctx.cookies.get(deviceCookie(ctx));
  if (!cookie || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
    cookie = randomBytes(32).toString('base64url');
    ctx.cookies.set(deviceCookie(ctx), cookie, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: DEVICE_COOKIE_DAYS * 86_400_000, path: `/t/${tenant.slug}`, overwrite: true });
  }
  const snapshot = await kit.deps.claimsCache.get(tenant.id, `snapshot:${user.id}`, () => loadAuthzSnapshot(kit.deps.storage, user));
  await noteSignInPlace(
    {
      storage: kit.deps.storage, audit: kit.deps.audit, sender: kit.deps.sender,
      // The sign-in has succeeded; an alert that could not be sent is recorded, not raised.
      onError: (error) => void kit.deps.audit.record({ tenantId: tenant.id, actor: { type: 'system', id: 'network' }, action: 'login.new_place_alert_failed', outcome: 'failure', target: { type: 'user', id: user.id }, details: { error: error.message } }),
    },
    tenant, user, snapshot, policy,
    { cookie, actor: kit.actorOf(ctx), device: describeDevice(ctx.get('user-agent') || null) },
  );
}
