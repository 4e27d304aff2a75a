// The `caregate` command line. With --json every command prints one JSON document on stdout;
// errors go to stderr and the exit code is non-zero.
import { Command } from 'commander';
import { loadConfig } from './config/index.ts';
import { CaregateError } from './errors.ts';
import { createLogger } from './logger.ts';
import { openRuntime } from './runtime.ts';
import { startServer } from './server.ts';
import { registerCommands, type Run } from './cli/commands.ts';

const program = new Command('caregate')
  .description('Caregate — identity provider and single sign-on for healthcare organisations')
  .option('--json', 'print one JSON document on stdout (for scripts)')
  .showHelpAfterError();

function fail(error: unknown): never {
  const json = program.opts().json;
  const status = error instanceof CaregateError ? error.status : 1;
  const code = error instanceof CaregateError ? error.code : 'error';
  const message = (error as Error).message;
  if (json) process.stderr.write(JSON.stringify({ error: code, error_description: message, ...(error instanceof CaregateError && error.details ? { details: error.details } : {}) }) + '\n');
  else process.stderr.write(`caregate: ${message}\n`);
  process.exit(status === 404 ? 4 : status === 409 ? 5 : status >= 400 && status < 500 ? 2 : 1);
}

const run: Run = async (work, human) => {
  try {
    const config = loadConfig();
    const rt = await openRuntime(config, { migrate: config.migrateOnStart, log: createLogger(program.opts().json ? 'error' : 'warn') });
    try {
      const result = await work(rt);
      process.stdout.write((program.opts().json || !human ? JSON.stringify(result, null, program.opts().json ? 0 : 2) : human(result)) + '\n');
    } finally {
      await rt.close();
    }
  } catch (error) {
    fail(error);
  }
};

program.command('serve').description('Start the server (the default for `npm start`)').action(async () => {
  try {
    const running = await startServer(loadConfig());
    const stop = () => running.close().then(() => process.exit(0));
    process.once('SIGTERM', stop).once('SIGINT', stop);
  } catch (error) {
    fail(error);
  }
});

program.command('migrate').description('Apply pending database migrations').action(async () => {
  try {
    const config = loadConfig();
    const rt = await openRuntime(config, { migrate: true, log: createLogger('error') });
    await rt.close();
    process.stdout.write((program.opts().json ? JSON.stringify({ migrated: true }) : 'Database schema is up to date.') + '\n');
  } catch (error) {
    fail(error);
  }
});

registerCommands(program, run);
await program.parseAsync(process.argv);
