// What the SAML endpoints share: the tenant's URLs and keys, service-provider lookup, the checks
// every incoming message gets (destination, freshness, one use per ID), the auto-posting page of
// the HTTP-POST binding, audit, and the error page every rejected message ends on.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { InteractionDeps } from '../interactions/index.ts';
import { createClaimsSource, samlParticipantsKey } from '../oidc/index.ts';
import { findSamlApplication } from '../accounts/index.ts';
import { NAME_ID_FORMATS, SamlError, type IdpKeys } from '../saml/index.ts';
import type { Application, Tenant } from '../storage/index.ts';
import type { AuditDetails } from '../audit/index.ts';

export type OidcSession = Awaited<ReturnType<Provider['Session']['get']>>;
export type ServiceProvider = Application & { saml: NonNullable<Application['saml']> };

/** What the tenant middleware puts on ctx.state for SAML routes. */
export interface SamlState {
  tenant: Tenant;
  provider: Provider;
  samlKeys: IdpKeys;
}

/** A service provider that received an assertion in a sign-on session (for Single Logout). */
export interface Participant {
  entityId: string;
  clientId: string;
  nameId: string;
  nameIdFormat: string;
  sessionIndex: string;
}

const SESSION_MAX_SECONDS = 30 * 24 * 3600;

export function createSamlKit(deps: InteractionDeps) {
  const { config, storage, claimsCache, ephemeral, audit, render } = deps;
  const issuer = (tenant: Tenant) => `${config.baseUrl}/t/${tenant.slug}`;
  const url = (tenant: Tenant, endpoint: 'sso' | 'slo' | 'continue' | 'metadata' | 'init' | 'logout') => `${issuer(tenant)}/saml/${endpoint}`;
  const state = (ctx: Context) => ctx.state as SamlState;

  const participants = {
    async list(tenantId: string, sessionUid: string): Promise<Participant[]> {
      return (await ephemeral.members(samlParticipantsKey(tenantId, sessionUid))).map((m) => JSON.parse(m) as Participant);
    },
    /**
     * Records that `sp` got an assertion in this session; one SessionIndex per SP and session. A
     * transient NameID is kept for the session too, so the SP's logout names what it was given.
     */
    async join(tenantId: string, session: OidcSession, p: Omit<Participant, 'sessionIndex'>): Promise<Participant> {
      const transient = p.nameIdFormat === NAME_ID_FORMATS.transient;
      const existing = (await this.list(tenantId, session.uid)).find((x) => x.entityId === p.entityId && (x.nameId === p.nameId || (transient && x.nameIdFormat === p.nameIdFormat)));
      if (existing) return existing;
      const joined = { ...p, sessionIndex: `_${randomBytes(16).toString('hex')}` };
      await ephemeral.addToSet(samlParticipantsKey(tenantId, session.uid), JSON.stringify(joined), SESSION_MAX_SECONDS);
      return joined;
    },
    clear: (tenantId: string, sessionUid: string) => ephemeral.del(samlParticipantsKey(tenantId, sessionUid)),
  };

  return {
    deps,
    state,
    issuer,
    url,
    participants,
    secure: config.baseUrl.startsWith('https:'),
    keys: (ctx: Context) => state(ctx).samlKeys,
    body: (ctx: Context) => ((ctx.request as { body?: Record<string, unknown> }).body ?? {}) as Record<string, unknown>,
    claims: (tenant: Tenant) => createClaimsSource(storage, tenant, claimsCache, audit),

    /** The application registered with this entity ID, or SamlError('unknown_sp'). */
    async serviceProvider(tenantId: string, entityId: string): Promise<ServiceProvider> {
      // Control characters (NUL above all, which PostgreSQL refuses) are in no registered entity ID.
      const app =
        entityId.length <= 1024 && !/[\u0000-\u001f\u007f]/.test(entityId)
          ? await claimsCache.get(tenantId, `saml-sp:${entityId}`, async () => (await findSamlApplication(storage, tenantId, entityId)) ?? undefined)
          : undefined;
      if (!app?.saml) throw new SamlError('unknown_sp', 'The application that sent you here is not registered with this organisation. Ask its administrator to register it.');
      return app as ServiceProvider;
    },

    /** A message naming a Destination must name this endpoint; a signed one must name it (SAML Bindings §3.4.5.2, §3.5.5.2). */
    checkDestination(ctx: Context, destination: string | undefined, endpoint: 'sso' | 'slo', signed: boolean) {
      if (signed && destination === undefined) throw new SamlError('wrong_destination', 'A signed message must name its Destination.');
      if (destination !== undefined && destination !== url(state(ctx).tenant, endpoint)) {
        throw new SamlError('wrong_destination', 'This message was meant for another address, so it was not accepted.');
      }
    },

    /** IssueInstant within [now − maxAge − skew, now + skew]. */
    checkFresh(issued: Date, skewSeconds: number, maxAgeSeconds: number) {
      const age = (Date.now() - issued.getTime()) / 1000;
      if (age < -skewSeconds) throw new SamlError('not_yet_valid', 'This message is dated in the future. Check the application\'s clock and try again.');
      if (age > maxAgeSeconds + skewSeconds) throw new SamlError('expired', 'This message has expired. Go back to the application and start again.');
    },

    /** True the first time an SP's message ID is seen; remembered for `ttlSeconds`. */
    async firstUse(tenantId: string, entityId: string, id: string, ttlSeconds: number): Promise<boolean> {
      const sp = createHash('sha256').update(entityId).digest('base64url').slice(0, 22);
      return ephemeral.setIfAbsent(`saml:${tenantId}:seen:${sp}:${id}`, '1', ttlSeconds);
    },

    /** RelayState is opaque to Caregate; the binding limits it to 80 bytes. */
    relayState(value: unknown): string | undefined {
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string' || Buffer.byteLength(value) > 80) throw new SamlError('malformed', 'The RelayState is longer than the 80 bytes SAML allows.');
      return value;
    },

    async record(ctx: Context, e: { action: string; outcome?: 'success' | 'failure'; actor?: { type: 'user'; id: string }; target?: Application; details: AuditDetails }) {
      await audit.record({
        tenantId: state(ctx).tenant.id,
        actor: { type: e.actor?.type ?? 'anonymous', ...(e.actor ? { id: e.actor.id } : {}), ip: ctx.ip, userAgent: ctx.get('user-agent') || null },
        action: e.action,
        outcome: e.outcome ?? 'success',
        ...(e.target ? { target: { type: 'application', id: e.target.id } } : {}),
        details: e.details,
      });
    },

    /** Audits a refused message and shows the person a page saying why (never a stack trace). */
    async reject(ctx: Context, error: unknown, action: string, details: Record<string, unknown>) {
      if (!(error instanceof SamlError)) throw error;
      await this.record(ctx, { action, outcome: 'failure', details: { reason: error.reason, ...details } });
      ctx.status = error.status;
      ctx.type = 'html';
      ctx.body = render('message', { tenant: state(ctx).tenant, title: 'Sign-in problem', problem: true, message: error.message });
    },

    /** The HTTP-POST binding: a page whose form posts the message to the SP (script, or a button). */
    post(ctx: Context, action: string, field: 'SAMLResponse' | 'SAMLRequest', xml: string, relayState: string | undefined, message: string) {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.set('Cache-Control', 'no-store');
      ctx.body = render('saml-post', { tenant: state(ctx).tenant, title: 'One moment', message, action, field, value: Buffer.from(xml).toString('base64'), relayState });
    },
  };
}
export type SamlKit = ReturnType<typeof createSamlKit>;
