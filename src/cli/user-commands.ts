// `caregate user show|update|set-password|unassign|bulk|permissions|override`: one person's profile,
// roles and effective access from the command line, through the same services as the admin API
// (scope, no-escalation and last-administrator rules, audit).
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import type { Runtime } from '../runtime.ts';
import { collect, parseValue } from './options.ts';
import { parseRole } from './parse-role.ts';

/** What `--clear` may empty on a user, and the field it empties. */
const CLEARABLE: Record<string, string> = {
  email: 'email', phone: 'phone', name: 'displayName', 'given-name': 'givenName', 'family-name': 'familyName', 'user-type': 'userType', expires: 'expiresAt',
};

/** The profile options `user create` and `user update` share. */
export function profileOptions(command: Command): Command {
  return command
    .option('--given-name <name>').option('--family-name <name>')
    .option('--user-type <type>', "one of the tenant's user types (caregate tenant profile-schema)")
    .option('--attribute <key=value>', 'a declared profile attribute, read as its declared type (a list: a,b or ["a","b"]) (repeatable)', collect, []);
}

/**
 * `--attribute key=value` pairs as the tenant declares them: a number or boolean attribute reads the
 * text as one, a list attribute a JSON list or comma-separated text, anything else the text as typed
 * (an NPI of digits stays text). An undeclared key passes through for the service to refuse.
 */
export async function attributeValues(rt: Runtime, tenant: string, pairs: string[]): Promise<Record<string, unknown> | undefined> {
  if (!pairs.length) return undefined;
  const declared = new Map((await rt.accounts.tenants.profileSchema(tenant)).attributes.map((a) => [a.key, a.type]));
  const values: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new ValidationError(`--attribute ${pair}: expected key=value`);
    const [key, text] = [pair.slice(0, at), pair.slice(at + 1)];
    const type = declared.get(key);
    values[key] = type === 'number' || type === 'boolean' ? parseValue(text)
      : type === 'list' ? (text.startsWith('[') ? parseValue(text) : text.split(',').map((v) => v.trim()).filter(Boolean))
        : text;
  }
  return values;
}

/** The options given, as a user edit. */
async function userPatch(rt: Runtime, o: Record<string, any>): Promise<Record<string, unknown>> {
  const attributes: Record<string, unknown> = { ...(await attributeValues(rt, o.tenant, o.attribute)) };
  for (const key of o.removeAttribute as string[]) attributes[key] = null;
  const patch: Record<string, unknown> = {
    username: o.username, email: o.email, phone: o.phone, displayName: o.name, givenName: o.givenName, familyName: o.familyName, userType: o.userType,
    phiAccess: o.phi, outsideVendor: o.vendor, expiresAt: o.expires, attributes: Object.keys(attributes).length ? attributes : undefined,
  };
  for (const name of o.clear as string[]) {
    const field = CLEARABLE[name];
    if (!field) throw new ValidationError(`--clear ${name}: expected one of ${Object.keys(CLEARABLE).join(', ')}`);
    if (patch[field] !== undefined) throw new ValidationError(`--clear ${name}: the same command also sets it`);
    patch[field] = null;
  }
  if (Object.values(patch).every((v) => v === undefined)) throw new ValidationError('nothing to change: give at least one option (caregate user update --help)');
  return patch;
}

const where = (scope: { type: string; key?: string | null; clientId?: string }) => (scope.type === 'tenant' ? 'tenant-wide' : `@${scope.type}:${scope.key ?? scope.clientId}`);

/** A user's page for people: who, status, roles where, teams, factors. */
function describeUser(u: any): string {
  const name = [u.givenName, u.familyName].filter(Boolean).join(' ') || u.displayName;
  return [
    `${u.username}${name ? ` (${name})` : ''}\t${u.status}\t${u.id}`,
    ...(u.email ? [`email: ${u.email}`] : []),
    ...(u.userType ? [`user type: ${u.userType}`] : []),
    `PHI access: ${u.phiAccess ? 'yes' : 'no'}${u.outsideVendor ? '; outside vendor' : ''}${u.expiresAt ? `; account ends ${new Date(u.expiresAt).toISOString()}` : ''}`,
    `roles: ${u.assignments.map((a: any) => `${a.role}${a.scope.type === 'tenant' ? '' : where(a.scope)}`).join(', ') || 'none'}`,
    `teams: ${u.teams.map((t: any) => t.key ?? t).join(', ') || 'none'}`,
    `second factors: ${u.factors.map((f: any) => f.type).join(', ') || 'none'}`,
  ].join('\n');
}

