// Applications: OIDC client registrations and SAML service providers, with their permission
// catalogue. The client secret is returned once at creation (and at each rotation) and kept sealed
// with the master key. An application with SAML settings and no redirect URI is SAML-only: no OIDC
// grant, no secret. What an application must be lives in application-rules.ts; edits in
// update-application.ts, secret rotation in rotate-client-secret.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import { queries, type Application } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { addAssignment } from './assignment-service.ts';
import { loadAuthority } from './admin-authority.ts';
import { parseInput } from './parse-input.ts';
import { applicationInput, applicationRequest, type ApplicationPatch, type ApplicationRequest, type SamlRequest, type SecretRotation } from './schemas.ts';
import {
  checkApplication, onEntityIdRace, publicApplication, requireApplication, requireFreeEntityId, requireFreeResource, samlFromMetadata, secretContext,
} from './application-rules.ts';
import { addServiceAccount, endAssignments, removeServiceAccount } from './service-account.ts';
import { assertMayManageAdminApiApplication } from './admin-api-application.ts';
import { updateApplication } from './update-application.ts';
import { rotateClientSecret } from './rotate-client-secret.ts';

export { findSamlApplication, publicApplication, secretContext } from './application-rules.ts';

function defaultGrantTypes(input: { public: boolean; redirectUris: string[]; saml?: unknown }): string[] {
  if (input.redirectUris.length) return ['authorization_code', 'refresh_token'];
  if (input.saml) return []; // SAML-only
  return input.public ? [] : ['client_credentials'];
}

/** 16 base64url characters, never starting with "-": a command line would take `caregate app show -x…` for an option. */
function newClientId(): string {
  for (;;) {
    const id = randomBytes(12).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function createApplicationService(ctx: AccountsContext) {
  const { storage, audit, box } = ctx;
  return {
    /** Registers an application; `samlMetadata` supplies its SAML settings, `saml` fields override them. */
    async create(tenantSlug: string, raw: ApplicationRequest, actor: Actor) {
      const { samlMetadata, ...request } = parseInput(applicationRequest, raw);
      const input = parseInput(applicationInput, samlMetadata ? { ...request, saml: samlFromMetadata(samlMetadata, request.saml) } : request);
      const grantTypes = input.grantTypes ?? defaultGrantTypes(input);
      if (!grantTypes.length && !input.saml) throw new ValidationError('redirectUris: a public application needs at least one redirect URI');
      const isPublic = input.public || !grantTypes.length;
      checkApplication(ctx.adminResource, { ...input, public: isPublic, grantTypes });
      const clientId = newClientId();
      const clientSecret = isPublic ? undefined : randomBytes(32).toString('base64url');
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.applications:create', { kind: 'tenant' });
        if (input.adminApi) await assertMayManageAdminApiApplication(tx, tenant, actor, 'register an application that reaches the admin API');
        const resource = input.resource ?? `urn:caregate:app:${clientId}`;
        await requireFreeResource(tx, tenant.id, resource);
        if (input.saml) await requireFreeEntityId(tx, tenant.id, input.saml.entityId);
        const app: Application = {
          id: randomUUID(),
          tenantId: tenant.id,
          name: input.name,
          clientId,
          clientSecretSealed: clientSecret ? box.seal(clientSecret, secretContext(clientId)) : null,
          previousSecretSealed: null,
          previousSecretExpiresAt: null,
          public: isPublic,
          requireConsent: input.requireConsent,
          redirectUris: input.redirectUris,
          postLogoutRedirectUris: input.postLogoutRedirectUris,
          grantTypes,
          resource,
          allowedResources: input.allowedResources,
          adminApi: input.adminApi,
          permissions: input.permissions,
          idTokenSignedResponseAlg: input.idTokenSignedResponseAlg ?? null,
          backchannelLogoutUri: input.backchannelLogoutUri ?? null,
          serviceUserId: null,
          saml: input.saml ?? null,
          builtin: false,
          createdAt: new Date(),
          updatedAt: new Date(),
        };
        if (grantTypes.includes('client_credentials')) app.serviceUserId = await addServiceAccount(tx, tenant.id, app);
        await tx.applications.insert(app).catch(onEntityIdRace(input.saml?.entityId));
        await audit.record({ tenantId: tenant.id, actor, action: 'application.create', target: { type: 'application', id: app.id }, after: publicApplication(app) }, tx);
        for (const role of input.serviceRoles) {
          await addAssignment(ctx, tx, tenant, { userId: app.serviceUserId! }, { role }, actor, 'manual', 'caregate.applications:create');
        }
        return { ...publicApplication(app), client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) };
      });
    },

    /** With `actor`, only the applications within their caregate.applications:read scope. */
    async list(tenantSlug: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const apps = await storage.applications.find({ where: { tenantId: tenant.id }, order: { name: 'ASC' } });
      const reach = actor ? (await loadAuthority(storage, tenant, actor)).reach('caregate.applications:read') : undefined;
      const visible = !reach || reach.some((s) => s.scopeType === 'tenant') ? apps : apps.filter((a) => reach.some((s) => s.scopeType === 'application' && s.scopeId === a.id));
      return visible.map(publicApplication);
    },

    /** `actor`, when given, must hold caregate.applications:read for it. */
    async get(tenantSlug: string, clientId: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const app = await requireApplication(storage, tenant.id, clientId);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.applications:read', { kind: 'application', applicationId: app.id });
      return publicApplication(app);
    },

    /** Changes the fields given; the result is checked as a new application would be (update-application.ts). */
    update: (tenantSlug: string, clientId: string, patch: ApplicationPatch, actor: Actor) => updateApplication(ctx, tenantSlug, clientId, patch, actor),

    /** A new secret, returned once; the old one works `overlapMinutes` more (rotate-client-secret.ts). */
    rotateSecret: (tenantSlug: string, clientId: string, request: SecretRotation, actor: Actor) => rotateClientSecret(ctx, tenantSlug, clientId, request, actor),

    /**
     * Sets an application's SAML settings (whole settings, or `metadata` with overrides), or removes
     * them (null) from an application that keeps an OIDC grant. A SAML-only application is deleted
     * instead.
     */
    setSaml: (tenantSlug: string, clientId: string, request: SamlRequest | null, actor: Actor) => updateApplication(ctx, tenantSlug, clientId, { saml: request }, actor),

    samlFromMetadata,

    /** Deletes an application with its tokens, its service account and the roles held for it (each of which the actor must be able to take away). */
    async remove(tenantSlug: string, clientId: string, actor: Actor) {
      const permission = 'caregate.applications:delete';
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const app = await requireApplication(tx, tenant.id, clientId);
        await (await loadAuthority(tx, tenant, actor)).require(permission, { kind: 'tenant' });
        await endAssignments(ctx, tx, tenant, await tx.assignments.findBy({ tenantId: tenant.id, scopeType: 'application', scopeId: app.id }), actor, permission, 'application_deleted');
        if (app.serviceUserId) await removeServiceAccount(ctx, tx, tenant, app.serviceUserId, actor, permission);
        await queries.oidcPayloads.revokeForClient(tx, tenant.id, clientId);
        await tx.applications.delete({ id: app.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'application.delete', target: { type: 'application', id: app.id }, before: publicApplication(app) }, tx);
      });
    },
  };
}
export type ApplicationService = ReturnType<typeof createApplicationService>;
