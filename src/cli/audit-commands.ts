// `caregate audit …`: verify a tenant's hash chain, search the log (`list`), export it streamed as
// JSON Lines or CSV (`export`, audited like the admin API's), and check an export offline
// (`verify-export`, which opens no database: a regulator runs it on the file alone).
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { AuditExportVerification, AuditPage } from '../audit/index.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { EXIT, reportError } from './report-error.ts';
import { processTerminal, type Terminal } from './terminal.ts';

function filterOptions(command: Command): Command {
  return command.requiredOption('--tenant <tenant>')
    .option('--actor <actor>', 'who acted: user id or username, application client id, or CLI operator')
    .option('--user <user>', 'the user the events are about: id or username')
    .option('--action <prefix>', 'actions starting with this, e.g. login. or user.password')
    .option('--outcome <outcome>', 'success or failure')
    .option('--application <clientId>', 'events about, by or naming this application')
    .option('--ip <address>', 'client address, exactly as recorded')
    .option('--since <time>', 'at or after (ISO 8601, e.g. 2026-01-31 or 2026-01-31T08:00:00Z)')
    .option('--until <time>', 'before (ISO 8601)');
}

function describeEvent(e: AuditPage['events'][number]): string {
  const target = e.targetId ? ` on ${e.targetType}:${e.targetId}` : '';
  return `${new Date(e.at).toISOString()}  ${e.outcome === 'failure' ? 'FAILED ' : ''}${e.action} by ${e.actorType}:${e.actorId ?? '-'}${target}${e.ip ? ` from ${e.ip}` : ''}`;
}

function describeVerification(r: AuditExportVerification): string {
  if (!r.ok) return `The export does not verify: ${r.failures.map((f) => `seq ${f.seq} ${f.reason}`).join(', ')}${r.failures.length === 20 ? ', …' : ''}.`;
  const shape = r.gaps ? `${r.gaps} gaps where events are not in the export (a filtered export)` : r.fromGenesis ? 'one unbroken chain from its first event' : 'one unbroken stretch of the chain';
  return `Export verified: ${r.events} events, every hash recomputed; ${r.linked} links, ${shape}${r.events ? ` (seq ${r.firstSeq} to ${r.lastSeq}; last hash ${r.lastHash})` : ''}.`;
}

/** Writes the export as it is read. The result line that follows adds a newline of its own, so the export's last one is held back. */
async function writeOut(terminal: Terminal, chunks: AsyncIterable<string>): Promise<void> {
  let held = '';
  for await (const chunk of chunks) {
    if (held) terminal.out(held);
    held = chunk;
  }
  terminal.out(held.replace(/\n$/, ''));
}

/** `verify-export` runs here, on the operator's file, never in a runtime: it prints as `run` would, and exits 3 when the export does not verify. */
async function verifyExportFile(file: string, json: boolean): Promise<void> {
  try {
    const source = createReadStream(file);
    await once(source, 'open').catch((error: NodeJS.ErrnoException) => {
      throw new ValidationError(`${file}: ${error.code ?? error.message}`);
    });
    const result = await (await import('../audit/index.ts')).verifyAuditExport(source);
    processTerminal.out(`${json ? JSON.stringify(result) : describeVerification(result)}\n`);
    if (!result.ok) process.exitCode = EXIT.checkFailed;
  } catch (error) {
    process.exitCode = reportError(processTerminal, error, json);
  }
}

/**
 * The audit log and the account schemas load when an audit command runs, not with every command
 * line: --help, --version and a command handed to a running server stay light (src/main.ts).
 */
async function auditModules() {
  const [audit, { parseInput }] = await Promise.all([import('../audit/index.ts'), import('../accounts/index.ts')]);
  return { ...audit, parseInput };
}

export function registerAuditCommands(program: Command, run: Run) {
  const audit = program.command('audit').description('Audit log: verify the chain, search, export, check an export');

  audit.command('verify').requiredOption('--tenant <tenant>').description('Check the hash chain of a tenant\'s audit log')
    .action((o) => run(async (rt) => {
      const tenant = await rt.accounts.tenants.findBySlug(o.tenant);
      if (!tenant) throw new NotFoundError(`tenant "${o.tenant}" does not exist`);
      const result = await rt.audit.verify(tenant.id);
      if (!result.ok) throw Object.assign(new Error(`audit chain broken at event ${result.brokenAt}`), { result });
      return result;
    }, (r) => `Audit chain intact: ${r.events} events.`));

  filterOptions(audit.command('list'))
    .option('--limit <n>', 'events per page (1-500)', '100')
    .option('--cursor <cursor>', 'the next page: the cursor the previous one ended with')
    .description('Search a tenant\'s audit log, newest first, a page at a time ({events, nextCursor} with --json)')
    .action(({ tenant, ...query }) => run(
      async (rt) => {
        const { createAuditLog, parseInput, auditListQuery } = await auditModules();
        return createAuditLog(rt).list(tenant, parseInput(auditListQuery, query));
      },
      (page: AuditPage) => [...page.events.map(describeEvent), ...(page.nextCursor ? [`More: --cursor ${page.nextCursor}`] : [])].join('\n') || 'No events match.',
    ));

  filterOptions(audit.command('export'))
    .option('--format <format>', 'jsonl (JSON Lines, the default) or csv')
    .option('--output <file>', 'write to this file (readable by you alone) instead of standard output')
    .description('Export the matching events, oldest first, with seq, prevHash and hash to verify offline; streamed, audited as audit.export')
    .action(({ tenant, output, ...query }, command: Command) => run(async (rt, { actor, terminal }) => {
      if (!output && command.optsWithGlobals().json) throw new ValidationError('--output is required with --json: without it, standard output carries the export itself');
      // Handed to a running embedded server over its socket, a file would be written by the server, wherever it runs.
      if (output && terminal !== processTerminal) throw new ValidationError('--output cannot be used while the embedded server runs: redirect standard output instead (caregate audit export … > FILE)');
      const { createAuditLog, parseInput, auditExportQuery } = await auditModules();
      const out = await createAuditLog(rt).export(tenant, parseInput(auditExportQuery, query), actor);
      if (!output) return writeOut(terminal, out.chunks);
      await pipeline(Readable.from(out.chunks, { objectMode: false }), createWriteStream(output, { mode: 0o600 }));
      return { file: output, format: out.format, events: out.events(), throughSeq: out.throughSeq };
    }, (r) => (r ? `Exported ${r.events} events (through seq ${r.throughSeq}) to ${r.file} as ${r.format}.` : '')));

  audit.command('verify-export <file>')
    .description('Check an export (JSON Lines or CSV) offline: recompute every hash, check the links between consecutive events; opens no database')
    .action((file: string, _o, command: Command) => verifyExportFile(file, Boolean(command.optsWithGlobals().json)));
}
