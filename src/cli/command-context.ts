// What a command's work receives besides the runtime, and the `run` every command definition calls.
import type { Actor } from '../accounts/index.ts';
import type { Runtime } from '../runtime.ts';
import type { Terminal } from './terminal.ts';

export interface CommandContext {
  /** Who acts: the operator (actor `cli`), or with --as the user whose rights apply. */
  actor: Actor;
  terminal: Terminal;
  /** --json: the result (and any progress) is printed as JSON lines. */
  json: boolean;
  /** Exit non-zero although the result is printed (a failed check, a refused sync). */
  exitWith(code: number): void;
}

export type Work = (rt: Runtime, cx: CommandContext) => Promise<unknown>;

/** Runs a command's work and prints its result: JSON with --json, else `human(result)`. */
export type Run = (work: Work, human?: (result: any) => string) => Promise<void>;
