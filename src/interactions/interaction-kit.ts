// What every interaction page handler shares: the dependencies, the interaction lookup, CSRF,
// rendering a page for this tenant, and handing a result back to oidc-provider.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { AuditWriter } from '../audit/index.ts';
import type { Config } from '../config/index.ts';
import type { AccountSecurity, ActionLinks, BreakGlassApprovals, DelegationService, ClaimsCache, EmergencyAccess, FactorService, PasswordService, SessionIndex } from '../accounts/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { Federation } from '../federation/index.ts';
import type { DirectorySync } from '../directory/index.ts';
import type { Render } from '../http/index.ts';
import type { OneTimeCodes, Totp, WebAuthn } from '../mfa/index.ts';
import type { Outbox, Sender } from '../notify/index.ts';
import type { Lockout, PasswordHasher, SealedBox } from '../security/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import type { SignInStates } from './sign-in-state.ts';

export interface InteractionDeps {
  config: Config;
  storage: Storage;
  ephemeral: EphemeralStore;
  hasher: PasswordHasher;
  audit: AuditWriter;
  box: SealedBox;
  render: Render;
  claimsCache: ClaimsCache;
  lockout: Lockout;
  totp: Totp;
  codes: OneTimeCodes;
  webauthn: WebAuthn;
  sender: Sender;
  factors: FactorService;
  passwords: PasswordService;
  sessions: SessionIndex;
  links: ActionLinks;
  outbox: Outbox;
  security: AccountSecurity;
  federation: Federation;
  ldap: DirectorySync;
  /** Emergency access (break-glass), invoked from the account page. */
  emergency: EmergencyAccess;
  /** Break-glass uses waiting for other people's approval, decided from the account page. */
  breakGlassApprovals: BreakGlassApprovals;
  /** Delegations a person gives from the account page. */
  accounts: { delegations: DelegationService };
}

/** What the tenant middleware puts on ctx.state for every /t/{tenant} route. */
export interface TenantState {
  tenant: Tenant;
  provider: Provider;
}

export type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;

export function createInteractionKit(deps: InteractionDeps, signIns: SignInStates) {
  const { render, box, audit, config } = deps;
  const csrfKey = (tenant: Tenant) => box.derive(`csrf:${tenant.id}`);
  const state = (ctx: Context) => ctx.state as TenantState;
  const base = (ctx: Context) => `/t/${state(ctx).tenant.slug}/interaction/${ctx.params.uid}`;

  return {
    deps,
    signIns,
    base,
    actorOf: (ctx: Context) => ({ type: 'anonymous' as const, ip: ctx.ip, userAgent: ctx.get('user-agent') || null }),

    /** The passkey relying party: the deployment's host, named after the tenant. */
    relyingParty(ctx: Context) {
      const url = new URL(config.baseUrl);
      return { id: url.hostname, name: state(ctx).tenant.name, origin: url.origin };
    },

    /** The interaction this browser holds (read once per request), which must be the one in the address. */
    async details(ctx: Context): Promise<InteractionDetails> {
      const memo = ctx.state as { interaction?: InteractionDetails };
      if (memo.interaction) return memo.interaction;
      const interaction = await state(ctx).provider.interactionDetails(ctx.req, ctx.res);
      if (interaction.uid !== ctx.params.uid) ctx.throw(400, 'interaction mismatch');
      return (memo.interaction = interaction);
    },

    /** Renders a view with the tenant, this interaction's CSRF token and its form actions. */
    page(ctx: Context, status: number, view: string, data: Record<string, unknown>) {
      const { tenant } = state(ctx);
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = render(view, { tenant, csrf: csrfToken(csrfKey(tenant), ctx.params.uid as string), base: base(ctx), abortAction: `${base(ctx)}/abort`, ...data });
    },

    /** Hands the result to oidc-provider and follows it back to the authorization endpoint. */
    async finish(ctx: Context, result: Record<string, unknown>) {
      const returnTo = await state(ctx).provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      await signIns.clear(state(ctx).tenant.id, ctx.params.uid as string);
      ctx.status = 303;
      ctx.redirect(returnTo);
    },

    /** Rejects a POST without this interaction's CSRF token (403, audited). */
    async requireCsrf(ctx: Context): Promise<Record<string, unknown>> {
      const { tenant } = state(ctx);
      const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
      if (csrfValid(csrfKey(tenant), ctx.params.uid as string, body.csrf)) return body;
      await audit.record({ tenantId: tenant.id, actor: { type: 'anonymous', ip: ctx.ip, userAgent: ctx.get('user-agent') || null }, action: 'interaction.csrf_rejected', outcome: 'failure', details: { path: ctx.path } });
      ctx.throw(403, 'This form has expired or was not sent by this site. Go back and try again.');
    },
  };
}
export type InteractionKit = ReturnType<typeof createInteractionKit>;

/** A form field as a bounded string ('' when absent or not a string). */
export function field(body: Record<string, unknown>, name: string, max = 1024): string {
  const value = body[name];
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/**
 * Times on the account pages as the console shows them: on the organisation's clock (its policy's
 * time zone, UTC unless set), named — "6 Dec 2026, 17:11 (America/Chicago)".
 */
export function clockOf(timeZone: string): (at: Date | null | undefined) => string {
  const format = new Intl.DateTimeFormat('en-GB', { timeZone, dateStyle: 'medium', timeStyle: 'short' });
  return (at) => (at ? `${format.format(at)} (${timeZone})` : '—');
}
