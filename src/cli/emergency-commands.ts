// `caregate emergency settings|rule add|rule list|rule remove|uses|review` and `caregate
// access-request list|approve|reject`: break-glass and just-in-time elevation as administrators,
// reviewers and approvers handle them, through the same services as the admin API. Invoking
// break-glass or asking for elevation is a person's own act, from the account page: no command.
import type { Command } from 'commander';
import { ValidationError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { Run } from './command-context.ts';
import type { Terminal } from './terminal.ts';
import { collect, requireId, wholeNumber } from './options.ts';
import { parseRole } from './parse-role.ts';

type Options = Record<string, any>;

const REQUEST_STATUSES = ['pending', 'granted', 'rejected', 'expired'];

/** `emergency settings` changes them when given any option, and shows them otherwise. */
export const changesEmergencySettings = (o: Options) =>
  o.maxMinutes !== undefined || o.webhookUrl !== undefined || o.webhook === false || Boolean(o.webhookSecretStdin) || Boolean(o.approvalLevel?.length) || o.approvalLevels === false;

/** `--approval-level manager` or `--approval-level role:KEY`. */
function parseLevel(text: string) {
  if (text === 'manager') return { manager: true };
  if (text.startsWith('role:') && text.length > 5) return { role: text.slice(5) };
  throw new ValidationError(`--approval-level ${text}: expected manager or role:KEY`);
}

/**
 * The settings as they are with the options given applied: the service replaces them whole, so
 * what is not named keeps its value (the webhook secret is kept by the service when left out).
 */
async function settingsChange(rt: Runtime, o: Options, terminal: Terminal) {
  if (o.webhookUrl !== undefined && o.webhook === false) throw new ValidationError('--webhook-url and --no-webhook contradict each other');
  if (o.approvalLevel.length && o.approvalLevels === false) throw new ValidationError('--approval-level and --no-approval-levels contradict each other');
  const { webhookSecretSet: _set, ...current } = await rt.emergency.getSettings(o.tenant);
  const settings: Options = { ...current };
  if (o.maxMinutes !== undefined) settings.maxMinutes = o.maxMinutes;
  if (o.webhookUrl !== undefined) settings.webhookUrl = o.webhookUrl;
  if (o.webhook === false) settings.webhookUrl = null;
  if (o.webhookSecretStdin) settings.webhookSecret = (await terminal.readStdin()).replace(/\r?\n$/, '');
  if (o.approvalLevel.length) settings.approvalLevels = o.approvalLevel.map(parseLevel);
  if (o.approvalLevels === false) settings.approvalLevels = [];
  return settings as Parameters<Runtime['emergency']['setSettings']>[1];
}

function describeSettings(s: any): string {
  const levels: any[] | undefined = s.approvalLevels;
  return [
    `Longest emergency or elevation grant: ${s.maxMinutes} minutes`,
    `Webhook: ${s.webhookUrl ? `${s.webhookUrl}${s.webhookSecretSet === false ? ' (no secret)' : ''}` : 'none'}`,
    ...(levels ? [`Elevation approvals: ${levels.length ? levels.map((l, i) => `${i + 1}. ${l.manager ? 'the requester\'s manager' : `role ${l.role}`}`).join(', ') : 'one approval'}`] : []),
  ].join('\n');
}

const describeRule = (r: any) =>
  `${r.key}\t${r.role}${r.scopeType === 'tenant' ? '' : `@${r.scopeType}`}\t${r.minutes} min\treviewed by ${r.reviewerRole}\teligible: ${[...r.eligibleRoles.map((k: string) => `role ${k}`), ...(r.eligibleUserIds.length ? [`${r.eligibleUserIds.length} named user(s)`] : [])].join(', ')}`;

const describeRequest = (r: any) => `${r.id}\t${r.user}\t${r.role}\t${r.status}\t${r.minutes} min\t${new Date(r.createdAt).toISOString()}\t${r.reason}`;

export function registerEmergencyCommands(program: Command, run: Run) {
  const emergency = program.command('emergency').description('Emergency access (break-glass): settings, rules, and the review of each use');

  emergency.command('settings').requiredOption('--tenant <tenant>')
    .option('--max-minutes <n>', 'the longest a break-glass or elevation grant may last', wholeNumber('--max-minutes'))
    .option('--webhook-url <url>', 'where each emergency use is also POSTed, signed')
    .option('--no-webhook', 'post uses to no webhook')
    .option('--webhook-secret-stdin', "read the webhook's signing secret (16 characters or more) from standard input")
    .option('--approval-level <level>', 'an approval level of elevation requests, in order: manager or role:KEY (repeatable; replaces the levels)', collect, [])
    .option('--no-approval-levels', 'elevation requests need one approval again')
    .description("Show the tenant's emergency access settings, or change those named")
    .action((o) => run(async (rt, { actor, terminal }) => (changesEmergencySettings(o) ? rt.emergency.setSettings(o.tenant, await settingsChange(rt, o, terminal), actor) : rt.emergency.getSettings(o.tenant)), describeSettings));

  const rule = emergency.command('rule').description('Break-glass rules: which role may be taken where, by whom, for how long, reviewed by whom');
  rule.command('add').requiredOption('--tenant <tenant>').requiredOption('--key <key>', 'a name for the rule ("er-provider")')
    .requiredOption('--role <role[@scope]>', 'the role taken in an emergency, and where: ROLE, or ROLE@location:KEY, ROLE@institution:KEY, ROLE@application:CLIENT_ID')
    .option('--eligible-role <role>', 'holders of this role may use the rule (repeatable)', collect, [])
    .option('--eligible-user <user>', 'this user may use the rule (repeatable)', collect, [])
    .requiredOption('--reviewer-role <role>', 'holders of this role review each use (never the person who used it)')
    .option('--minutes <n>', "how long a use lasts (default 60; at most the tenant's maximum)", wholeNumber('--minutes'))
    .option('--approvals-required <n>', 'how many other people must approve a use before it takes effect (default 0: at once)', wholeNumber('--approvals-required'))
    .option('--approver <user>', 'a user who may approve a use, besides holders of the reviewer role (repeatable)', collect, [])
    .description('Add a break-glass rule (you must be allowed to grant its role there)')
    .action((o) => run((rt, { actor }) => {
      const { role, scope } = parseRole(o.role);
      // Built apart from the call: the approval fields are sent only when given.
      const input = {
        key: o.key, role, scope, eligibleRoles: o.eligibleRole, eligibleUsers: o.eligibleUser, minutes: o.minutes, reviewerRole: o.reviewerRole,
        approvalsRequired: o.approvalsRequired, approvers: o.approver.length ? o.approver : undefined,
      };
      return rt.emergency.createRule(o.tenant, input, actor);
    }, (r) => `Added break-glass rule ${r.key}: role ${r.role} for ${r.minutes} minutes, reviewed by ${r.reviewerRole}.`));
  rule.command('list').requiredOption('--tenant <tenant>').description('List break-glass rules')
    .action((o) => run((rt) => rt.emergency.listRules(o.tenant), (rs) => (rs.length ? rs.map(describeRule).join('\n') : 'No break-glass rules: add one with caregate emergency rule add.')));
  rule.command('remove <key>').requiredOption('--tenant <tenant>').description('Remove a break-glass rule (uses already made stay, with their reviews)')
    .action((key, o) => run(async (rt, { actor }) => (await rt.emergency.removeRule(o.tenant, key, actor), { removed: key }), () => `Removed break-glass rule ${key}.`));

  emergency.command('uses').requiredOption('--tenant <tenant>').option('--unreviewed', 'only uses nobody has reviewed yet')
    .description('List emergency access uses, newest first')
    .action((o) => run((rt) => rt.emergency.listUses(o.tenant, { unreviewed: o.unreviewed ? true : undefined }),
      (us) => (us.length ? us.map((u: any) => `${describeRequest(u)}\t${u.reviewOutcome ?? 'unreviewed'}`).join('\n') : 'No emergency access uses.')));

  emergency.command('review <use>').requiredOption('--tenant <tenant>').requiredOption('--outcome <outcome>', 'justified or not_justified').requiredOption('--note <text>', 'why')
    .description("Record whether a use was justified (a holder of the rule's reviewer role, with --as; never the person who used it)")
    .action((id, o) => run((rt, { actor }) => rt.emergency.review(o.tenant, requireId('use', id), { outcome: o.outcome, note: o.note }, actor),
      (r) => `Use ${r.id} reviewed as ${r.outcome} by ${r.reviewedBy}.`));

  const request = program.command('access-request').description('Elevation requests: a role for a while, asked for by a person, decided by approvers');
  request.command('list').requiredOption('--tenant <tenant>').option('--status <status>', 'pending, granted, rejected or expired')
    .description('List the elevation requests you may decide')
    .action((o) => run((rt, { actor }) => {
      if (o.status !== undefined && !REQUEST_STATUSES.includes(o.status)) throw new ValidationError(`--status ${o.status}: expected ${REQUEST_STATUSES.join(', ')}`);
      return rt.elevations.list(o.tenant, { status: o.status }, actor);
    }, (rs) => (rs.length ? rs.map(describeRequest).join('\n') : 'No access requests.')));
  for (const verb of ['approve', 'reject'] as const) {
    request.command(`${verb} <id>`).requiredOption('--tenant <tenant>').option('--note <text>', 'told to the requester')
      .option('--level <n>', 'the approval level you decide, where the tenant names levels', wholeNumber('--level'))
      .description(verb === 'approve' ? 'Approve a request (or its level awaiting a decision); the last approval grants the role until its end' : 'Reject a request; the requester is told')
      .action((id, o) => run((rt, { actor }) => {
        const decision = { note: o.note, level: o.level };
        return rt.elevations[verb](o.tenant, requireId('request', id), decision, actor);
      }, (r) => `Request ${r.id} is ${r.status}${r.endsAt ? ` until ${new Date(r.endsAt).toISOString()}` : ''}${r.awaitingLevel ? ` (awaiting level ${r.awaitingLevel})` : ''}.`));
  }
}
