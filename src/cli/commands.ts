// Every `caregate` command but `serve` and `migrate`: each does one thing through the account
// services (so CLI changes are audited like API ones) against a runtime — the CLI's own, or a running
// embedded server's (src/cli/cli-socket-server.ts) — and returns a JSON-able result.
import type { Command } from 'commander';
import { NotFoundError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { Run } from './command-context.ts';
import type { SamlSettings } from '../saml/index.ts';
import { collect, parseSettings } from './options.ts';
import { parseRole } from './parse-role.ts';
import { samlCreateOptions, samlUpdateOptions } from './saml-options.ts';
import { registerConnectionCommands } from './connection-commands.ts';
import { registerDirectoryCommands } from './directory-commands.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerApplicationCommands } from './application-commands.ts';
import { registerTeamCommands } from './team-commands.ts';
import { attributeValues, profileOptions, registerUserCommands } from './user-commands.ts';
import { registerRoleCommands } from './role-commands.ts';
import { registerOwnerCommands } from './owner-commands.ts';
import { registerServiceAccountCommands } from './service-account-commands.ts';
import { registerDelegationCommands } from './delegation-commands.ts';
import { registerAccessReviewCommands } from './access-review-commands.ts';
import { registerEmergencyCommands } from './emergency-commands.ts';
import { registerNetworkRuleCommands } from './network-rule-commands.ts';

export type { Run } from './command-context.ts';

async function tenantRow(rt: Runtime, slug: string) {
  const tenant = await rt.accounts.tenants.findBySlug(slug);
  if (!tenant) throw new NotFoundError(`tenant "${slug}" does not exist`);
  return tenant;
}

/** One line on a SAML service provider for people: its entity ID and where responses go. */
function describeSaml(saml: SamlSettings): string {
  return `SAML entity ID: ${saml.entityId}; assertions to ${saml.acs.map((a) => a.url).join(', ')}`;
}

export function registerCommands(program: Command, run: Run) {
  const tenant = program.command('tenant').description('Manage tenants');
  tenant.command('create <slug>').option('--name <name>', 'display name').description('Create a tenant with built-in roles')
    .action((slug, o) => run((rt, { actor }) => rt.accounts.tenants.create({ slug, name: o.name }, actor), (t) => `Created tenant ${t.slug} (${t.id}). Issuer: /t/${t.slug}`));
  tenant.command('list').description('List tenants').action(() => run((rt) => rt.accounts.tenants.list(), (ts) => ts.map((t: any) => `${t.slug}\t${t.name}`).join('\n')));

  tenant.command('policy <slug>')
    .option('--set <path=value>', 'change one setting, e.g. mfa.mode=required, lockout.threshold=10, password.minLength=14, mfa.roles=["provider"] (repeatable; values are JSON or text)', collect, [])
    .description("Show the tenant's security policy, or change settings in it")
    .action((slug, o) => run(async (rt, { actor }) => {
      if (!o.set.length) return rt.accounts.tenants.policy(slug);
      return rt.accounts.tenants.updatePolicy(slug, parseSettings(o.set), actor);
    }, (p) => JSON.stringify(p, null, 2)));

  const user = program.command('user').description('Manage users');
  profileOptions(user.command('create').requiredOption('--tenant <tenant>').requiredOption('--username <username>')
    .option('--email <email>').option('--phone <phone>', 'E.164, e.g. +15551234567').option('--name <name>', 'display name'))
    .option('--password <password>').option('--password-stdin', 'read the password from standard input')
    .option('--invite', 'create the user as invited (no password yet)')
    .option('--phi', 'the user may access PHI').option('--vendor', 'the user works for an outside vendor')
    .option('--expires <date>', 'account end date (ISO 8601)')
    .option('--role <role[@scope]>', 'assign a role; scope location:KEY, institution:KEY or application:CLIENT_ID (repeatable)', collect, [])
    .description('Create a user, with a password or as an invitation, and role assignments')
    .action((o) => run(async (rt, { actor, terminal }) => {
      const password = o.passwordStdin ? (await terminal.readStdin()).replace(/\r?\n$/, '') : o.password;
      return rt.accounts.users.create(o.tenant, {
        username: o.username, email: o.email, phone: o.phone, displayName: o.name, password, invite: o.invite,
        phiAccess: Boolean(o.phi), outsideVendor: Boolean(o.vendor), expiresAt: o.expires,
        givenName: o.givenName, familyName: o.familyName, userType: o.userType, attributes: await attributeValues(rt, o.tenant, o.attribute),
      }, o.role.map(parseRole), actor).then(async (created) =>
        // An invited user gets the activation link at once (by email, or printed when there is none).
        o.invite ? { ...created, invitation: await rt.security.sendInvitation(o.tenant, created.id, actor) } : created);
    }, (u) => `Created user ${u.username} (${u.id}), status ${u.status}.`));
  for (const [name, status] of [['disable', 'disabled'], ['enable', 'active']] as const) {
    user.command(`${name} <user>`).requiredOption('--tenant <tenant>').description(`${name[0]!.toUpperCase()}${name.slice(1)} a user`)
      .action((ref, o) => run((rt, { actor }) => rt.accounts.users.setStatus(o.tenant, ref, status, actor), (u) => `User ${u.username} is now ${u.status}.`));
  }
  user.command('delete <user>').requiredOption('--tenant <tenant>').description('Delete a user and revoke their tokens')
    .action((ref, o) => run(async (rt, { actor }) => (await rt.accounts.users.remove(o.tenant, ref, actor), { deleted: ref }), () => `Deleted user ${ref}.`));
  user.command('security <user>').requiredOption('--tenant <tenant>').description('Show lock state, failures, second factors and sessions')
    .action((ref, o) => run((rt, { actor }) => rt.security.state(o.tenant, ref, actor), (s) => JSON.stringify(s, null, 2)));
  user.command('unlock <user>').requiredOption('--tenant <tenant>').description('Unlock an account locked after failed sign-ins')
    .action((ref, o) => run((rt, { actor }) => rt.security.unlock(o.tenant, ref, actor), (u) => `User ${u.username} is unlocked.`));
  user.command('reset-mfa <user>').requiredOption('--tenant <tenant>').description('Remove all second factors; the user enrols again at next sign-in')
    .action((ref, o) => run((rt, { actor }) => rt.security.resetMfa(o.tenant, ref, actor), () => `Two-step sign-in reset for ${ref}; they will enrol again at next sign-in.`));
  user.command('reset-password <user>').requiredOption('--tenant <tenant>').option('--temporary', 'set a random password (shown once) that must be changed at next sign-in, instead of emailing a link')
    .description('Email a single-use password reset link, or set a temporary password')
    .action((ref, o) => run((rt, { actor }) => (o.temporary ? rt.security.temporaryPassword(o.tenant, ref, actor) : rt.security.sendPasswordReset(o.tenant, ref, actor)),
      (r) => (r.password ? `Temporary password (shown once, must be changed at next sign-in): ${r.password}` : `Reset link sent; it expires ${r.expiresAt.toISOString()}.`)));
  user.command('invite <user>').requiredOption('--tenant <tenant>').description('Send (again) the activation link of an invited user')
    .action((ref, o) => run((rt, { actor }) => rt.security.sendInvitation(o.tenant, ref, actor), (r) => `${r.sent ? 'Invitation emailed' : 'No email address: give the user this link'}: ${r.url} (expires ${r.expiresAt.toISOString()}).`));
  user.command('end-sessions <user>').requiredOption('--tenant <tenant>').description("End all of a user's sign-on sessions")
    .action((ref, o) => run((rt, { actor }) => rt.security.endSessions(o.tenant, ref, actor), (r) => `Ended ${r.ended} session(s) and revoked the user's refresh tokens.`));
  user.command('expire-inactive').option('--tenant <tenant>', 'one tenant (default: all)').description("Expire accounts unused for the tenant policy's accounts.inactivityDays (the server does this hourly)")
    .action((o) => run((rt) => rt.security.expireInactive(o.tenant), (list) => list.length ? list.map((a: any) => `Expired ${a.tenant}/${a.username}`).join('\n') : 'No account is past its inactivity limit.'));
  user.command('list').requiredOption('--tenant <tenant>').description('List users')
    .action((o) => run((rt, { actor }) => rt.accounts.users.list(o.tenant, { limit: 500 }, actor), (us) => us.map((u: any) => `${u.username}\t${u.status}\t${u.email ?? ''}`).join('\n')));
  user.command('assign <user>').requiredOption('--tenant <tenant>').requiredOption('--role <role[@scope]>').description('Assign a role to a user')
    .action((ref, o) => run(async (rt, { actor }) => {
      const u = await rt.accounts.users.findUser(o.tenant, ref);
      return rt.accounts.assignments.assign(o.tenant, { userId: u.id }, parseRole(o.role), actor);
    }, (a) => `Assigned (${a.id}).`));

  const keyed = (kind: 'location' | 'institution' | 'team', service: 'locations' | 'institutions' | 'teams') => {
    const cmd = program.command(kind).description(`Manage ${service}`);
    const create = cmd.command('create').requiredOption('--tenant <tenant>').requiredOption('--key <key>').option('--name <name>');
    if (kind === 'location') create.option('--parent <key>', 'parent location (a role on the parent reaches this one)');
    create.description(`Create a ${kind}`).action((o) => run((rt, { actor }) => rt.accounts[service].create(o.tenant, { key: o.key, name: o.name, parent: o.parent }, actor), (r) => `Created ${kind} ${r.key} (${r.id}).`));
    cmd.command('list').requiredOption('--tenant <tenant>').description(`List ${service}`)
      .action((o) => run((rt, { actor }) => rt.accounts[service].list(o.tenant, actor), (rs) => rs.map((r: any) => `${r.key}\t${r.name}`).join('\n')));
    return cmd;
  };
  keyed('location', 'locations');
  keyed('institution', 'institutions');
  keyed('team', 'teams').command('add').requiredOption('--tenant <tenant>').requiredOption('--team <key>').requiredOption('--user <user>').description('Add a user to a team')
    .action((o) => run(async (rt, { actor }) => {
      const u = await rt.accounts.users.findUser(o.tenant, o.user);
      await rt.accounts.teamMembers.add(o.tenant, o.team, u.id, actor);
      return { team: o.team, user: u.id };
    }, () => `Added ${o.user} to ${o.team}.`));

  const role = program.command('role').description('Manage roles');
  role.command('create').requiredOption('--tenant <tenant>').requiredOption('--key <key>').option('--name <name>')
    .option('--permission <perm>', 'feature:action[:own], feature:* or * (repeatable)', collect, [])
    .option('--remove-permission <perm>', 'drop an inherited permission (repeatable)', collect, [])
    .option('--parent <role>', 'inherit this role\'s permissions').option('--requires-phi', 'only PHI-flagged users may hold it')
    .option('--description <text>').description('Create a custom role')
    .action((o) => run((rt, { actor }) => rt.accounts.roles.create(o.tenant, {
      key: o.key, name: o.name ?? o.key, permissions: o.permission, removedPermissions: o.removePermission, parent: o.parent, requiresPhi: Boolean(o.requiresPhi), description: o.description,
    }, actor), (r) => `Created role ${r.key} (${r.id}).`));
  role.command('list').requiredOption('--tenant <tenant>').description('List roles and effective permissions')
    .action((o) => run((rt) => rt.accounts.roles.list(o.tenant), (rs) => rs.map((r: any) => `${r.key}\t${r.effectivePermissions.join(' ')}`).join('\n')));

  const app = program.command('app').description('Manage applications (OIDC clients and SAML service providers)');
  app.command('create').requiredOption('--tenant <tenant>').requiredOption('--name <name>')
    .option('--redirect-uri <uri>', 'exact redirect URI (repeatable)', collect, [])
    .option('--post-logout-redirect-uri <uri>', '(repeatable)', collect, [])
    .option('--public', 'public client (SPA, native): no secret, PKCE')
    .option('--grant <type>', 'authorization_code, refresh_token, client_credentials (repeatable)', collect, [])
    .option('--permission <perm>', 'permission catalogue entry, e.g. notes:edit (repeatable)', collect, [])
    .option('--resource <uri>', 'resource indicator for its API (access token audience)')
    .option('--service-role <role>', 'role of its service account for client credentials (repeatable)', collect, [])
    .option('--allow-resource <uri>', 'another application\'s API it may request tokens for (repeatable)', collect, [])
    .option('--admin-api', 'may request tokens for the Caregate admin API')
    .option('--require-consent', 'ask users to approve the requested scopes')
    .option('--backchannel-logout-uri <uri>').option('--id-token-alg <alg>', 'ES256 or RS256')
    .option('--saml-metadata <file>', "the SAML service provider's metadata XML (without --redirect-uri: a SAML-only application)")
    .option('--saml-settings <file>', 'SAML settings as JSON; with --saml-metadata, the fields that override it')
    .option('--saml-name-id <format>', 'SAML NameID format: persistent, transient, email or unspecified')
    .option('--saml-encrypt', "encrypt SAML assertions with the SP's encryption certificate")
    .option('--saml-require-signed-requests', 'refuse unsigned SAML AuthnRequests and LogoutRequests')
    .description('Register an application; prints client_id and client_secret')
    .action((o) => run(async (rt, { actor, terminal }) => rt.accounts.applications.create(o.tenant, {
      name: o.name, redirectUris: o.redirectUri, postLogoutRedirectUris: o.postLogoutRedirectUri, public: Boolean(o.public),
      grantTypes: o.grant.length ? o.grant : undefined, permissions: o.permission, resource: o.resource, serviceRoles: o.serviceRole, allowedResources: o.allowResource, adminApi: Boolean(o.adminApi),
      requireConsent: Boolean(o.requireConsent), backchannelLogoutUri: o.backchannelLogoutUri, idTokenSignedResponseAlg: o.idTokenAlg, ...(await samlCreateOptions(o, terminal)),
    }, actor), (a) => [
      `client_id: ${a.client_id}`,
      ...(a.client_secret ? [`client_secret: ${a.client_secret}  (shown once)`] : []),
      `resource: ${a.resource}`,
      ...(a.saml ? [describeSaml(a.saml)] : []),
    ].join('\n')));
  app.command('saml').requiredOption('--tenant <tenant>').requiredOption('--client-id <id>')
    .option('--metadata <file>', "the SAML service provider's metadata XML")
    .option('--settings <file>', 'SAML settings as JSON; with --metadata, the fields that override it')
    .option('--remove', 'remove SAML from an application that keeps OIDC (delete a SAML-only application instead)')
    .description("Set an application's SAML service provider settings, or remove them")
    .action((o) => run(async (rt, { actor, terminal }) => rt.accounts.applications.setSaml(o.tenant, o.clientId, await samlUpdateOptions(o, terminal), actor),
      (a) => (a.saml ? describeSaml(a.saml) : `Application ${a.clientId} no longer has SAML settings.`)));
  app.command('list').requiredOption('--tenant <tenant>').description('List applications')
    .action((o) => run((rt, { actor }) => rt.accounts.applications.list(o.tenant, actor), (as) => as.map((a: any) => `${a.clientId}\t${a.name}`).join('\n')));

  registerApplicationCommands(program, run);
  registerTeamCommands(program, run);
  registerUserCommands(program, run);
  registerRoleCommands(program, run);
  registerOwnerCommands(program, run);
  registerConnectionCommands(program, run);
  registerDirectoryCommands(program, run);
  registerServiceAccountCommands(program, run);
  registerDelegationCommands(program, run);
  registerAccessReviewCommands(program, run);
  registerEmergencyCommands(program, run);
  registerNetworkRuleCommands(program, run);

  program.command('keys').description('Signing keys').command('rotate').requiredOption('--tenant <tenant>')
    .description('Promote the published next key to signing, publish a new next key, retire the old one')
    .action((o) => run(async (rt, { actor }) => {
      const t = await tenantRow(rt, o.tenant);
      const retain = Math.max(rt.config.accessTokenTtl, rt.config.idTokenTtl) + 300;
      const result = await rt.providers.keys.rotate(t.id, retain);
      await rt.audit.record({ tenantId: t.id, actor, action: 'keys.rotate', after: result });
      return result;
    }, (r) => `Signing with ${r.current.join(', ')}; next ${r.next.join(', ')}; retired ${r.retired.join(', ') || 'none'}.`));

  registerAuditCommands(program, run);
}
