// The `caregate` command line. A command runs against the store directly — PostgreSQL, or the
// embedded database when no server holds it — or, when a running embedded server holds the data
// directory, inside that server over its local socket (src/cli/forward-to-server.ts). The runtime
// and the HTTP server are imported only on the path that needs them: --help, --version, a usage
// error or a command handed to the server never load them, so they answer at once.
import type { Command } from 'commander';
import { buildProgram, forwardToServer, loadRunCommand, processTerminal as terminal, reportError, wantsJson, type Job } from './cli/index.ts';
import { relaunchWithV8Flags } from './v8-flags.ts';

const argv = process.argv.slice(2);
const json = wantsJson(argv);
const operator = process.env.USER ?? 'cli';
// With --json, stderr carries one JSON error or nothing: a library's deprecation notice (pg's, say)
// must not break that. People still see them.
if (json) process.noDeprecation = true;

const loadConfig = async () => (await import('./config/index.ts')).loadConfig();

async function openRuntime(options: { migrate: boolean; logLevel: 'warn' | 'error' }) {
  const config = await loadConfig();
  // Before the store opens: on the embedded store the process executes itself again with the V8
  // flags Caregate runs with (the baseline WebAssembly compiler alone, a smaller young generation:
  // src/v8-flags.ts).
  relaunchWithV8Flags(config, { serving: false });
  const [{ openRuntime: open }, { createLogger }] = await Promise.all([import('./runtime.ts'), import('./logger.ts')]);
  return open(config, { migrate: options.migrate, log: createLogger(options.logLevel) });
}

/** A command's work: inside the running embedded server if there is one, else here. */
async function execute(job: Job): Promise<void> {
  const config = await loadConfig();
  const forwarded = config.databaseUrl ? undefined : await forwardToServer(config.dataDir, argv, terminal, operator);
  if (forwarded !== undefined) {
    process.exitCode = forwarded;
    return;
  }
  const [rt, runCommand] = await Promise.all([openRuntime({ migrate: config.migrateOnStart, logLevel: json ? 'error' : 'warn' }), loadRunCommand()]);
  try {
    process.exitCode = await runCommand(rt, job, { terminal, operator, json });
  } finally {
    await rt.close();
  }
}

function processCommands(program: Command): void {
  program.command('serve').description('Start the server (the default for `npm start`)').action(async () => {
    try {
      const config = await loadConfig();
      // bin/caregate.js has relaunched already unless options came before `serve`.
      relaunchWithV8Flags(config, { serving: true });
      const { startServer } = await import('./server.ts');
      const running = await startServer(config);
      const stop = () => running.close().then(() => process.exit(0));
      process.once('SIGTERM', stop).once('SIGINT', stop);
    } catch (error) {
      // What start-up opened before it failed (the database, Redis) would keep the process alive.
      process.exit(reportError(terminal, error, json));
    }
  });

  program.command('migrate').description('Apply pending database migrations').action(async () => {
    const rt = await openRuntime({ migrate: true, logLevel: 'error' });
    await rt.close();
    terminal.out(`${json ? JSON.stringify({ migrated: true }) : 'Database schema is up to date.'}\n`);
  });
}

try {
  await buildProgram({ terminal, json, execute, processCommands }).parseAsync(argv, { from: 'user' });
} catch (error) {
  process.exitCode = reportError(terminal, error, json);
}
