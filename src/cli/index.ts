// The command line. Parsing a command and handing it to a running server load at once; running it
// here, or serving commands from inside the server, needs the runtime's services (accounts above
// all), so those load on first use and `--help`, `--version` or a forwarded command never pay for them.
export { buildProgram } from './build-program.ts';
export { forwardToServer } from './forward-to-server.ts';
export { reportError, wantsJson } from './report-error.ts';
export { processTerminal } from './terminal.ts';
export type { Job } from './run-command.ts';
export type { CliListener } from './cli-socket-server.ts';

export const loadRunCommand = async () => (await import('./run-command.ts')).runCommand;
export const loadCliListener = async () => (await import('./cli-socket-server.ts')).listenForCli;
