// `caregate connection …`: federation connections from the command line — create (OIDC with a
// preset, or SAML from the IdP's metadata), change, map groups to roles, list, show, delete, and
// `test`, which checks a connection against the live upstream before anyone signs in.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import type { Terminal } from './terminal.ts';
import { collect, readOptionJson } from './options.ts';


/**
 * `--map "<claim>=<value> -> <grant>"`: grant is `role:KEY[@location:KEY|@institution:KEY|@application:ID]`,
 * `team:KEY` or `phi`; `<claim>` alone (no `=value`) matches any value.
 */
export function parseMapRule(text: string): Record<string, unknown> {
  const arrow = text.indexOf('->');
  if (arrow < 0) throw new ValidationError(`--map ${text}: expected "<claim>=<value> -> role:KEY[@scope] | team:KEY | phi"`);
  const [test, grant] = [text.slice(0, arrow).trim(), text.slice(arrow + 2).trim()];
  const eq = test.indexOf('=');
  const rule: Record<string, unknown> = eq < 0 ? { claim: test } : { claim: test.slice(0, eq).trim(), equals: test.slice(eq + 1).trim() };
  if (grant === 'phi') return { ...rule, phi: true };
  if (grant.startsWith('team:')) return { ...rule, team: grant.slice(5) };
  if (!grant.startsWith('role:')) throw new ValidationError(`--map ${text}: the grant must be role:KEY[@scope], team:KEY or phi`);
  const [role, scope] = grant.slice(5).split('@') as [string, string | undefined];
  if (!scope) return { ...rule, role };
  const colon = scope.indexOf(':');
  const [type, ref] = [scope.slice(0, colon), scope.slice(colon + 1)];
  if (type === 'application') return { ...rule, role, scope: { type, clientId: ref } };
  if (type === 'location' || type === 'institution') return { ...rule, role, scope: { type, key: ref } };
  throw new ValidationError(`--map ${text}: scope must be location:KEY, institution:KEY or application:CLIENT_ID`);
}

async function connectionOptions(o: Record<string, any>, terminal: Terminal): Promise<Record<string, unknown>> {
  const secret = o.clientSecretStdin ? (await terminal.readStdin()).replace(/\r?\n$/, '') : o.clientSecret;
  const fromFile = o.settings ? ((await readOptionJson(terminal, '--settings', o.settings)) as Record<string, unknown>) : {};
  return {
    ...fromFile,
    name: o.name, preset: o.preset, issuer: o.issuer, clientId: o.clientId, clientSecret: secret, clientAuth: o.clientAuth,
    scopes: o.scope?.length ? o.scope : undefined, groupsClaim: o.groupsClaim, entraTenant: o.entraTenant,
    allowedTenants: o.allowedTenant?.length ? o.allowedTenant : undefined, hostedDomains: o.hostedDomain?.length ? o.hostedDomain : undefined,
    idpMetadata: o.idpMetadata ? await terminal.readFile(o.idpMetadata) : undefined,
    domains: o.domain?.length ? o.domain : undefined,
    button: o.button === false ? false : undefined, federatedOnly: o.federatedOnly, jit: o.jit === false ? false : undefined,
    linkByEmail: o.linkByEmail, trustUpstreamMfa: o.trustUpstreamMfa, enabled: o.disable ? false : o.enable ? true : undefined,
    mappings: o.map?.length ? o.map.map(parseMapRule) : o.mappings ? await readOptionJson(terminal, '--mappings', o.mappings) : undefined,
  };
}

function describe(c: any): string {
  const urls = Object.entries(c.urls).map(([k, v]) => `  ${k}: ${v}`).join('\n');
  return `Connection ${c.key} (${c.type}, ${c.preset})${c.enabled ? '' : ' — disabled'}\nRegister with the upstream:\n${urls}`;
}

