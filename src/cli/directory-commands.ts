// `caregate directory …`: LDAP / Active Directory sources from the command line — create (with a
// preset), change, map groups to roles, list, show, delete, `test` against the live directory —
// and `directory sync`, the job a scheduler (or a person) runs: exit 0 with a summary, else the reason.
import type { Command } from 'commander';
import type { DiffLine, SyncSummary } from '../directory/index.ts';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { parseMapRule } from './connection-commands.ts';
import type { Terminal } from './terminal.ts';
import { collect, readOptionFile, readOptionJson } from './options.ts';
import { syncProgressReporter } from './sync-progress.ts';

/**
 * A number option that is not one is refused when the command runs: thrown from the parser, the
 * error would escape commander as a stack trace (exit 1) instead of the JSON error and exit 2.
 */
class BadNumber {
  readonly error: ValidationError;
  constructor(error: ValidationError) {
    this.error = error;
  }
}
const int = (name: string) => (value: string): number | BadNumber =>
  /^\d+$/.test(value) ? Number(value) : new BadNumber(new ValidationError(`${name}: expected a whole number, got "${value}"`));
function checkNumbers(o: Record<string, unknown>): void {
  for (const value of Object.values(o)) if (value instanceof BadNumber) throw value.error;
}


/** `--attribute email=userPrincipalName` pairs into the attribute mapping. */
function attributes(pairs: string[]): Record<string, string> | undefined {
  if (!pairs.length) return undefined;
  return Object.fromEntries(pairs.map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new ValidationError(`--attribute ${pair}: expected field=attribute, e.g. email=userPrincipalName`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
}

async function sourceOptions(o: Record<string, any>, terminal: Terminal): Promise<Record<string, unknown>> {
  checkNumbers(o);
  const password = o.bindPasswordStdin ? (await terminal.readStdin()).replace(/\r?\n$/, '') : o.bindPassword;
  const fromFile = o.settings ? ((await readOptionJson(terminal, '--settings', o.settings)) as Record<string, unknown>) : {};
  return {
    ...fromFile,
    name: o.name, preset: o.preset, urls: o.url?.length ? o.url : undefined, caCertificates: o.caFile ? await readOptionFile(terminal, '--ca-file', o.caFile) : undefined,
    bindDn: o.bindDn, bindPassword: password, baseDn: o.baseDn, groupBaseDn: o.groupBaseDn, userFilter: o.userFilter, groupFilter: o.groupFilter,
    groupMembership: o.groupMembership, nestedGroups: o.nestedGroups, attributes: attributes(o.attribute ?? []),
    syncIntervalMinutes: o.syncInterval, fullSyncHours: o.fullSyncHours, disableThresholdPercent: o.disableThresholdPercent, disableThresholdMinimum: o.disableThresholdMinimum,
    bindAuth: o.bindAuth === false ? false : undefined, jit: o.jit === false ? false : undefined, linkByEmail: o.linkByEmail,
    enabled: o.disable ? false : o.enable ? true : undefined,
    mappings: o.map?.length ? o.map.map(parseMapRule) : o.mappings ? await readOptionJson(terminal, '--mappings', o.mappings) : undefined,
  };
}

const options = (cmd: Command) => cmd
  .option('--name <name>', 'display name (default: the key)')
  .option('--preset <preset>', 'active-directory or openldap')
  .option('--url <url>', 'ldaps://host[:port], or ldap://host[:port] (StartTLS); repeat for failover, in order', collect, [])
  .option('--ca-file <file>', "PEM file of the CA that signed the servers' certificates")
  .option('--bind-dn <dn>', 'the service account').option('--bind-password <password>', 'the service account password (visible in the process list: prefer --bind-password-stdin)').option('--bind-password-stdin', 'read the service account password from standard input')
  .option('--base-dn <dn>', 'where users are searched').option('--group-base-dn <dn>', 'where groups are searched (default: --base-dn)')
  .option('--user-filter <filter>').option('--group-filter <filter>')
  .option('--group-membership <how>', 'memberOf or member')
  .option('--nested-groups', 'count membership through nested groups').option('--no-nested-groups')
  .option('--attribute <field=name>', 'directory attribute for a profile field, e.g. employeeId=employeeNumber (repeatable)', collect, [])
  .option('--sync-interval <minutes>', 'minutes between scheduled runs (0: only when asked)', int('--sync-interval'))
  .option('--full-sync-hours <hours>', 'hours between full runs', int('--full-sync-hours'))
  .option('--disable-threshold-percent <n>', "stop a run that would disable more than this % of the source's users", int('--disable-threshold-percent'))
  .option('--disable-threshold-minimum <n>', '…unless it disables at most this many', int('--disable-threshold-minimum'))
  .option('--no-bind-auth', 'its users may not sign in with their directory password')
  .option('--no-jit', 'do not create users at their first directory sign-in (only syncs create them)')
  .option('--link-by-email', 'link an entry to an existing account with the same email')
  .option('--map <rule>', 'mapping rule "groups=<name> -> role:KEY[@scope] | team:KEY | phi" (repeatable, in order)', collect, [])
  .option('--mappings <file>', 'mapping rules as a JSON array')
  .option('--settings <file>', 'any settings as a JSON object (flags override it)');

function describeSource(s: any): string {
  const last = s.lastRun ? `last run ${s.lastRun.status} (${s.lastRun.mode}, ${new Date(s.lastRun.startedAt).toISOString()})` : 'never synced';
  return `Directory source ${s.key} (${s.preset})${s.enabled ? '' : ' — disabled'}: ${s.urls.join(', ')}; users under ${s.baseDn}; ${last}`;
}

function describeChange(line: DiffLine): string {
  const who = line.username ?? line.subject;
  const what = line.events
    .filter((e) => e.action !== 'user.create' && e.action !== 'user.disable' && e.action !== 'user.enable')
    .map((e) => {
      const after = e.after as Record<string, unknown> | null | undefined;
      if (e.action === 'assignment.create') return `+role ${after?.role}`;
      if (e.action === 'assignment.delete') return `-role ${(e.before as Record<string, unknown>)?.role}`;
      if (e.action === 'team.member.add') return `+team ${after?.team}`;
      if (e.action === 'team.member.remove') return '-team';
      return `${e.action} ${JSON.stringify(after)}`;
    });
  const mark = { create: '+', update: '~', disable: '-', reenable: '^' }[line.change];
  return `  ${mark} ${line.change.padEnd(8)} ${who}${line.reason ? ` (${line.reason.replace(/_/g, ' ')})` : ''}${what.length ? `: ${what.join(', ')}` : ''}`;
}

export function describeSummary(s: SyncSummary): string {
  const head = s.status === 'succeeded'
    ? `${s.dryRun ? 'Dry run of' : 'Synced'} ${s.tenant}/${s.source} (${s.mode}${s.escalated ? `: ${s.escalated}` : ''}) in ${(s.durationMs / 1000).toFixed(1)} s`
    : `Sync of ${s.tenant}/${s.source} ${s.status}: ${s.message}`;
  const counts = `created ${s.created}, updated ${s.updated}, disabled ${s.disabled}, re-enabled ${s.reenabled}, unchanged ${s.unchanged}, errors ${s.errors} (${s.entries} entries, ${s.groups} groups)`;
  const errors = s.errorList.slice(0, 20).map((e) => `  ! ${e.dn ?? e.subject}: ${e.reason} — ${e.detail}`);
  const diff = s.diff?.map(describeChange) ?? [];
  return [head, counts, ...(s.dryRun ? [diff.length ? 'Would change:' : 'Nothing would change.', ...diff] : []), ...errors].join('\n');
}

export function registerDirectoryCommands(program: Command, run: Run) {
  const directory = program.command('directory').description('LDAP / Active Directory sources: sync staff, map groups to roles, directory-password sign-in');
  const source = directory.command('source').description('Manage directory sources');

  options(source.command('create').requiredOption('--tenant <tenant>').requiredOption('--key <key>'))
    .description('Create a directory source; run `directory test` next')
    .action((o) => run(async (rt, { actor, terminal }) => rt.ldap.sources.create(o.tenant, { key: o.key, ...(await sourceOptions(o, terminal)), name: o.name ?? o.key }, actor), describeSource));

  options(source.command('update <key>').requiredOption('--tenant <tenant>'))
    .option('--enable').option('--disable')
    .description('Change settings of a source (--map/--mappings replace all its rules)')
    .action((key, o) => run(async (rt, { actor, terminal }) => rt.ldap.sources.update(o.tenant, key, await sourceOptions(o, terminal), actor), describeSource));

  source.command('list').requiredOption('--tenant <tenant>').description('List directory sources with their last run')
    .action((o) => run((rt) => rt.ldap.sources.list(o.tenant), (ss) => ss.map((s: any) => `${s.key}\t${s.preset}\t${s.enabled ? 'enabled' : 'disabled'}\t${s.lastRun ? `${s.lastRun.status} ${new Date(s.lastRun.startedAt).toISOString()}` : 'never synced'}`).join('\n')));
  source.command('show <key>').requiredOption('--tenant <tenant>').description('Show a source (never its password)')
    .action((key, o) => run((rt) => rt.ldap.sources.get(o.tenant, key), (s) => JSON.stringify(s, null, 2)));
  source.command('delete <key>').requiredOption('--tenant <tenant>').description('Delete a source and what its mappings granted (its users stay)')
    .action((key, o) => run(async (rt, { actor }) => (await rt.ldap.sources.remove(o.tenant, key, actor), { deleted: key }), () => `Deleted directory source ${key}.`));

  directory.command('test <key>').requiredOption('--tenant <tenant>').description('Check a source against the live directory; exits non-zero when a check fails')
    .action((key, o) => run(async (rt, { exitWith }) => {
      const result = await rt.ldap.test(o.tenant, key);
      if (!result.ok) exitWith(3);
      return result;
    }, (r) => r.findings.map((f: any) => `${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}: ${f.detail}`).join('\n')));

  directory.command('sync').requiredOption('--tenant <tenant>').requiredOption('--source <key>')
    .option('--full', 'search everything (default: what changed since the last run)')
    .option('--dry-run', 'print what would change, change nothing')
    .option('--allow-disables <n>', 'allow this many disables in this run, whatever the threshold', int('--allow-disables'))
    .description('Sync a source now, with a progress bar on a terminal (--json: a JSON line per step, the summary last); exit 0 with a summary, 3 when a safety check refused the run, 1 when it failed, 5 while another run holds the lock')
    .action((o) => run(async (rt, { actor, terminal, json, exitWith }) => {
      checkNumbers(o);
      const progress = syncProgressReporter(terminal, json);
      let summary: SyncSummary;
      try {
        summary = await rt.ldap.sync(o.tenant, o.source, { full: Boolean(o.full), dryRun: Boolean(o.dryRun), allowDisables: o.allowDisables, trigger: 'cli', actor, onProgress: progress.onProgress });
      } finally {
        progress.end();
      }
      if (summary.status === 'refused') exitWith(3);
      else if (summary.status === 'failed') exitWith(1);
      // In the JSON lines the summary is told from the progress lines by its type.
      return json ? { type: 'summary', ...summary } : summary;
    }, describeSummary));

  directory.command('runs').requiredOption('--tenant <tenant>').requiredOption('--source <key>').option('--limit <n>', 'how many', int('--limit'), 10)
    .description('Recent sync runs of a source, newest first')
    .action((o) => run(async (rt) => (checkNumbers(o), rt.ldap.sources.runs(o.tenant, o.source, o.limit)), (runs) => runs.map((r: any) =>
      `${new Date(r.startedAt).toISOString()}\t${r.mode}${r.dryRun ? ' (dry run)' : ''}\t${r.status}\t${r.summary ? `+${r.summary.created} ~${r.summary.updated} -${r.summary.disabled} ^${r.summary.reenabled} !${r.summary.errors}` : JSON.stringify(r.progress)}${r.error ? `\t${r.error}` : ''}`).join('\n')));
}
