// Applications: OIDC client registrations with their permission catalogue. The client secret is
// returned once at creation and kept sealed with the master key.
import { randomBytes, randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Application, User } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { addAssignment } from './assignment-service.ts';
import { parseInput } from './parse-input.ts';
import { applicationInput, type ApplicationInput } from './schemas.ts';

export const secretContext = (clientId: string) => `client_secret:${clientId}`;

/** The application without its sealed secret. */
export function publicApplication(app: Application) {
  const { clientSecretSealed, ...rest } = app;
  return rest;
}

function defaultGrantTypes(input: { public: boolean; redirectUris: string[] }): string[] {
  if (input.redirectUris.length) return ['authorization_code', 'refresh_token'];
  return input.public ? [] : ['client_credentials'];
}

export function createApplicationService(ctx: AccountsContext) {
  const { storage, audit, box } = ctx;
  return {
    async create(tenantSlug: string, raw: ApplicationInput, actor: Actor) {
      const input = parseInput(applicationInput, raw);
      const grantTypes = input.grantTypes ?? defaultGrantTypes(input);
      if (!grantTypes.length) throw new ValidationError('redirectUris: a public application needs at least one redirect URI');
      if (grantTypes.includes('authorization_code') && !input.redirectUris.length) {
        throw new ValidationError('redirectUris: required for the authorization_code grant');
      }
      if (input.public && grantTypes.includes('client_credentials')) {
        throw new ValidationError('grantTypes: a public application cannot use client_credentials');
      }
      if (input.serviceRoles.length && !grantTypes.includes('client_credentials')) {
        throw new ValidationError('serviceRoles: only for applications with the client_credentials grant');
      }
      const clientId = randomBytes(12).toString('base64url');
      const clientSecret = input.public ? undefined : randomBytes(32).toString('base64url');
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const resource = input.resource ?? `urn:caregate:app:${clientId}`;
        if (await tx.applications.findOneBy({ tenantId: tenant.id, resource })) {
          throw new ConflictError(`another application already uses resource "${resource}"`);
        }
        const app: Application = {
          id: randomUUID(),
          tenantId: tenant.id,
          name: input.name,
          clientId,
          clientSecretSealed: clientSecret ? box.seal(clientSecret, secretContext(clientId)) : null,
          public: input.public,
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
        await tx.applications.insert(app);
        await audit.record({ tenantId: tenant.id, actor, action: 'application.create', target: { type: 'application', id: app.id }, after: publicApplication(app) }, tx);
        for (const role of input.serviceRoles) {
          await addAssignment(ctx, tx, tenant, { userId: app.serviceUserId! }, { role }, actor);
        }
        return { ...publicApplication(app), client_id: clientId, ...(clientSecret ? { client_secret: clientSecret } : {}) };
      });
    },

    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return (await storage.applications.find({ where: { tenantId: tenant.id }, order: { name: 'ASC' } })).map(publicApplication);
    },

    async get(tenantSlug: string, clientId: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      const app = await storage.applications.findOneBy({ tenantId: tenant.id, clientId });
      if (!app) throw new NotFoundError(`application "${clientId}" does not exist`);
      return publicApplication(app);
    },

    async remove(tenantSlug: string, clientId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const app = await tx.applications.findOneBy({ tenantId: tenant.id, clientId });
        if (!app) throw new NotFoundError(`application "${clientId}" does not exist`);
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