const options = (cmd: Command) => cmd
  .option('--name <name>', 'shown on the sign-in button (default: the key)')
  .option('--preset <preset>', 'okta, entra, google or generic')
  .option('--issuer <url>', 'OIDC issuer of the upstream')
  .option('--client-id <id>').option('--client-secret <secret>').option('--client-secret-stdin', 'read the client secret from standard input')
  .option('--client-auth <method>', 'client_secret_basic, client_secret_post or private_key_jwt')
  .option('--scope <scope>', 'scope to request (repeatable)', collect, [])
  .option('--groups-claim <claim>', 'claim that carries groups (default groups)')
  .option('--entra-tenant <id>', 'Entra ID directory (tenant) ID, or organizations')
  .option('--allowed-tenant <id>', 'Entra ID tenant accepted by a multi-tenant connection (repeatable)', collect, [])
  .option('--hosted-domain <domain>', 'Google Workspace domain whose accounts may sign in (repeatable)', collect, [])
  .option('--idp-metadata <file>', "SAML: the IdP's metadata XML")
  .option('--domain <domain>', 'email domain routed to this connection (repeatable)', collect, [])
  .option('--no-button', 'do not show a button on the sign-in page')
  .option('--federated-only', 'its users may not sign in with a local password')
  .option('--no-jit', 'do not create users at first sign-in')
  .option('--link-by-email', 'link a first sign-in to an existing account with the same verified email')
  .option('--trust-upstream-mfa', "accept the upstream's second factor")
  .option('--map <rule>', 'mapping rule "<claim>=<value> -> role:KEY[@scope] | team:KEY | phi" (repeatable, in order)', collect, [])
  .option('--mappings <file>', 'mapping rules as a JSON array')
  .option('--settings <file>', 'any settings as a JSON object (flags override it)');

export function registerConnectionCommands(program: Command, run: Run) {
  const connection = program.command('connection').description('Federation connections (Okta, Entra ID, Google Workspace, any OIDC or SAML IdP)');

  options(connection.command('create').requiredOption('--tenant <tenant>').requiredOption('--key <key>').requiredOption('--type <type>', 'oidc or saml'))
    .description('Create a connection; prints the URLs to register with the upstream')
    .action((o) => run(async (rt, { actor, terminal }) => rt.federation.connections.create(o.tenant, { key: o.key, type: o.type, ...(await connectionOptions(o, terminal)), name: o.name ?? o.key }, actor), describe));

  options(connection.command('update <key>').requiredOption('--tenant <tenant>'))
    .option('--enable').option('--disable')
    .description('Change settings of a connection (--map/--mappings replace all its rules)')
    .action((key, o) => run(async (rt, { actor, terminal }) => rt.federation.connections.update(o.tenant, key, await connectionOptions({ ...o, button: o.button === false ? false : undefined, jit: o.jit === false ? false : undefined }, terminal), actor), describe));

  connection.command('list').requiredOption('--tenant <tenant>').description('List connections')
    .action((o) => run((rt) => rt.federation.connections.list(o.tenant), (cs) => cs.map((c: any) => `${c.key}\t${c.type}\t${c.preset}\t${c.enabled ? 'enabled' : 'disabled'}\t${c.domains.join(',')}`).join('\n')));
  connection.command('show <key>').requiredOption('--tenant <tenant>').description('Show a connection (never its secrets)')
    .action((key, o) => run((rt) => rt.federation.connections.get(o.tenant, key), (c) => JSON.stringify(c, null, 2)));
  connection.command('delete <key>').requiredOption('--tenant <tenant>').description('Delete a connection and what its mappings granted (its users stay)')
    .action((key, o) => run(async (rt, { actor }) => (await rt.federation.connections.remove(o.tenant, key, actor), { deleted: key }), () => `Deleted connection ${key}.`));
  connection.command('test <key>').requiredOption('--tenant <tenant>').description('Check a connection against the live upstream; exits non-zero when a check fails')
    .action((key, o) => run(async (rt, { exitWith }) => {
      const result = await rt.federation.test(o.tenant, key);
      if (!result.ok) exitWith(3);
      return result;
    }, (r) => r.findings.map((f: any) => `${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}: ${f.detail}`).join('\n')));
}
