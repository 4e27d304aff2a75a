// Where a command's output goes and where its input comes from. In the `caregate` process that is
// its own stdout, stderr, stdin and files; for a command a running server executes on the CLI's
// behalf, the CLI's, over the local socket — files are read and written where the operator typed their names.
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export interface Terminal {
  out(text: string): void;
  err(text: string): void;
  /** A file the command line names (relative to where the operator runs the command). */
  readFile(file: string): Promise<string>;
  /** Standard input, whole (a secret given with --…-stdin). */
  readStdin(): Promise<string>;
  /** Writes a file the command line names, where the operator runs the command; a new file is readable by them alone. */
  writeFile(file: string, text: string): Promise<void>;
  /** Standard error is a terminal: a progress bar may be drawn there. */
  readonly errIsTTY?: boolean;
}

export const processTerminal: Terminal = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  readFile: (file) => readFile(file, 'utf8'),
  readStdin: async () => readFileSync(0, 'utf8'),
  writeFile: (file, text) => writeFile(file, text, { mode: 0o600 }),
  get errIsTTY() {
    return Boolean(process.stderr.isTTY);
  },
};
