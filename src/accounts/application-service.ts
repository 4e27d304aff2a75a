// Applications: OIDC client registrations and SAML service providers, with their permission
// catalogue. The client secret is returned once at creation and kept sealed with the master key.
// An application with SAML settings and no redirect URI is SAML-only: no OIDC grant, no secret.
import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
// Leaf modules of src/saml rather than its index: the SAML routes import accounts (no import cycle).
import { samlSettingsSchema, type SamlSettings } from '../saml/settings.ts';
import { parseSpMetadata } from '../saml/sp-metadata.ts';
import { isUniqueViolation, type Application, type Repos, type User } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { addAssignment } from './assignment-service.ts';
import { loadAuthority } from './admin-authority.ts';
import { parseInput } from './parse-input.ts';
import { applicationInput, applicationRequest, samlOverrides, type ApplicationRequest, type SamlOverrides, type SamlRequest } from './schemas.ts';

export const secretContext = (clientId: string) => `client_secret:${clientId}`;

/** The application without its sealed secret. */
export function publicApplication(app: Application) {
  const { clientSecretSealed, ...rest } = app;
  return rest;
}

function defaultGrantTypes(input: { public: boolean; redirectUris: string[]; saml?: unknown }): string[] {
  if (input.redirectUris.length) return ['authorization_code', 'refresh_token'];
  if (input.saml) return []; // SAML-only
  return input.public ? [] : ['client_credentials'];
}

/** The application a SAML entity ID names in a tenant (an AuthnRequest's Issuer), through the unique index. */
export function findSamlApplication(repos: Repos, tenantId: string, entityId: string): Promise<Application | null> {
  // The expression matches the unique index applications_saml_entity_id.
  return repos.applications
    .createQueryBuilder('app')
    .where('app.tenant_id = :tenantId', { tenantId })
    .andWhere("app.saml ->> 'entityId' = :entityId", { entityId })
    .getOne();
}

const entityIdTaken = (entityId: string) => new ConflictError(`another application of this tenant already uses the SAML entity ID "${entityId}"`);

/** Refuses an entity ID another application of the tenant holds. */
async function requireFreeEntityId(repos: Repos, tenantId: string, entityId: string, appId?: string) {
  const holder = await findSamlApplication(repos, tenantId, entityId);
  if (holder && holder.id !== appId) throw entityIdTaken(entityId);
}

/** Two writers racing for one entity ID: the unique index decides, and the loser gets the same 409. */
const onEntityIdRace = (entityId: string | undefined) => (error: unknown): never => {
  throw entityId !== undefined && isUniqueViolation(error, 'applications_saml_entity_id') ? entityIdTaken(entityId) : error;
};

/** The same resource spelt differently (host in capitals, a trailing slash) counts as the same. */
const sameResource = (a: string, b: string) => {
  const norm = (v: string) => {
    try {
      const u = new URL(v);
      return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return v;
    }
  };
  return norm(a) === norm(b);
};

/**
 * The admin API is reached only through the adminApi flag (whose service roles the grant rule
 * checks): no application may name it as its own API or as one it is allowed.
 */
function refuseAdminResource(adminResource: string, input: { resource?: string; allowedResources: string[] }) {
  if (input.resource && sameResource(input.resource, adminResource)) {
    throw new ValidationError('resource: the admin API cannot be an application\'s own API; register the application with adminApi instead');
  }
  if (input.allowedResources.some((r) => sameResource(r, adminResource))) {
    throw new ValidationError('allowedResources: the admin API cannot be allowed as a resource; register the application with adminApi instead');
  }
}

async function requireApplication(repos: Repos, tenantId: string, clientId: string): Promise<Application> {
  const app = await repos.applications.findOneBy({ tenantId, clientId });
  if (!app) throw new NotFoundError(`application "${clientId}" does not exist`);
  return app;
}

/** SP metadata read into settings, `overrides` replacing what it says field by field; validated whole. */
function samlFromMetadata(xml: string, overrides: SamlOverrides = {}): SamlSettings {
  return parseInput(samlSettingsSchema, { ...parseSpMetadata(xml), ...parseInput(samlOverrides, overrides) });
}

