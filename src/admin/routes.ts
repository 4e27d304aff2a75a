// The admin API's routes, declared once (see define-route.ts). Handlers only translate HTTP to
// account services; the services validate, write, and audit.
import { z } from 'zod';
import { bulkRequest, derivedRoleInput, overrideInput, schemas, userProfileSchema, type Accounts, type AccountSecurity } from '../accounts/index.ts';
import type { AuditLog } from '../audit/index.ts';
import { connectionRequest, type Federation } from '../federation/index.ts';
import { sourceRequest, type DirectorySync } from '../directory/index.ts';
import { defineRoute, type AdminRoute } from './define-route.ts';
import { auditRoutes } from './audit-routes.ts';
import { apiKeyRoutes } from './api-key-routes.ts';
import { accessReviewRoutes } from './access-review-routes.ts';
import { networkRuleRoutes } from './network-rule-routes.ts';
import { delegationRoutes } from './delegation-routes.ts';

const user = z.object({ user: z.string().min(1).describe('User id or username') });
const key = z.object({ key: schemas.keySchema });
const clientId = z.object({ clientId: z.string().min(1) });
const page = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100), offset: z.coerce.number().int().min(0).default(0) });

/** list/create/get/delete for locations, institutions and teams, which share a shape. */
function keyedRoutes(accounts: Accounts, kind: 'locations' | 'institutions' | 'teams'): AdminRoute[] {
  const service = accounts[kind];
  const input = kind === 'locations' ? schemas.locationInput : schemas.namedInput;
  // A location manager works in their subtree, a coordinator in their institution; teams are tenant-wide.
  const scoped = kind !== 'teams';
  return [
    defineRoute({ method: 'get', path: `/${kind}`, summary: `List ${kind} (those within the caller's scope)`, permission: `caregate.${kind}:read`, scoped, handler: (r) => service.list(r.tenant, r.actor) }),
    defineRoute({ method: 'post', path: `/${kind}`, summary: `Create a ${kind.slice(0, -1)}`, permission: `caregate.${kind}:create`, scoped: kind === 'locations', body: input, status: 201, handler: (r) => service.create(r.tenant, r.body, r.actor) }),
    defineRoute({ method: 'get', path: `/${kind}/{key}`, summary: `Get a ${kind.slice(0, -1)}`, permission: `caregate.${kind}:read`, scoped, params: key, handler: (r) => service.get(r.tenant, r.params.key, r.actor) }),
    defineRoute({
      method: 'delete', path: `/${kind}/{key}`, summary: `Delete a ${kind.slice(0, -1)}${kind === 'teams' ? ' (its roles end with it)' : ' when empty (409 naming what is left: locations below it, roles held at it)'}`,
      permission: `caregate.${kind}:delete`, scoped: kind === 'locations', params: key, status: 204, handler: (r) => service.remove(r.tenant, r.params.key, r.actor),
    }),
  ];
}

/** Renaming and moving locations, renaming institutions (teams: PATCH /teams/{key} below). */
function placeEditRoutes(accounts: Accounts): AdminRoute[] {
  return [
    defineRoute({
      method: 'patch', path: '/locations/{key}', scoped: true, summary: 'Rename a location or move it under another (parent: null for the top level); needs caregate.locations:edit at it and at the new parent; never below itself',
      permission: 'caregate.locations:edit', params: key, body: schemas.locationPatch, handler: (r) => accounts.locations.update(r.tenant, r.params.key, r.body, r.actor),
    }),
    defineRoute({
      method: 'patch', path: '/institutions/{key}', scoped: true, summary: 'Rename an institution (its key and the roles held at it stay)',
      permission: 'caregate.institutions:edit', params: key, body: schemas.teamPatch, handler: (r) => accounts.institutions.update(r.tenant, r.params.key, r.body, r.actor),
    }),
  ];
}

