// Editing an application (PATCH): the fields given replace the stored ones, and the result is
// checked whole, as a new application would be. A new redirect URI, grant or catalogue reaches the
// next authorization and token at once: the audit event empties the tenant's directory cache, where
// the client metadata oidc-provider builds its client from is kept.
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Application } from '../storage/index.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { parseInput } from './parse-input.ts';
import { applicationPatch, type ApplicationPatch } from './schemas.ts';
import { checkApplication, onEntityIdRace, publicApplication, requireApplication, requireFreeEntityId, requireFreeResource, samlSettings } from './application-rules.ts';
import { assertMayManageAdminApiApplication } from './admin-api-application.ts';
import { addServiceAccount, assertMayActAsService, removeServiceAccount, serviceRoleKeys, setServiceRoles } from './service-account.ts';

const EDIT = 'caregate.applications:edit';

/** The columns an edit may change. */
const EDITABLE = [
  'name', 'redirectUris', 'postLogoutRedirectUris', 'requireConsent', 'grantTypes', 'permissions', 'resource', 'allowedResources',
  'adminApi', 'idTokenSignedResponseAlg', 'backchannelLogoutUri', 'saml', 'serviceUserId',
] as const satisfies ReadonlyArray<keyof Application>;

const given = <T extends object>(fields: T) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;

export async function updateApplication(ctx: AccountsContext, tenantSlug: string, clientId: string, raw: ApplicationPatch, actor: Actor) {
  const { saml: samlRequest, serviceRoles, ...fields } = parseInput(applicationPatch, raw);
  const saml = samlRequest === undefined ? undefined : samlRequest && samlSettings(samlRequest);
  return ctx.storage.transaction(async (tx) => {
    const tenant = await requireTenant(tx, tenantSlug);
    const before = await requireApplication(tx, tenant.id, clientId);

    // 1. The actor edits this application: the permission tenant-wide or for it.
    const authority = await loadAuthority(tx, tenant, actor);
    await authority.require(EDIT, { kind: 'application', applicationId: before.id });
    if (saml === null && !before.saml) throw new NotFoundError(`application "${clientId}" has no SAML settings`);

    // 2. The application as it would be, checked whole like a new one.
    const after: Application = { ...before, ...given(fields), ...(saml === undefined ? {} : { saml }) };
    const credentials = after.grantTypes.includes('client_credentials');
    if (saml === null && !after.grantTypes.length) {
      throw new ValidationError(`saml: application "${clientId}" is SAML-only: delete the application instead of removing its SAML settings`);
    }
    checkApplication(ctx.adminResource, { ...after, serviceRoles: serviceRoles ?? (credentials ? await serviceRoleKeys(tx, tenant.id, before.serviceUserId) : []) });
    if (after.resource !== before.resource) await requireFreeResource(tx, tenant.id, after.resource, before.id);
    if (saml) await requireFreeEntityId(tx, tenant.id, saml.entityId, before.id);

    // 3. Opening or closing the admin API is decided tenant-wide; opening it to a service account
    //    needs every role that account holds (its tokens would then carry them there). An application
    //    that reaches the admin API is changed only by someone holding every admin permission.
    if (after.adminApi !== before.adminApi) {
      await authority.require(EDIT, { kind: 'tenant' });
      if (after.adminApi) await assertMayActAsService(tx, tenant, actor, before.serviceUserId, 'open the admin API to a service account that holds');
    }
    if (before.adminApi || after.adminApi) await assertMayManageAdminApiApplication(tx, tenant, actor, `change application "${clientId}"`);

    // 4. The service account comes with client_credentials and goes with it (its roles taken away, checked).
    if (credentials && !after.serviceUserId) after.serviceUserId = await addServiceAccount(tx, tenant.id, after);
    if (!credentials && before.serviceUserId) {
      await removeServiceAccount(ctx, tx, tenant, before.serviceUserId, actor, EDIT);
      after.serviceUserId = null;
    }

    // 5. Write, then grant or take away service roles through the no-escalation rule.
    await tx.applications.update({ id: before.id }, Object.fromEntries(EDITABLE.map((k) => [k, after[k]]))).catch(onEntityIdRace(saml?.entityId));
    if (after.serviceUserId && serviceRoles) await setServiceRoles(ctx, tx, tenant, after.serviceUserId, serviceRoles, actor, EDIT);

    // 6. Audited: the event empties the tenant's cached client metadata once the change commits.
    const updated = await requireApplication(tx, tenant.id, clientId);
    await ctx.audit.record({ tenantId: tenant.id, actor, action: 'application.update', target: { type: 'application', id: before.id }, before: publicApplication(before), after: publicApplication(updated) }, tx);
    return publicApplication(updated);
  });
}