export function registerUserCommands(program: Command, run: Run) {
  const user = program.commands.find((c) => c.name() === 'user')!;

  user.command('show <user>').requiredOption('--tenant <tenant>').description('Show a user: profile, status, roles and where, teams, second factors, linked identities')
    .action((ref, o) => run((rt, { actor }) => rt.accounts.users.get(o.tenant, ref, actor), describeUser));

  profileOptions(user.command('update <user>').requiredOption('--tenant <tenant>')
    .option('--username <username>').option('--email <email>').option('--phone <phone>', 'E.164, e.g. +15551234567').option('--name <name>', 'display name'))
    .option('--remove-attribute <key>', 'remove a profile attribute (repeatable)', collect, [])
    .option('--phi', 'the user may access PHI').option('--no-phi', 'no PHI access (ends their PHI-only role assignments)')
    .option('--vendor', 'works for an outside vendor').option('--no-vendor', 'not an outside vendor')
    .option('--expires <date>', 'account end date (ISO 8601)')
    .option('--clear <field>', `empty a field: ${Object.keys(CLEARABLE).join(', ')} (repeatable)`, collect, [])
    .description("Change a user's profile, flags or account end date")
    .action((ref, o) => run(async (rt, { actor }) => rt.accounts.users.update(o.tenant, ref, await userPatch(rt, o), actor), (u) => `Updated user ${u.username}.`));

  user.command('set-password <user>').requiredOption('--tenant <tenant>').requiredOption('--password-stdin', 'read the new password from standard input')
    .option('--no-must-change', 'the user keeps it (default: they choose a new one at next sign-in)')
    .description("Set a user's password to one you choose (the password policy applies); ends their sessions")
    .action((ref, o) => run(async (rt, { actor, terminal }) => {
      const password = (await terminal.readStdin()).replace(/\r?\n$/, '');
      await rt.security.setPassword(o.tenant, ref, password, actor, { mustChange: o.mustChange });
      return { user: ref, mustChange: o.mustChange };
    }, (r) => `Password set for ${ref}${r.mustChange ? '; they choose a new one at next sign-in' : ''}.`));

  user.command('unassign <user>').requiredOption('--tenant <tenant>').requiredOption('--role <role[@scope]>', 'ROLE, or ROLE@location:KEY, ROLE@institution:KEY, ROLE@application:CLIENT_ID')
    .description('Take a role away from a user, where it is held')
    .action((ref, o) => run(async (rt, { actor }) => {
      const user = await rt.accounts.users.findUser(o.tenant, ref);
      return { user: user.username, ...(await rt.accounts.assignments.unassign(o.tenant, { userId: user.id }, parseRole(o.role), actor)) };
    }, (r) => `${r.user} no longer holds ${o.role}.`));

  user.command('bulk <action>').requiredOption('--tenant <tenant>')
    .requiredOption('--user <user>', 'a user to act on (repeatable, up to 1000)', collect, [])
    .option('--role <role[@scope]>', 'with assign and unassign: the role, and where')
    .description('One action on many users, all or nothing: assign, unassign, disable or enable')
    .action((action, o) => run((rt, { actor }) => {
      if (!['assign', 'unassign', 'disable', 'enable'].includes(action)) throw new ValidationError(`bulk ${action}: expected assign, unassign, disable or enable`);
      const withRole = action === 'assign' || action === 'unassign';
      if (withRole !== Boolean(o.role)) throw new ValidationError(withRole ? `bulk ${action} needs --role` : `bulk ${action} takes no --role`);
      return rt.accounts.bulk.apply(o.tenant, withRole ? { action, users: o.user, ...parseRole(o.role) } : { action, users: o.user }, actor);
    }, (r) => `${r.action}: ${r.users.join(', ')}.`));

  user.command('permissions <user>').requiredOption('--tenant <tenant>').option('--app <clientId>', "the application whose catalogue the token carries")
    .description("What the user's token carries, and why: each role, where, directly, through a team or derived; overrides")
    .action((ref, o) => run((rt, { actor }) => rt.accounts.accessRules.explain(o.tenant, ref, o.app, actor), (e) => [
      `${e.user}${e.application ? ` at ${e.application}` : ''}: ${(e.permissions ?? []).join(' ') || 'no permissions'}`,
      ...e.grants.map((g: any) => `  ${g.role}\t${where(g.scope)}\t${g.via}${g.inEffect ? '' : ' (not yet in effect)'}`),
      ...e.overrides.map((v: any) => `  override: ${v.effect} ${v.permission}`),
    ].join('\n')));

  const override = user.command('override').description("Per-user permission overrides: grant or deny one permission of an application on top of the user's roles (deny wins)");
  override.command('list <user>').requiredOption('--tenant <tenant>').description("List a user's overrides")
    .action((ref, o) => run((rt, { actor }) => rt.accounts.accessRules.listOverrides(o.tenant, ref, actor),
      (os) => (os.length ? os.map((v: any) => `${v.effect}\t${v.application}\t${v.permission}\t${v.id}`).join('\n') : `${ref} has no overrides.`)));
  for (const effect of ['grant', 'deny'] as const) {
    override.command(`${effect} <user>`).requiredOption('--tenant <tenant>').requiredOption('--app <clientId>').requiredOption('--permission <feature:action>')
      .description(`${effect === 'grant' ? 'Grant' : 'Deny'} one permission of an application to a user (replaces an override of the same permission)`)
      .action((ref, o) => run((rt, { actor }) => rt.accounts.accessRules.setOverride(o.tenant, ref, { application: o.app, permission: o.permission, effect }, actor),
        (v) => `${ref}: ${v.effect} ${v.permission} (${v.id}).`));
  }
  override.command('remove <user> <id>').requiredOption('--tenant <tenant>').description('Remove an override')
    .action((ref, id, o) => run(async (rt, { actor }) => (await rt.accounts.accessRules.removeOverride(o.tenant, ref, id, actor), { removed: id }), () => `Removed override ${id}.`));
}
