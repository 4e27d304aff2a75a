// `caregate app show|update|rotate-secret|delete`: one application from the command line, through
// the same service as the admin API (so the same checks and the same audit events).
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { collect } from './options.ts';


/** What `--clear` may empty, and the field it empties (lists to [], single values to null). */
const CLEARABLE: Record<string, [field: string, empty: [] | null]> = {
  'redirect-uris': ['redirectUris', []],
  'post-logout-redirect-uris': ['postLogoutRedirectUris', []],
  permissions: ['permissions', []],
  'allowed-resources': ['allowedResources', []],
  'service-roles': ['serviceRoles', []],
  'backchannel-logout-uri': ['backchannelLogoutUri', null],
  'id-token-alg': ['idTokenSignedResponseAlg', null],
};

/** The options given, as an application edit: a repeatable option replaces its whole list. */
function applicationPatch(o: Record<string, any>): Record<string, unknown> {
  const list = (values: string[]) => (values.length ? values : undefined);
  const patch: Record<string, unknown> = {
    name: o.name, redirectUris: list(o.redirectUri), postLogoutRedirectUris: list(o.postLogoutRedirectUri), grantTypes: list(o.grant),
    permissions: list(o.permission), resource: o.resource, allowedResources: list(o.allowResource), serviceRoles: list(o.serviceRole),
    adminApi: o.adminApi, requireConsent: o.requireConsent, backchannelLogoutUri: o.backchannelLogoutUri, idTokenSignedResponseAlg: o.idTokenAlg,
  };
  for (const name of o.clear as string[]) {
    const clearable = CLEARABLE[name];
    if (!clearable) throw new ValidationError(`--clear ${name}: expected one of ${Object.keys(CLEARABLE).join(', ')}`);
    const [field, empty] = clearable;
    if (patch[field] !== undefined) throw new ValidationError(`--clear ${name}: the same command also sets it`);
    patch[field] = empty;
  }
  return patch;
}

/** An application for people: what a relying party's operator checks after a change. */
function describeApplication(a: any): string {
  const lines = [
    `${a.clientId}\t${a.name}${a.public ? ' (public)' : ''}`,
    `grants: ${a.grantTypes.join(', ') || 'none (SAML only)'}`,
    `redirect URIs: ${a.redirectUris.join(' ') || 'none'}`,
    `resource: ${a.resource}`,
    `permissions: ${a.permissions.join(' ') || 'none'}`,
  ];
  if (a.allowedResources.length) lines.push(`may also request: ${a.allowedResources.join(' ')}`);
  if (a.adminApi) lines.push('may request admin API tokens');
  if (a.saml) lines.push(`SAML entity ID: ${a.saml.entityId}`);
  if (a.previousSecretExpiresAt && new Date(a.previousSecretExpiresAt) > new Date()) lines.push(`previous client secret works until ${new Date(a.previousSecretExpiresAt).toISOString()}`);
  return lines.join('\n');
}

export function registerApplicationCommands(program: Command, run: Run) {
  const app = program.commands.find((c) => c.name() === 'app')!;

  app.command('show <clientId>').requiredOption('--tenant <tenant>').description('Show an application (never its secret)')
    .action((clientId, o) => run((rt, { actor }) => rt.accounts.applications.get(o.tenant, clientId, actor), describeApplication));

  app.command('update <clientId>').requiredOption('--tenant <tenant>').option('--name <name>')
    .option('--redirect-uri <uri>', 'exact redirect URI (repeatable; replaces the list)', collect, [])
    .option('--post-logout-redirect-uri <uri>', '(repeatable; replaces the list)', collect, [])
    .option('--grant <type>', 'authorization_code, refresh_token, client_credentials (repeatable; replaces the list)', collect, [])
    .option('--permission <perm>', 'permission catalogue entry (repeatable; replaces the catalogue)', collect, [])
    .option('--resource <uri>', 'resource indicator for its API')
    .option('--allow-resource <uri>', "another application's API it may request tokens for (repeatable; replaces the list)", collect, [])
    .option('--service-role <role>', "tenant-wide role of its service account (repeatable; replaces the account's tenant-wide roles)", collect, [])
    .option('--admin-api', 'may request tokens for the Caregate admin API').option('--no-admin-api', 'may no longer request admin API tokens')
    .option('--require-consent', 'ask users to approve the requested scopes').option('--no-require-consent', 'no longer ask')
    .option('--backchannel-logout-uri <uri>').option('--id-token-alg <alg>', 'ES256 or RS256')
    .option('--clear <field>', `empty a list or setting: ${Object.keys(CLEARABLE).join(', ')} (repeatable)`, collect, [])
    .description('Change an application; the result is checked like a new application and applies to the next sign-in')
    .action((clientId, o) => run((rt, { actor }) => rt.accounts.applications.update(o.tenant, clientId, applicationPatch(o), actor), (a) => `Updated application ${a.clientId}.\n${describeApplication(a)}`));

  app.command('rotate-secret <clientId>').requiredOption('--tenant <tenant>')
    .option('--overlap-minutes <minutes>', 'how long the old secret keeps working (default 60, at most 10080; 0 stops it at once)', (v) => Number(v))
    .description('Issue a new client secret (shown once); the old one keeps working during the overlap')
    .action((clientId, o) => run((rt, { actor }) => rt.accounts.applications.rotateSecret(o.tenant, clientId, { overlapMinutes: o.overlapMinutes }, actor), (r) => [
      `client_secret: ${r.client_secret}  (shown once)`,
      r.previousSecretExpiresAt ? `The previous secret works until ${new Date(r.previousSecretExpiresAt).toISOString()}.` : 'The previous secret no longer works.',
    ].join('\n')));

  app.command('delete <clientId>').requiredOption('--tenant <tenant>').description('Delete an application, its service account and the roles held for it; revoke its tokens')
    .action((clientId, o) => run(async (rt, { actor }) => (await rt.accounts.applications.remove(o.tenant, clientId, actor), { deleted: clientId }), () => `Deleted application ${clientId}.`));
}
