// One command's work against a runtime — the CLI's own, or the running server's for a command line
// handed over its socket: who acts, the work, what it prints, and the exit code it ends with.
import type { Command } from 'commander';
import type { Actor } from '../accounts/index.ts';
import { AdminRefusalError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { Work } from './command-context.ts';
import { commandPath } from './command-permissions.ts';
import { reportError } from './report-error.ts';
import { resolveActor } from './resolve-actor.ts';
import type { Terminal } from './terminal.ts';

/** A parsed command line: the command commander chose, and the work its definition gave `run`. */
export interface Job {
  command: Command;
  work: Work;
  human?: (result: any) => string;
}

export interface Invocation {
  terminal: Terminal;
  /** The operator's login name, the `cli` actor's id in the audit log. */
  operator: string;
  json: boolean;
}

export async function runCommand(rt: Runtime, job: Job, { terminal, operator, json }: Invocation): Promise<number> {
  let actor: Actor | undefined;
  try {
    actor = await resolveActor(rt, job.command, operator);
    let exitCode = 0;
    const result = await job.work(rt, { actor, terminal, json, exitWith: (code) => (exitCode = code) });
    terminal.out(`${json || !job.human ? JSON.stringify(result, null, json ? 0 : 2) : job.human(result)}\n`);
    return exitCode;
  } catch (error) {
    // As the admin API does: a user's change refused by who-may-change-what is audited once its transaction has rolled back.
    if (error instanceof AdminRefusalError && actor?.type === 'user') {
      const tenant = await rt.storage.tenants.findOneBy({ slug: job.command.opts().tenant ?? job.command.args[0] ?? '' }).catch(() => null);
      await rt.audit.record({
        tenantId: tenant?.id ?? null, actor, action: 'admin.forbidden', outcome: 'failure',
        details: { ...error.details, code: error.code, message: error.message, command: `caregate ${commandPath(job.command)}` },
      }).catch((auditError: Error) => rt.log.warn('could not audit a refused command', { error: auditError.message }));
    }
    return reportError(terminal, error, json);
  }
}
