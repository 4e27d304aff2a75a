// The `caregate` command tree, built afresh for each command line — in the CLI process, and in a
// running server for a command line the CLI hands it — with commander's output going to a Terminal
// and its exits thrown (never process.exit, which would end the server), so that a usage error too
// ends in reportError: one JSON document with --json, and exit code 2.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.ts';
import type { Job } from './run-command.ts';
import type { Terminal } from './terminal.ts';

export interface ProgramOptions {
  terminal: Terminal;
  /** --json, read from the raw arguments (src/cli/report-error.ts wantsJson) so it holds before parsing. */
  json: boolean;
  /** Where a parsed command's work runs. */
  execute(job: Job): Promise<void>;
  /** Commands of the `caregate` process only (serve, migrate), listed first. */
  processCommands?(program: Command): void;
}

const version = () => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export function buildProgram({ terminal, json, execute, processCommands }: ProgramOptions): Command {
  const program = new Command('caregate')
    .description('Caregate — identity provider and single sign-on for healthcare organisations')
    .option('--json', 'print one JSON document on stdout (for scripts); errors as one JSON document on stderr')
    .option('--as <user>', "act with this user's rights (username or id in the command's tenant) instead of the operator's")
    .option('-V, --version', 'print the Caregate version')
    // Set before any subcommand exists: commander copies these settings into each one as it is added.
    .configureOutput({ writeOut: (text) => terminal.out(text), writeErr: (text) => (json ? undefined : terminal.err(text)) })
    .exitOverride()
    .showHelpAfterError();
  program.on('option:version', () => {
    const v = version();
    terminal.out(json ? `${JSON.stringify({ version: v })}\n` : `${v}\n`);
    throw new CommanderError(0, 'commander.version', v);
  });

  // commander tells which command is about to run; its action then hands `run` the work.
  let current: Command | undefined;
  program.hook('preAction', (_program, action) => {
    current = action;
  });
  processCommands?.(program);
  registerCommands(program, (work, human) => execute({ command: current!, work, human }));
  return program;
}
