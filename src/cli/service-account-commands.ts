// `caregate service-account create|list|delete` and `caregate api-key issue|list|rotate|revoke`:
// accounts for integrations and their keys, through the same services as the admin API (the
// no-escalation rule on what a key carries, the tenant's longest key life, audit without the secret).
// A key's value is printed once — in the JSON with --json — and never again.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { collect, wholeNumber } from './options.ts';

/** One key for people: id, name, state, account, owner, end, and what it carries. */
const describeKey = (k: any) => `${k.id}\t${k.name}\t${k.state}\t${k.account ?? ''}\towner ${k.owner ?? '-'}\tends ${new Date(k.expiresAt).toISOString()}\t${k.permissions.join(' ')}`;

/** The new key's value, said once. */
const shownOnce = (k: any) => `API key ${k.id} for ${k.account}: ${k.key}  (shown once; store it now)`;

export function registerServiceAccountCommands(program: Command, run: Run) {
  const account = program.command('service-account').description('Service accounts for integrations (scripts, interface engines); give them roles with user assign, then API keys');

  account.command('create').requiredOption('--tenant <tenant>').requiredOption('--username <username>', 'lowercase letters, digits, ".", "-" or "_"').option('--name <name>', 'display name')
    .description('Create a service account (it never signs in; it authenticates with API keys)')
    .action((o) => run((rt, { actor }) => rt.accounts.serviceAccounts.create(o.tenant, { username: o.username, displayName: o.name }, actor),
      (a) => `Created service account ${a.username} (${a.id}). Give it roles with: caregate user assign ${a.username} --tenant ${o.tenant} --role ROLE`));

  account.command('list').requiredOption('--tenant <tenant>').description("List the tenant's service accounts (not applications') with how many keys work now")
    .action((o) => run((rt) => rt.accounts.serviceAccounts.list(o.tenant),
      (as) => (as.length ? as.map((a: any) => `${a.username}\t${a.status}\t${a.activeKeys} active key(s)\t${a.id}`).join('\n') : 'No service accounts: create one with caregate service-account create.')));

  account.command('delete <account>').requiredOption('--tenant <tenant>').description('Delete a service account, its keys and its roles')
    .action((ref, o) => run(async (rt, { actor }) => (await rt.accounts.serviceAccounts.remove(o.tenant, ref, actor), { deleted: ref }), () => `Deleted service account ${ref}, its keys and its roles.`));

  const key = program.command('api-key').description("API keys of service accounts: a subset of the account's permissions, until a date");

  key.command('issue <account>').requiredOption('--tenant <tenant>').requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--permission <perm>', 'a permission it carries, one the account holds and so do you (repeatable)', collect)
    .requiredOption('--expires <date>', "when it stops working (ISO 8601; at most the tenant's apiKeys.maxLifetimeDays ahead)")
    .option('--owner <user>', 'the person responsible for the key (default: the --as user; the operator must name one)')
    .option('--rate-limit <n>', "requests per minute (default: the tenant's apiKeys.defaultRateLimitPerMinute)", wholeNumber('--rate-limit'))
    .description('Issue an API key for a service account; its value is printed once')
    .action((ref, o) => run((rt, { actor }) => {
      if (!o.owner && actor.type !== 'user') throw new ValidationError('--owner: name the person responsible for this key (a username)');
      return rt.accounts.apiKeys.create(o.tenant, ref, { name: o.name, permissions: o.permission, expiresAt: o.expires, owner: o.owner, rateLimitPerMinute: o.rateLimit }, actor);
    }, shownOnce));

  key.command('list').requiredOption('--tenant <tenant>').option('--account <account>', "one service account's keys").option('--owner <user>', 'keys this person is responsible for')
    .description('List API keys with their state, owner and end (never their values; --json adds last use and uses per day)')
    .action((o) => run((rt) => rt.accounts.apiKeys.list(o.tenant, { account: o.account, owner: o.owner }),
      (ks) => (ks.length ? ks.map(describeKey).join('\n') : 'No API keys.')));

  key.command('rotate <id>').requiredOption('--tenant <tenant>').requiredOption('--expires <date>', 'when the new key stops working (ISO 8601)')
    .option('--overlap-minutes <n>', 'minutes the old key keeps working (default 60, at most 10080; 0 stops it at once)', wholeNumber('--overlap-minutes'))
    .description('Issue a new value carrying the same permissions, printed once; the old one keeps working a while')
    .action((id, o) => run((rt, { actor }) => rt.accounts.apiKeys.rotate(o.tenant, id, { expiresAt: o.expires, overlapMinutes: o.overlapMinutes }, actor),
      (k) => `${shownOnce(k)}\nThe previous key ${k.previous.id} works until ${new Date(k.previous.expiresAt).toISOString()}.`));

  key.command('revoke <id>').requiredOption('--tenant <tenant>').description('Revoke a key now: the next request with it is refused')
    .action((id, o) => run(async (rt, { actor }) => (await rt.accounts.apiKeys.revoke(o.tenant, id, actor), { revoked: id }), () => `Revoked API key ${id}.`));
}
