// Who a command acts as. Without --as, the operator at the server's terminal (actor `cli`, trusted
// like the admin API's owner). With `--as <user>`, that user, checked the way the admin API checks a
// token's holder: active, holding the command's permission where it must (src/cli/command-permissions.ts);
// the account services then apply the no-escalation rule to them (src/accounts/grant-guard.ts).
import type { Command } from 'commander';
import { loadAuthority, type Actor } from '../accounts/index.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { commandPath, OPERATOR_ONLY, requirementOf } from './command-permissions.ts';

export async function resolveActor(rt: Runtime, command: Command, operator: string): Promise<Actor> {
  const as: string | undefined = command.optsWithGlobals().as;
  if (as === undefined) return { type: 'cli', id: operator };
  const path = commandPath(command);
  const requirement = requirementOf(command);
  if (requirement === OPERATOR_ONLY) throw new ForbiddenError(`caregate ${path} runs only as the operator: it takes no --as`, { reason: 'operator_only' });

  const slug: string | undefined = requirement.tenantArgument ? command.args[0] : command.opts().tenant;
  if (!slug) throw new ValidationError('--as needs --tenant: the user is looked up in that tenant');
  const tenant = await rt.storage.tenants.findOneBy({ slug });
  if (!tenant) throw new NotFoundError(`tenant "${slug}" does not exist`);
  const user = await rt.accounts.users.findUser(slug, as).catch((error: unknown) => {
    throw error instanceof NotFoundError ? new NotFoundError(`--as: user "${as}" does not exist in tenant "${slug}"`) : error;
  });
  const actor: Actor = { type: 'user', id: user.id, ip: null };
  const permission = typeof requirement.permission === 'function' ? requirement.permission(command.opts()) : requirement.permission;

  const authority = await loadAuthority(rt.storage, tenant, actor);
  const reach = authority.snapshot ? authority.reach(permission) : [];
  if (!reach.length || (!requirement.scoped && !authority.tenantWide(permission))) {
    const reason = !authority.snapshot ? 'inactive' : reach.length ? 'out_of_scope' : 'missing_permission';
    await rt.audit.record({ tenantId: tenant.id, actor, action: 'admin.forbidden', outcome: 'failure', details: { permission, command: `caregate ${path}`, reason } });
    throw new ForbiddenError(
      reason === 'inactive' ? `"${user.username}" is not an active user: only someone who may sign in may act`
        : reason === 'out_of_scope' ? `"${user.username}" holds "${permission}" only at some locations, institutions or applications; caregate ${path} needs it tenant-wide`
          : `"${user.username}" lacks the "${permission}" permission that caregate ${path} needs`,
      { reason, permission },
    );
  }
  return actor;
}