/** Settings from a request: read from its metadata when it has some, else the request is the settings. */
function samlSettings({ metadata, ...settings }: SamlRequest): SamlSettings {
  return metadata ? samlFromMetadata(metadata, settings) : parseInput(samlSettingsSchema, settings);
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
      if (grantTypes.includes('authorization_code') && !input.redirectUris.length) {
        throw new ValidationError('redirectUris: required for the authorization_code grant');
      }
      if (input.public && grantTypes.includes('client_credentials')) {
        throw new ValidationError('grantTypes: a public application cannot use client_credentials');
      }
      if (input.serviceRoles.length && !grantTypes.includes('client_credentials')) {
        throw new ValidationError('serviceRoles: only for applications with the client_credentials grant');
      }
      refuseAdminResource(ctx.adminResource, input);
      const clientId = randomBytes(12).toString('base64url');
      const clientSecret = isPublic ? undefined : randomBytes(32).toString('base64url');
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const resource = input.resource ?? `urn:caregate:app:${clientId}`;
        if (await tx.applications.findOneBy({ tenantId: tenant.id, resource })) {
          throw new ConflictError(`another application already uses resource "${resource}"`);
        }
        if (input.saml) await requireFreeEntityId(tx, tenant.id, input.saml.entityId);
        const app: Application = {
          id: randomUUID(),
          tenantId: tenant.id,
          name: input.name,
          clientId,
          clientSecretSealed: clientSecret ? box.seal(clientSecret, secretContext(clientId)) : null,
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
        if (grantTypes.includes('client_credentials')) {
          const service: Partial<User> = {
            id: randomUUID(), tenantId: tenant.id, username: `svc-${clientId}`, status: 'active', kind: 'service',
            phiAccess: false, outsideVendor: false, source: 'local', displayName: `${input.name} (service account)`,
          };
          await tx.users.insert(service);
          app.serviceUserId = service.id!;
        }
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

    /**
     * Sets an application's SAML settings (whole settings, or `metadata` with overrides), or removes
     * them (null) from an application that keeps an OIDC grant. A SAML-only application is deleted
     * instead.
     */
    async setSaml(tenantSlug: string, clientId: string, request: SamlRequest | null, actor: Actor) {
      const saml = request && samlSettings(request);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const app = await requireApplication(tx, tenant.id, clientId);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.applications:edit', { kind: 'application', applicationId: app.id });
        if (!saml && !app.saml) throw new NotFoundError(`application "${clientId}" has no SAML settings`);
        if (!saml && !app.grantTypes.length) {
          throw new ValidationError(`application "${clientId}" is SAML-only: delete the application instead of removing its SAML settings`);
        }
        if (saml) await requireFreeEntityId(tx, tenant.id, saml.entityId, app.id);
        await tx.applications.update({ id: app.id }, { saml }).catch(onEntityIdRace(saml?.entityId));
        const updated = await requireApplication(tx, tenant.id, clientId);
        await audit.record({ tenantId: tenant.id, actor, action: 'application.update', target: { type: 'application', id: app.id }, before: publicApplication(app), after: publicApplication(updated) }, tx);
        return publicApplication(updated);
      });
    },

    samlFromMetadata,

    async remove(tenantSlug: string, clientId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const app = await requireApplication(tx, tenant.id, clientId);
        await tx.query(`DELETE FROM oidc_payloads WHERE tenant_id = $1 AND payload->>'clientId' = $2`, [tenant.id, clientId]);
        await tx.assignments.delete({ tenantId: tenant.id, scopeType: 'application', scopeId: app.id });
        await tx.applications.delete({ id: app.id });
        if (app.serviceUserId) await tx.users.delete({ id: app.serviceUserId });
        await audit.record({ tenantId: tenant.id, actor, action: 'application.delete', target: { type: 'application', id: app.id }, before: publicApplication(app) }, tx);
      });
    },
  };
}
export type ApplicationService = ReturnType<typeof createApplicationService>;
