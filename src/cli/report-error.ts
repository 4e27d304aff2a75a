// How a failed command line ends: one error on stderr — `caregate: message` for people, one JSON
// document `{"error", "error_description"}` with --json, usage errors included — and the documented
// exit code (docs/cli.md).
import { CommanderError } from 'commander';
import { CaregateError } from '../errors.ts';
import type { Terminal } from './terminal.ts';

export const EXIT = { ok: 0, failed: 1, invalid: 2, checkFailed: 3, notFound: 4, conflict: 5, refused: 6 } as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
  const status = error instanceof CaregateError ? error.status : 500;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.refused;
  if (status >= 400 && status < 500) return EXIT.invalid;
  return EXIT.failed;
}

/** commander's own wording, without its "error: " prefix; its bare help (a command group without a subcommand) named as what is missing. */
function usageMessage(error: CommanderError): string {
  if (error.code === 'commander.help') return 'a command is required: see caregate --help';
  return error.message.replace(/^error: /, '');
}

/** Prints `error` as the command line's failure and returns its exit code (0 for --help and --version, which are not failures). */
export function reportError(terminal: Terminal, error: unknown, json: boolean): number {
  const exitCode = exitCodeFor(error);
  if (error instanceof CommanderError) {
    // For people commander has already printed the message (and the help); in JSON mode it printed nothing.
    if (json && exitCode !== EXIT.ok) terminal.err(`${JSON.stringify({ error: 'invalid_usage', error_description: usageMessage(error) })}\n`);
    return exitCode;
  }
  const code = error instanceof CaregateError ? error.code : 'error';
  const message = (error as Error).message;
  const details = error instanceof CaregateError && error.details ? { details: error.details } : {};
  terminal.err(json ? `${JSON.stringify({ error: code, error_description: message, ...details })}\n` : `caregate: ${message}\n`);
  return exitCode;
}

/** --json anywhere before `--`: known before commander has parsed anything, so even a usage error answers in JSON. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
