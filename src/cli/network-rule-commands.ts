// `caregate network-rule show|set-tenant|clear-tenant|set-role|clear-role`: the address ranges
// sign-in (tenant-wide) or a role (in tokens) is limited to, through the same service as the admin
// API. The operator at the server's terminal has no address, so setting the tenant-wide rule from
// here is never refused for leaving the caller outside: this is how a locked-out tenant is let in again.
import type { Command } from 'commander';
import type { Run } from './command-context.ts';
import { collect } from './options.ts';

const describeRule = (r: any) => `${r.ranges.join(' ')}${r.description ? `\t${r.description}` : ''}`;

const rangeOption = (cmd: Command) => cmd
  .requiredOption('--range <cidr>', 'an address range, IPv4 or IPv6 ("10.20.0.0/16", "2001:db8:5::/48"); a bare address is one host (repeatable)', collect)
  .option('--description <text>', 'what the ranges are, for the next administrator ("Main St clinic network")');

export function registerNetworkRuleCommands(program: Command, run: Run) {
  const rule = program.command('network-rule').description('Network rules: sign-in, or a role, only from these address ranges');

  rule.command('show').requiredOption('--tenant <tenant>').description("Show the tenant-wide rule and each role's")
    .action((o) => run((rt, { actor }) => rt.accounts.networkRules.list(o.tenant, actor), (r) => [
      `tenant-wide: ${r.tenant ? describeRule(r.tenant) : 'none (sign-in from anywhere)'}`,
      ...r.roles.map((x: any) => `role ${x.role}: ${describeRule(x)}`),
    ].join('\n')));

  rangeOption(rule.command('set-tenant').requiredOption('--tenant <tenant>'))
    .description('Allow sign-in and token refresh only from these ranges (replaces the rule)')
    .action((o) => run((rt, { actor }) => rt.accounts.networkRules.setTenantRule(o.tenant, { ranges: o.range, description: o.description }, actor),
      (r) => `Sign-in is allowed only from ${r.ranges.join(', ')}.`));

  rule.command('clear-tenant').requiredOption('--tenant <tenant>').description('Remove the tenant-wide rule: sign-in from anywhere again')
    .action((o) => run(async (rt, { actor }) => (await rt.accounts.networkRules.removeTenantRule(o.tenant, actor), { removed: 'tenant' }), () => 'Removed the tenant-wide network rule.'));

  rangeOption(rule.command('set-role <role>').requiredOption('--tenant <tenant>'))
    .description('Make a role require these ranges: tokens issued from elsewhere leave it out (replaces its rule)')
    .action((key, o) => run((rt, { actor }) => rt.accounts.networkRules.setRoleRule(o.tenant, key, { ranges: o.range, description: o.description }, actor),
      (r) => `Role ${r.role} is carried only in tokens issued from ${r.ranges.join(', ')}.`));

  rule.command('clear-role <role>').requiredOption('--tenant <tenant>').description('Let a role be used from anywhere again')
    .action((key, o) => run(async (rt, { actor }) => (await rt.accounts.networkRules.removeRoleRule(o.tenant, key, actor), { removed: key }), () => `Role ${key} is no longer limited to a network.`));
}
