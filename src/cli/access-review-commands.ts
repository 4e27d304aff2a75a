// `caregate access-review start|list|items|decide|close|report`: access review campaigns from the
// command line, through the same service as the admin API — bounded by the caller's scope, never a
// decision on one's own access, a revocation through the ordinary removal — and the auditors' CSV
// report to standard output or a file written where the operator runs the command.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Run } from './command-context.ts';
import { parseScope, requireId, wholeNumber, type ScopeSpec } from './options.ts';

const where = (scope: { type: string; key?: string }) => (scope.type === 'tenant' ? 'tenant-wide' : `${scope.type}:${scope.key}`);

/** One campaign for people: id, name, scope, status, deadline, items left. */
const describeCampaign = (c: any) =>
  `${c.id}\t${c.name}\t${where(c.scope)}\t${c.status}\tdeadline ${new Date(c.deadline).toISOString()}${c.items === undefined ? '' : `\t${c.undecided}/${c.items} undecided, ${c.unused} unused`}`;

/** One item for people: id, whose access, what, the decision so far. */
const describeItem = (i: any) => `${i.id}\t${i.username}\t${i.role}\t${i.scope}\t${i.origin}${i.unused ? '\tunused' : ''}\t${i.decision ?? 'undecided'}`;

export function registerAccessReviewCommands(program: Command, run: Run) {
  const review = program.command('access-review').description('Access review campaigns: who holds what, certified or revoked by reviewers, reported to auditors');

  review.command('start').requiredOption('--tenant <tenant>').requiredOption('--name <name>', 'what auditors will read ("Q3 review, Northside clinic")')
    .requiredOption('--deadline <date>', 'when undecided items are revoked or flagged (ISO 8601)')
    .option('--scope <scope>', 'whose access: tenant (default), location:KEY (and the sites below it) or institution:KEY')
    .option('--on-deadline <action>', 'what happens to undecided items at the deadline: flag (default) or revoke')
    .option('--recurrence-months <n>', 'start the next campaign when this one closes, its deadline this many months later (3: quarterly)', wholeNumber('--recurrence-months'))
    .option('--unused-days <n>', 'highlight users not signed in (keys not used) for this many days (default 90)', wholeNumber('--unused-days'))
    .option('--remind-days <n>', 'remind reviewers daily from this many days before the deadline (default 7)', wholeNumber('--remind-days'))
    .description('Start a campaign: what each user in scope holds is snapshotted now')
    .action((o) => run((rt, { actor }) => rt.accounts.reviews.create(o.tenant, {
      name: o.name, deadline: o.deadline, scope: parseScope(o.scope, ['tenant', 'location', 'institution']) as Exclude<ScopeSpec, { type: 'application' }>, onDeadline: o.onDeadline,
      recurrenceMonths: o.recurrenceMonths, unusedDays: o.unusedDays, remindDays: o.remindDays,
    }, actor), (c) => `Started access review ${c.id}: ${c.items} item(s) to decide by ${new Date(c.deadline).toISOString()}.`));

  review.command('list').requiredOption('--tenant <tenant>').description('List the campaigns you run or review in, newest first')
    .action((o) => run((rt, { actor }) => rt.accounts.reviews.list(o.tenant, actor), (cs) => (cs.length ? cs.map(describeCampaign).join('\n') : 'No access reviews.')));

  review.command('items <campaign>').requiredOption('--tenant <tenant>').description("List the campaign's items you may decide (of users you may manage, never your own)")
    .action((id, o) => run((rt, { actor }) => rt.accounts.reviews.myItems(o.tenant, requireId('campaign', id), actor),
      (r) => (r.items.length ? r.items.map(describeItem).join('\n') : `No items of ${r.campaign.name} for you to decide.`)));

  review.command('decide <campaign> <item>').requiredOption('--tenant <tenant>').requiredOption('--decision <decision>', 'certify (the access stays) or revoke (it ends now)')
    .option('--note <text>', 'why, for the report')
    .description('Certify or revoke one item; a revocation ends the access as removing it by hand would (same rights needed)')
    .action((id, item, o) => run((rt, { actor }) => rt.accounts.reviews.decide(o.tenant, requireId('campaign', id), requireId('item', item), { decision: o.decision, note: o.note }, actor),
      (i) => `Item ${i.id} ${i.decision}.`));

  review.command('close <campaign>').requiredOption('--tenant <tenant>').description('Close a campaign now: undecided items are revoked or flagged as at its deadline; a recurring one starts its next')
    .action((id, o) => run((rt, { actor }) => rt.accounts.reviews.close(o.tenant, requireId('campaign', id), actor),
      (r) => `Closed access review ${r.id}: ${r.revoked} revoked, ${r.flagged} flagged at closing.${r.nextCampaignId ? ` Next campaign: ${r.nextCampaignId}.` : ''}`));

  review.command('report <campaign>').requiredOption('--tenant <tenant>').option('--output <file>', 'write the CSV to this file (readable by you alone) instead of standard output')
    .description('The report for auditors as CSV: item, user, role, scope, origin, last use, decision, reviewer, time, note (audited)')
    .action((id, o, command: Command) => run(async (rt, { actor, terminal }) => {
      if (!o.output && command.optsWithGlobals().json) throw new ValidationError('--output is required with --json: without it, standard output carries the CSV itself');
      const report = await rt.accounts.reviews.report(o.tenant, requireId('campaign', id), actor);
      // On standard output the line printed after the work ends the CSV's last line.
      if (!o.output) return terminal.out(report.csv.replace(/\n$/, ''));
      await terminal.writeFile(o.output, report.csv);
      return { file: o.output, campaign: id };
    }, (r) => (r ? `Wrote the report of access review ${r.campaign} to ${r.file}.` : '')));
}
