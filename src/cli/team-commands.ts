// `caregate team rename|members|roles|assign|unassign`: a team's name, who is in it, and the roles it
// holds, through the same services as the admin API (scope and no-escalation rules, audit).
import type { Command } from 'commander';
import type { Run } from './command-context.ts';
import { parseRole } from './parse-role.ts';

/** Where a role holds, as `--role` spells it. */
const describeScope = (scope: { type: string; key?: string; clientId?: string }) => (scope.type === 'tenant' ? 'tenant-wide' : `@${scope.type}:${scope.key ?? scope.clientId}`);

export function registerTeamCommands(program: Command, run: Run) {
  const team = program.commands.find((c) => c.name() === 'team')!;
  const roleOption = 'ROLE, or ROLE@location:KEY, ROLE@institution:KEY, ROLE@application:CLIENT_ID';

  team.command('rename <team>').requiredOption('--tenant <tenant>').requiredOption('--name <name>').description("Change a team's name (its key, members and roles stay)")
    .action((key, o) => run((rt, { actor }) => rt.accounts.teams.rename(o.tenant, key, { name: o.name }, actor), (t) => `Team ${t.key} is now named "${t.name}".`));

  team.command('members <team>').requiredOption('--tenant <tenant>')
    .option('--limit <n>', 'at most this many (default 100, at most 500)', (v) => Number(v)).option('--offset <n>', 'skip this many', (v) => Number(v))
    .description("List a team's members")
    .action((key, o) => run((rt, { actor }) => rt.accounts.teams.members(o.tenant, key, { limit: Math.min(o.limit ?? 100, 500), offset: o.offset ?? 0 }, actor),
      (us) => (us.length ? us.map((u: any) => `${u.username}\t${u.status}\t${u.displayName ?? ''}`).join('\n') : `Team ${key} has no members.`)));

  team.command('roles <team>').requiredOption('--tenant <tenant>').description('List the roles a team holds, and where')
    .action((key, o) => run((rt, { actor }) => rt.accounts.teams.roles(o.tenant, key, actor),
      (as) => (as.length ? as.map((a: any) => `${a.role}\t${describeScope(a.scope)}\t${a.id}`).join('\n') : `Team ${key} holds no role.`)));

  team.command('assign <team>').requiredOption('--tenant <tenant>').requiredOption('--role <role[@scope]>', roleOption)
    .description('Give a team a role (needs every permission the role carries, there)')
    .action((key, o) => run((rt, { actor }) => rt.accounts.teams.assign(o.tenant, key, parseRole(o.role), actor), (a) => `Assigned ${o.role} to team ${key} (${a.id}).`));

  team.command('unassign <team>').requiredOption('--tenant <tenant>').requiredOption('--role <role[@scope]>', roleOption)
    .description('Take a role away from a team')
    .action((key, o) => run((rt, { actor }) => rt.accounts.teams.unassign(o.tenant, key, parseRole(o.role), actor), () => `Team ${key} no longer holds ${o.role}.`));
}
