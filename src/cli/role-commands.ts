// `caregate role show|update|delete` and `caregate role derived list|add|remove`: a role's
// permissions, parent and PHI rule, and the rules that derive one role from another, through the
// same services as the admin API (no one gives a role more than they hold; audit).
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { collect } from './options.ts';

/** A role for people: key, name, what it inherits, what it carries. */
function describeRole(r: any): string {
  return [
    `${r.key}\t${r.name}${r.builtin ? ' (built in)' : ''}${r.requiresPhi ? '; requires PHI access' : ''}`,
    ...(r.description ? [r.description] : []),
    ...(r.parent ? [`inherits from: ${r.parent}`] : []),
    `permissions: ${r.effectivePermissions.join(' ') || 'none'}`,
  ].join('\n');
}

/** The options given, as a role edit; a repeatable option replaces its whole list. */
function rolePatch(o: Record<string, any>): Record<string, unknown> {
  const list = (values: string[]) => (values.length ? values : undefined);
  if (o.parent !== undefined && o.noParent) throw new ValidationError('--parent and --no-parent: give one');
  const patch: Record<string, unknown> = {
    name: o.name, description: o.description, parent: o.noParent ? null : o.parent, requiresPhi: o.requiresPhi,
    permissions: o.clearPermissions ? [] : list(o.permission), removedPermissions: list(o.removePermission),
  };
  if (o.clearPermissions && o.permission.length) throw new ValidationError('--clear-permissions and --permission: give one');
  if (Object.values(patch).every((v) => v === undefined)) throw new ValidationError('nothing to change: give at least one option (caregate role update --help)');
  return patch;
}

export function registerRoleCommands(program: Command, run: Run) {
  const role = program.commands.find((c) => c.name() === 'role')!;

  role.command('show <role>').requiredOption('--tenant <tenant>').description('Show a role: what it inherits and every permission it carries')
    .action((key, o) => run((rt) => rt.accounts.roles.get(o.tenant, key), describeRole));

  role.command('update <role>').requiredOption('--tenant <tenant>').option('--name <name>').option('--description <text>')
    .option('--permission <perm>', 'feature:action[:own], feature:* or * (repeatable; replaces its own permissions)', collect, [])
    .option('--clear-permissions', 'carry no permissions of its own (inherited ones stay)')
    .option('--remove-permission <perm>', 'drop an inherited permission (repeatable; replaces the list)', collect, [])
    .option('--parent <role>', "inherit this role's permissions").option('--no-parent', 'inherit from no role')
    .option('--requires-phi', 'only PHI-flagged users may hold it (refused, naming them, while others hold it)').option('--no-requires-phi', 'anyone may hold it')
    .description('Change a role, built-in ones too; tokens carry the change from their next grant')
    .action((key, o) => run((rt, { actor }) => rt.accounts.roles.update(o.tenant, key, rolePatch({ ...o, noParent: o.parent === false, parent: o.parent === false ? undefined : o.parent }), actor),
      (r) => `Updated role ${r.key}.\n${describeRole(r)}`));

  role.command('delete <role>').requiredOption('--tenant <tenant>').option('--force', 'also end every assignment of it (each audited)')
    .description('Delete a custom role (built-in roles cannot be deleted; one still assigned needs --force)')
    .action((key, o) => run(async (rt, { actor }) => (await rt.accounts.roles.remove(o.tenant, key, actor, { force: Boolean(o.force) }), { deleted: key }), () => `Deleted role ${key}.`));

  const derived = role.command('derived').description('Derived roles: holders of a role or permission also hold another role, at the same scope (evaluated at token time)');
  derived.command('list').requiredOption('--tenant <tenant>').description("List the tenant's derived-role rules")
    .action((o) => run((rt) => rt.accounts.accessRules.listDerived(o.tenant),
      (ds) => (ds.length ? ds.map((d: any) => `${d.sourceRole ?? `permission ${d.sourcePermission}`} -> ${d.targetRole}\t${d.id}`).join('\n') : 'No derived roles.')));
  derived.command('add').requiredOption('--tenant <tenant>').requiredOption('--target <role>', 'the role they also get')
    .option('--from-role <role>', 'holders of this role…').option('--from-permission <feature:action>', '…or of a role carrying this permission')
    .description('Add a rule: holders of --from-role (or --from-permission) also hold --target, where they hold the source')
    .action((o) => run((rt, { actor }) => rt.accounts.accessRules.createDerived(o.tenant, { sourceRole: o.fromRole, sourcePermission: o.fromPermission, targetRole: o.target }, actor),
      (d) => `Holders of ${d.sourceRole ?? `permission ${d.sourcePermission}`} now also hold ${d.targetRole} (${d.id}).`));
  derived.command('remove <id>').requiredOption('--tenant <tenant>').description('Remove a derived-role rule')
    .action((id, o) => run(async (rt, { actor }) => (await rt.accounts.accessRules.removeDerived(o.tenant, id, actor), { removed: id }), () => `Removed derived role ${id}.`));
}
