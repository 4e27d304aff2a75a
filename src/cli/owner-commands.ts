// `caregate owner show|transfer|backups|claim` and `caregate tenant profile-schema`: who owns a
// tenant, and the user types and profile attributes it declares, through the same services as the
// admin API. Only the owner (or the operator) transfers and names backups; a backup owner claims.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { collect, readOptionJson } from './options.ts';

const person = (p: { username: string; status: string } | null) => (p ? `${p.username} (${p.status})` : 'none');

export function registerOwnerCommands(program: Command, run: Run) {
  const owner = program.command('owner').description('Tenant ownership: the owner, backup owners, transfer and claim');

  owner.command('show').requiredOption('--tenant <tenant>').description("Show the tenant's owner and backup owners")
    .action((o) => run((rt) => rt.accounts.ownership.get(o.tenant), (r) => `owner: ${person(r.owner)}\nbackup owners: ${r.backups.map(person).join(', ') || 'none'}`));

  owner.command('transfer').requiredOption('--tenant <tenant>').requiredOption('--to <user>', 'an active person with tenant-wide admin (and 2FA where the policy requires it)')
    .description('Hand ownership to another administrator (run as the owner with --as, or as the operator)')
    .action((o) => run((rt, { actor }) => rt.accounts.ownership.transfer(o.tenant, o.to, actor), (r) => `${r.owner.username} now owns the tenant.`));

  owner.command('backups').requiredOption('--tenant <tenant>').option('--user <user>', 'a backup owner (repeatable; the list replaces the previous one)', collect, [])
    .option('--none', 'name no backup owners')
    .description('Name the backup owners, who may claim ownership when the owner can no longer sign in')
    .action((o) => run((rt, { actor }) => {
      if (Boolean(o.none) === Boolean(o.user.length)) throw new ValidationError('give --user (repeatable) or --none');
      return rt.accounts.ownership.setBackups(o.tenant, o.user, actor);
    }, (r) => `Backup owners: ${r.backups.map(person).join(', ') || 'none'}.`));

  owner.command('claim').requiredOption('--tenant <tenant>')
    .description("A backup owner takes ownership while the owner's account is not active (run with --as <backup owner>)")
    .action((o) => run((rt, { actor }) => rt.accounts.ownership.claim(o.tenant, actor), (r) => `${r.owner.username} now owns the tenant.`));

  const tenant = program.commands.find((c) => c.name() === 'tenant')!;
  tenant.command('profile-schema <slug>').option('--file <file>', 'replace it with this JSON document: {"userTypes": [...], "attributes": [{"key", "type", "claim"...}]}')
    .description('Show the user types and profile attributes users of the tenant carry, or replace them')
    .action((slug, o) => run(async (rt, { actor, terminal }) => {
      if (!o.file) return rt.accounts.tenants.profileSchema(slug);
      return rt.accounts.tenants.updateProfileSchema(slug, await readOptionJson(terminal, '--file', o.file), actor);
    }, (p) => JSON.stringify(p, null, 2)));
}
