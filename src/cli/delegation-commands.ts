// `caregate delegation list|create|end`: delegations ("Acting Manager") as an administrator manages
// them, through the same service as the admin API — the administrator must be able to grant the
// role there themselves, and a delegation never outlives the assignment it passes on. People
// delegate their own roles from the account page.
import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Actor } from '../accounts/index.ts';
import type { Runtime } from '../runtime.ts';
import type { Run } from './command-context.ts';
import { collect, requireId } from './options.ts';
import { parseRole } from './parse-role.ts';

const ADMIN = { as: 'admin' } as const;

/** One delegation for people: who passes what to whom, until when. */
const describeDelegation = (d: any) =>
  `${d.id}\t${d.status}\t${d.delegator.username} -> ${d.delegate.username}\t${d.role}${d.scope.type === 'tenant' ? '' : `@${d.scope.type}`}${d.permissions ? ` (${d.permissions.join(' ')})` : ''}\tuntil ${new Date(d.expiresAt).toISOString()}`;

/**
 * The assignment passed on: named by id, or as the person's role where they hold it (`--from alice
 * --role manager@location:north`), which reads the person as `user show` does (caregate.users:read there).
 */
async function sourceAssignment(rt: Runtime, o: Record<string, any>, actor: Actor): Promise<string> {
  if (o.assignment) {
    if (o.from || o.role) throw new ValidationError('--assignment names the assignment already: leave out --from and --role');
    return requireId('--assignment', o.assignment);
  }
  if (!o.from || !o.role) throw new ValidationError('name the assignment passed on: --assignment ID, or --from USER --role ROLE[@scope]');
  const wanted = parseRole(o.role);
  const where = (s: { type: string; key?: string | null; clientId?: string }) => `${s.type}:${s.key ?? s.clientId ?? ''}`;
  const person = await rt.accounts.users.get(o.tenant, o.from, actor);
  const held = person.assignments.filter((a) => a.origin !== 'delegation' && a.role === wanted.role && where(a.scope as never) === where(wanted.scope as never));
  if (!held.length) throw new NotFoundError(`"${o.from}" holds no role ${o.role} to delegate`);
  return held[0]!.id;
}

export function registerDelegationCommands(program: Command, run: Run) {
  const delegation = program.command('delegation').description('Delegations: a person\'s role passed to a colleague until a date');

  delegation.command('list').requiredOption('--tenant <tenant>').option('--ended', 'include delegations that have ended')
    .description('List delegations running or scheduled at the scopes you read')
    .action((o) => run((rt, { actor }) => rt.accounts.delegations.list(o.tenant, actor, { includeEnded: Boolean(o.ended) }),
      (ds) => (ds.length ? ds.map(describeDelegation).join('\n') : 'No delegations.')));

  delegation.command('create').requiredOption('--tenant <tenant>')
    .option('--assignment <id>', "the delegator's assignment to pass on (its id, as user show --json lists it)")
    .option('--from <user>', 'the delegator (with --role, instead of --assignment)')
    .option('--role <role[@scope]>', "the delegator's role, and where they hold it: ROLE, or ROLE@location:KEY, ROLE@institution:KEY, ROLE@application:CLIENT_ID")
    .requiredOption('--delegate <user>', 'the colleague who acts for the delegator')
    .requiredOption('--expires <date>', "when it ends by itself (ISO 8601; no later than the delegator's assignment ends)")
    .option('--starts <date>', 'when it starts (default: now)')
    .option('--permission <perm>', "only these of the role's permissions (repeatable; default: the whole role)", collect, [])
    .option('--reason <text>', 'why, for the audit log')
    .description("Pass a person's role assignment (or some of its permissions) to a colleague until a date (you must be able to grant the role there)")
    .action((o) => run(async (rt, { actor }) => {
      // The service parses its input strictly but not into a ValidationError: checked here, so bad input exits 2.
      const { parseInput, delegationInput } = await import('../accounts/index.ts');
      const input = parseInput(delegationInput, {
        assignment: await sourceAssignment(rt, o, actor), delegate: o.delegate, startsAt: o.starts, expiresAt: o.expires,
        permissions: o.permission.length ? o.permission : undefined, reason: o.reason,
      });
      return rt.accounts.delegations.create(o.tenant, input, actor, ADMIN);
    }, (d) => `Delegated ${d.role} from ${d.delegator.username} to ${d.delegate.username} until ${new Date(d.expiresAt).toISOString()} (${d.id}).`));

  delegation.command('end <id>').requiredOption('--tenant <tenant>').description('End a delegation now (it stays listed as ended)')
    .action((id, o) => run(async (rt, { actor }) => (await rt.accounts.delegations.end(o.tenant, requireId('delegation', id), actor, ADMIN), { ended: id }), () => `Ended delegation ${id}.`));
}