export function adminRoutes(accounts: Accounts, auditLog: AuditLog, security: AccountSecurity, federation: Federation, ldap: DirectorySync, onFault: (error: Error) => void = () => {}): AdminRoute[] {
  const { connections } = federation;
  const { sources } = ldap;
  const runRef = z.object({ key: schemas.keySchema, run: z.uuid() });
  const syncBody = z.strictObject({
    full: z.boolean().default(false).describe('Search everything (else: what changed since the watermark)'),
    dryRun: z.boolean().default(false).describe('Compute the diff and change nothing; the run keeps the diff'),
    allowDisables: z.int().min(0).optional().describe('Allow this many disables in this run, whatever the threshold'),
  });
  const connectionKey = z.object({ key: schemas.keySchema });
  const { users, roles, assignments, teams, teamMembers, applications, tenants } = accounts;
  return [
    // Security policy
    defineRoute({ method: 'get', path: '/policy', summary: "The tenant's security policy (defaults filled in)", permission: 'caregate.policy:read', handler: (r) => tenants.policy(r.tenant) }),
    defineRoute({
      method: 'patch', path: '/policy', summary: 'Change part of the security policy (objects merge, values replace; the result is validated whole)', permission: 'caregate.policy:edit',
      body: z.record(z.string(), z.unknown()), handler: (r) => tenants.updatePolicy(r.tenant, r.body, r.actor),
    }),

    // What the tenant records about people: user types and custom profile attributes
    defineRoute({ method: 'get', path: '/profile-schema', summary: "The tenant's user types and declared profile attributes", permission: 'caregate.tenant:read', handler: (r) => tenants.profileSchema(r.tenant) }),
    defineRoute({
      method: 'put', path: '/profile-schema', summary: 'Replace the user types and attribute declarations (typed, validated on every user write; claim: true puts one in tokens)', permission: 'caregate.tenant:edit',
      body: userProfileSchema, handler: (r) => tenants.updateProfileSchema(r.tenant, r.body, r.actor),
    }),

    // Ownership (the owner acts; a backup owner claims when the owner's account is not active)
    defineRoute({ method: 'get', path: '/owner', summary: "The tenant's owner and backup owners", permission: 'caregate.tenant:read', handler: (r) => accounts.ownership.get(r.tenant) }),
    defineRoute({
      method: 'post', path: '/owner/transfer', summary: 'Hand ownership to another active person with tenant-wide admin (and 2FA where the policy requires it); only the owner', permission: 'caregate.tenant:edit',
      body: z.strictObject({ user: z.string().min(1).max(128) }), handler: (r) => accounts.ownership.transfer(r.tenant, r.body.user, r.actor),
    }),
    defineRoute({
      method: 'put', path: '/owner/backups', summary: 'Name the backup owners (replaces the list); only the owner', permission: 'caregate.tenant:edit',
      body: z.strictObject({ users: z.array(z.string().min(1).max(128)).max(10) }), handler: (r) => accounts.ownership.setBackups(r.tenant, r.body.users, r.actor),
    }),
    defineRoute({ method: 'post', path: '/owner/claim', summary: "A backup owner takes ownership while the owner's account is not active", permission: 'caregate.tenant:edit', handler: (r) => accounts.ownership.claim(r.tenant, r.actor) }),

    // Sign-in security of a user
    defineRoute({ method: 'get', path: '/users/{user}/security', scoped: true, summary: 'Lock state, failure count, second factors, recovery codes left, sessions', permission: 'caregate.users:read', params: user, handler: (r) => security.state(r.tenant, r.params.user, r.actor) }),
    defineRoute({ method: 'post', path: '/users/{user}/unlock', scoped: true, summary: 'Unlock an account locked after failed sign-ins', permission: 'caregate.users:edit', params: user, handler: (r) => security.unlock(r.tenant, r.params.user, r.actor) }),
    defineRoute({ method: 'post', path: '/users/{user}/mfa/reset', scoped: true, summary: 'Remove all second factors and recovery codes; the user enrols again at next sign-in', permission: 'caregate.users:edit', params: user, handler: (r) => security.resetMfa(r.tenant, r.params.user, r.actor) }),
    defineRoute({
      method: 'post', path: '/users/{user}/password/reset', scoped: true,
      summary: 'Email a single-use reset link (link), set a random password shown once that must be changed (temporary), or set the given password (set; policy applies; mustChange defaults to true)', permission: 'caregate.users:edit', params: user,
      body: z.strictObject({ mode: z.enum(['link', 'temporary', 'set']).default('link'), password: z.string().min(1).max(128).optional(), mustChange: z.boolean().default(true) })
        .refine((b) => (b.mode === 'set') === (b.password !== undefined), { message: 'password: required with mode "set", and only with it', path: ['password'] }),
      handler: (r) => r.body.mode === 'temporary' ? security.temporaryPassword(r.tenant, r.params.user, r.actor)
        : r.body.mode === 'set' ? security.setPassword(r.tenant, r.params.user, r.body.password!, r.actor, { mustChange: r.body.mustChange })
          : security.sendPasswordReset(r.tenant, r.params.user, r.actor),
    }),
    defineRoute({ method: 'post', path: '/users/{user}/invitation', scoped: true, summary: 'Send (again) the activation link of an invited user', permission: 'caregate.users:edit', params: user, handler: (r) => security.sendInvitation(r.tenant, r.params.user, r.actor) }),
    defineRoute({ method: 'get', path: '/users/{user}/sessions', scoped: true, summary: "A user's sign-on sessions", permission: 'caregate.users:read', params: user, handler: (r) => security.sessions(r.tenant, r.params.user, r.actor) }),
    defineRoute({ method: 'delete', path: '/users/{user}/sessions', scoped: true, summary: "End all of a user's sessions", permission: 'caregate.users:edit', params: user, handler: (r) => security.endSessions(r.tenant, r.params.user, r.actor) }),
    defineRoute({
      method: 'delete', path: '/users/{user}/sessions/{session}', scoped: true, summary: 'End one session of a user', permission: 'caregate.users:edit',
      params: z.object({ user: z.string().min(1), session: z.string().min(1).max(128) }), handler: (r) => security.endSessions(r.tenant, r.params.user, r.actor, r.params.session),
    }),

    // Users
    defineRoute({
      method: 'get', path: '/users', scoped: true, summary: 'List users by username, filtered (search text, status, role, location and below, institution, team, user type, PHI, vendor, not signed in for N days); X-Total-Count says how many match',
      permission: 'caregate.users:read', query: schemas.userQuery,
      handler: async (r) => {
        const { users: page, total } = await users.search(r.tenant, r.query, r.actor);
        r.ctx.set('X-Total-Count', String(total));
        return page;
      },
    }),
    defineRoute({ method: 'get', path: '/me', summary: 'Who is calling, the tenant (name, time zone), and each admin permission they hold: tenant-wide or scoped (for a client that shows only what its user may use)', permission: null, handler: (r) => accounts.capabilities.of(r.tenant, r.actor) }),
    defineRoute({
      method: 'post', path: '/users', scoped: true, summary: 'Create a user (with a password, or invited)', permission: 'caregate.users:create', status: 201,
      body: schemas.userInput.extend({ assignments: z.array(schemas.assignmentInput).max(100).default([]) }),
      handler: async ({ tenant, body: { assignments: a, ...input }, actor }) => {
        const created = await users.create(tenant, input, a, actor);
        return input.invite ? { ...created, invitation: await security.sendInvitation(tenant, created.id, actor) } : created;
      },
    }),
    defineRoute({
      method: 'post', path: '/users/bulk', scoped: true, summary: 'One action on many users, all or nothing: assign or unassign a role at a scope, disable or enable (every user through the same checks as one at a time)',
      permission: 'caregate.users:edit', body: bulkRequest, handler: (r) => accounts.bulk.apply(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'get', path: '/users/{user}', scoped: true, summary: 'Get a user', permission: 'caregate.users:read', params: user, handler: (r) => users.get(r.tenant, r.params.user, r.actor) }),
    defineRoute({ method: 'patch', path: '/users/{user}', scoped: true, summary: 'Edit a user (clearing phiAccess removes PHI role assignments)', permission: 'caregate.users:edit', params: user, body: schemas.userPatch, handler: (r) => users.update(r.tenant, r.params.user, r.body, r.actor) }),
    defineRoute({ method: 'post', path: '/users/{user}/disable', scoped: true, summary: 'Disable a user and revoke their grants', permission: 'caregate.users:edit', params: user, handler: (r) => users.setStatus(r.tenant, r.params.user, 'disabled', r.actor) }),
    defineRoute({ method: 'post', path: '/users/{user}/enable', scoped: true, summary: 'Enable a user', permission: 'caregate.users:edit', params: user, handler: (r) => users.setStatus(r.tenant, r.params.user, 'active', r.actor) }),
    defineRoute({ method: 'delete', path: '/users/{user}', scoped: true, summary: 'Delete a user', permission: 'caregate.users:delete', params: user, status: 204, handler: (r) => users.remove(r.tenant, r.params.user, r.actor) }),

    // Assignments
    defineRoute({
      method: 'get', path: '/users/{user}/assignments', scoped: true, summary: "List a user's role assignments", permission: 'caregate.assignments:read', params: user,
      handler: async (r) => assignments.list(r.tenant, { userId: (await users.findUser(r.tenant, r.params.user)).id }, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/users/{user}/assignments', scoped: true, summary: 'Assign a role to a user, tenant-wide or at a location, institution or application', permission: 'caregate.assignments:create', params: user, body: schemas.assignmentInput, status: 201,
      handler: async (r) => assignments.assign(r.tenant, { userId: (await users.findUser(r.tenant, r.params.user)).id }, r.body, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/teams/{key}/assignments', summary: 'Assign a role to a team', permission: 'caregate.assignments:create', params: key, body: schemas.assignmentInput, status: 201,
      handler: async (r) => assignments.assign(r.tenant, { teamId: (await teams.get(r.tenant, r.params.key)).id }, r.body, r.actor),
    }),
    defineRoute({ method: 'delete', path: '/assignments/{id}', scoped: true, summary: 'Remove an assignment', permission: 'caregate.assignments:delete', params: z.object({ id: z.uuid() }), status: 204, handler: (r) => assignments.remove(r.tenant, r.params.id, r.actor) }),

    // Per-user overrides, derived roles, and what a user's token carries and why
    defineRoute({ method: 'get', path: '/users/{user}/overrides', scoped: true, summary: "A user's per-application permission overrides", permission: 'caregate.assignments:read', params: user, handler: (r) => accounts.accessRules.listOverrides(r.tenant, r.params.user, r.actor) }),
    defineRoute({
      method: 'put', path: '/users/{user}/overrides', scoped: true, summary: 'Grant or deny one permission of an application to a user on top of their roles (deny wins; replaces an override of the same permission)',
      permission: 'caregate.assignments:create', params: user, body: overrideInput, handler: (r) => accounts.accessRules.setOverride(r.tenant, r.params.user, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/users/{user}/overrides/{id}', scoped: true, summary: 'Remove an override', permission: 'caregate.assignments:delete',
      params: user.extend({ id: z.uuid() }), status: 204, handler: (r) => accounts.accessRules.removeOverride(r.tenant, r.params.user, r.params.id, r.actor),
    }),
    defineRoute({
      method: 'get', path: '/users/{user}/effective-permissions', scoped: true, summary: "What a token for an application carries for the user, and why (each role's scope and source; overrides)",
      permission: 'caregate.users:read', params: user, query: z.object({ application: z.string().min(1).max(64).optional() }), handler: (r) => accounts.accessRules.explain(r.tenant, r.params.user, r.query.application, r.actor),
    }),
    defineRoute({ method: 'get', path: '/derived-roles', summary: 'Derived roles: holders of a role or permission also hold another role at the same scope', permission: 'caregate.roles:read', handler: (r) => accounts.accessRules.listDerived(r.tenant) }),
    defineRoute({ method: 'post', path: '/derived-roles', summary: 'Add a derived role (evaluated at token time, never stored per user)', permission: 'caregate.roles:edit', body: derivedRoleInput, status: 201, handler: (r) => accounts.accessRules.createDerived(r.tenant, r.body, r.actor) }),
    defineRoute({ method: 'delete', path: '/derived-roles/{id}', summary: 'Remove a derived role', permission: 'caregate.roles:edit', params: z.object({ id: z.uuid() }), status: 204, handler: (r) => accounts.accessRules.removeDerived(r.tenant, r.params.id, r.actor) }),

    // Roles
    // Role definitions are read by anyone who may read roles somewhere: a location manager assigns them at their location.
    defineRoute({ method: 'get', path: '/roles', scoped: true, summary: 'List roles with their effective permissions and holders (how many assignments, direct and to teams, hold each)', permission: 'caregate.roles:read', handler: (r) => roles.list(r.tenant) }),
    defineRoute({ method: 'post', path: '/roles', summary: 'Create a custom role', permission: 'caregate.roles:create', body: schemas.roleInput, status: 201, handler: (r) => roles.create(r.tenant, r.body, r.actor) }),
    defineRoute({ method: 'get', path: '/roles/{key}', scoped: true, summary: 'Get a role, with its effective permissions and holders', permission: 'caregate.roles:read', params: key, handler: (r) => roles.get(r.tenant, r.params.key) }),
    defineRoute({
      method: 'patch', path: '/roles/{key}', summary: 'Edit a role, built-in ones too (name, description, permissions, parent, requiresPhi); tokens reflect it at their next grant', permission: 'caregate.roles:edit',
      params: key, body: schemas.rolePatch, handler: (r) => roles.update(r.tenant, r.params.key, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/roles/{key}', summary: 'Delete a custom role (409 for a built-in one, or one still assigned unless force=true, which ends its assignments)', permission: 'caregate.roles:delete', params: key,
      query: z.object({ force: z.enum(['true', 'false']).default('false').transform((v) => v === 'true') }), status: 204, handler: (r) => roles.remove(r.tenant, r.params.key, r.actor, { force: r.query.force }),
    }),

    ...keyedRoutes(accounts, 'locations'),
    ...keyedRoutes(accounts, 'institutions'),
    ...placeEditRoutes(accounts),
    ...keyedRoutes(accounts, 'teams'),
    defineRoute({
      method: 'post', path: '/teams/{key}/members', summary: 'Add a user to a team', permission: 'caregate.teams:edit', params: key, body: z.object({ user: z.string().min(1) }), status: 204,
      handler: async (r) => teamMembers.add(r.tenant, r.params.key, (await users.findUser(r.tenant, r.body.user)).id, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/teams/{key}/members/{user}', summary: 'Remove a user from a team', permission: 'caregate.teams:edit', params: key.extend(user.shape), status: 204,
      handler: async (r) => teamMembers.remove(r.tenant, r.params.key, (await users.findUser(r.tenant, r.params.user)).id, r.actor),
    }),
    defineRoute({ method: 'patch', path: '/teams/{key}', summary: 'Rename a team (its key, members and roles stay)', permission: 'caregate.teams:edit', params: key, body: schemas.teamPatch, handler: (r) => teams.rename(r.tenant, r.params.key, r.body, r.actor) }),
    defineRoute({ method: 'get', path: '/teams/{key}/members', summary: "A team's members, by username", permission: 'caregate.teams:read', params: key, query: page, handler: (r) => teams.members(r.tenant, r.params.key, r.query, r.actor) }),
    defineRoute({
      method: 'get', path: '/teams/{key}/assignments', summary: "The roles a team holds, with where (DELETE /assignments/{id} takes one away)", permission: 'caregate.assignments:read', params: key,
      handler: (r) => teams.roles(r.tenant, r.params.key, r.actor),
    }),

    // Applications
    defineRoute({ method: 'get', path: '/applications', scoped: true, summary: 'List applications', permission: 'caregate.applications:read', handler: (r) => applications.list(r.tenant, r.actor) }),
    defineRoute({
      method: 'post', path: '/applications', summary: 'Register an application (returns client_secret once); SAML settings or SP metadata make it a SAML service provider (SAML-only without redirect URIs)',
      permission: 'caregate.applications:create', body: schemas.applicationRequest, status: 201, handler: (r) => applications.create(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'get', path: '/applications/{clientId}', scoped: true, summary: 'Get an application', permission: 'caregate.applications:read', params: clientId, handler: (r) => applications.get(r.tenant, r.params.clientId, r.actor) }),
    defineRoute({ method: 'delete', path: '/applications/{clientId}', summary: 'Delete an application and revoke its tokens', permission: 'caregate.applications:delete', params: clientId, status: 204, handler: (r) => applications.remove(r.tenant, r.params.clientId, r.actor) }),
    defineRoute({
      method: 'patch', path: '/applications/{clientId}', scoped: true, summary: 'Edit an application (redirect URIs, grants, catalogue, resources, service roles, SAML…); lists replace, the result is checked like a new application and applies to the next authorization',
      permission: 'caregate.applications:edit', params: clientId, body: schemas.applicationPatch, handler: (r) => applications.update(r.tenant, r.params.clientId, r.body, r.actor),
    }),
    defineRoute({
      method: 'post', path: '/applications/{clientId}/secret', scoped: true, summary: 'Rotate the client secret: returns the new one once; the old one keeps working overlapMinutes more (0: stops at once)',
      permission: 'caregate.applications:edit', params: clientId, body: schemas.secretRotation, handler: (r) => applications.rotateSecret(r.tenant, r.params.clientId, r.body, r.actor),
    }),
    defineRoute({
      method: 'put', path: '/applications/{clientId}/saml', scoped: true, summary: "Set an application's SAML service provider settings, whole or from SP metadata (given fields override it)",
      permission: 'caregate.applications:edit', params: clientId, body: schemas.samlRequest, handler: (r) => applications.setSaml(r.tenant, r.params.clientId, r.body, r.actor),
    }),
    defineRoute({
      method: 'delete', path: '/applications/{clientId}/saml', scoped: true, summary: 'Remove SAML from an application that keeps OIDC grants (a SAML-only application is deleted instead)',
      permission: 'caregate.applications:edit', params: clientId, handler: (r) => applications.setSaml(r.tenant, r.params.clientId, null, r.actor),
    }),

    // Federation connections
    defineRoute({ method: 'get', path: '/connections', summary: 'List federation connections (never their secrets)', permission: 'caregate.connections:read', handler: (r) => connections.list(r.tenant) }),
    defineRoute({
      method: 'post', path: '/connections', summary: 'Create a federation connection: upstream OIDC (Okta, Entra ID, Google Workspace, generic) or SAML (from the IdP metadata XML or its settings)',
      permission: 'caregate.connections:create', body: connectionRequest, status: 201, handler: (r) => connections.create(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'get', path: '/connections/{key}', summary: 'Get a connection, with the URLs to register upstream', permission: 'caregate.connections:read', params: connectionKey, handler: (r) => connections.get(r.tenant, r.params.key) }),
    defineRoute({
      method: 'patch', path: '/connections/{key}', summary: 'Change settings of a connection (mappings replace the whole list; the result is validated whole)', permission: 'caregate.connections:edit', params: connectionKey,
      body: z.record(z.string(), z.unknown()), handler: (r) => connections.update(r.tenant, r.params.key, r.body, r.actor),
    }),
    defineRoute({ method: 'delete', path: '/connections/{key}', summary: 'Delete a connection and the roles and team memberships its mappings granted (its users stay)', permission: 'caregate.connections:delete', params: connectionKey, status: 204, handler: (r) => connections.remove(r.tenant, r.params.key, r.actor) }),
    defineRoute({ method: 'post', path: '/connections/{key}/test', summary: 'Check a connection against the live upstream without signing anyone in', permission: 'caregate.connections:read', params: connectionKey, handler: (r) => federation.test(r.tenant, r.params.key) }),

    // Directory sources (LDAP / Active Directory)
    defineRoute({ method: 'get', path: '/directory-sources', summary: 'List directory sources with their last run (never the service account password)', permission: 'caregate.directory:read', handler: (r) => sources.list(r.tenant) }),
    defineRoute({
      method: 'post', path: '/directory-sources', summary: 'Create a directory source (preset active-directory or openldap)',
      permission: 'caregate.directory:create', body: sourceRequest, status: 201, handler: (r) => sources.create(r.tenant, r.body, r.actor),
    }),
    defineRoute({ method: 'get', path: '/directory-sources/{key}', summary: 'Get a directory source, its watermark and last run', permission: 'caregate.directory:read', params: key, handler: (r) => sources.get(r.tenant, r.params.key) }),
    defineRoute({
      method: 'patch', path: '/directory-sources/{key}', summary: 'Change settings of a directory source (the result is validated whole; a new search scope forgets the watermark)', permission: 'caregate.directory:edit', params: key,
      body: z.record(z.string(), z.unknown()), handler: (r) => sources.update(r.tenant, r.params.key, r.body, r.actor),
    }),
    defineRoute({ method: 'delete', path: '/directory-sources/{key}', summary: 'Delete a directory source and what its mappings granted (its users stay)', permission: 'caregate.directory:delete', params: key, status: 204, handler: (r) => sources.remove(r.tenant, r.params.key, r.actor) }),
    defineRoute({ method: 'post', path: '/directory-sources/{key}/test', summary: 'Check a source against the live directory: servers, TLS, service account, searches, mapping rules', permission: 'caregate.directory:read', params: key, handler: (r) => ldap.test(r.tenant, r.params.key) }),
    defineRoute({
      method: 'post', path: '/directory-sources/{key}/sync', summary: 'Start a sync run (409 while one is running); follow it at /runs/{run}', permission: 'caregate.directory:sync', params: key, body: syncBody, status: 202,
      handler: (r) => ldap.begin(r.tenant, r.params.key, { ...r.body, trigger: 'api', actor: r.actor }, onFault),
    }),
    defineRoute({ method: 'get', path: '/directory-sources/{key}/runs', summary: 'Recent sync runs, newest first, with progress and results', permission: 'caregate.directory:read', params: key, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }), handler: (r) => sources.runs(r.tenant, r.params.key, r.query.limit) }),
    defineRoute({ method: 'get', path: '/directory-sources/{key}/runs/{run}', summary: 'One sync run: progress while running, then its result (a dry run keeps its diff)', permission: 'caregate.directory:read', params: runRef, handler: (r) => sources.run(r.tenant, r.params.key, r.params.run) }),

    // Service accounts and API keys
    ...apiKeyRoutes(accounts),
    ...accessReviewRoutes(accounts),
    ...networkRuleRoutes(accounts),
    ...delegationRoutes(accounts),

    // Audit
    ...auditRoutes(auditLog, async (tenant, actor, permission) => {
      const userIds = await users.visibleTo(tenant, actor, permission);
      return userIds && { userIds };
    }),
  ];
}
