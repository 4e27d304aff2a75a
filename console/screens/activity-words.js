// The activity log in words: each audit event as a sentence a person reads ("admin disabled grace",
// "Failed sign-in for bob from 203.0.113.7 (wrong password)"), and what it changed as before → after
// rows holding only the fields that differ. Names come from the page's `names` map (GET /audit),
// then from the event's own snapshot (a deleted user keeps their username there).
import { formatTime } from '../ui.js';

const METHODS = { pwd: 'password', webauthn: 'a passkey', federation: 'an identity provider', totp: 'an authenticator app', email: 'a code by email', sms: 'a code by text message', recovery: 'a recovery code', hwk: 'a passkey', otp: 'a one-time code' };
const REASONS = {
  bad_password: 'wrong password', unknown_user: 'no such user', no_password: 'the account has no password', account_locked: 'account locked',
  not_active: 'account not active', account_expired: 'account expired', address_throttled: 'too many attempts from this address',
  federated_only: 'must sign in through their identity provider', directory_unavailable: 'the directory did not answer', directory_refused: 'the directory refused',
  passkey_rejected: 'passkey not accepted', wrong_current_password: 'current password wrong', last_required_factor: 'it was their last required sign-in method',
  not_confirmed: 'the code was not confirmed', rate_limited: 'too many requests', delivery_failed: 'the email could not be sent', expired: 'the link had expired',
  used: 'the link was already used', unknown: 'the link is unknown', phi_access_cleared: 'PHI access was cleared', role_requires_phi: 'the role now requires PHI access',
  role_deleted: 'the role was deleted', mapping: 'an identity provider or directory mapping', out_of_scope: 'outside their scope', enabled_in_directory: 'enabled in the directory',
  disabled_in_directory: 'disabled in the directory', missing_from_directory: 'no longer in the directory', verified_email: 'the same verified email',
};
const reasonText = (reason) => (reason ? REASONS[reason] ?? String(reason).replace(/_/g, ' ') : '');

const str = (v) => (typeof v === 'string' && v ? v : undefined);
/** The snapshot's own name for the event's subject: a deleted user's username, a role's name. */
const snapshotName = (e) => str(e.after?.username) ?? str(e.before?.username) ?? str(e.after?.name) ?? str(e.before?.name) ?? str(e.after?.key) ?? str(e.before?.key);

/** Who acted, in words. */
export function actorName(e, names) {
  switch (e.actorType) {
    case 'user': return names[e.actorId] ?? (e.actorId ? 'a deleted user' : 'someone');
    case 'client': return names[e.actorId] ? `the application ${names[e.actorId]}` : `the application ${e.actorId}`;
    case 'cli': return `the command line${e.actorId && e.actorId !== 'cli' ? ` (${e.actorId})` : ''}`;
    case 'system': return { bootstrap: 'Caregate setup', lockout: 'Caregate', inactivity: 'Caregate', scheduler: 'the schedule', schedule: 'the schedule' }[e.actorId] ?? 'Caregate';
    default: return 'someone';
  }
}

/** The subject of the event, in words ("grace", "the role Lead Therapist"). */
function targetName(e, names) {
  const named = names[e.targetId] ?? snapshotName(e);
  switch (e.targetType) {
    case 'user': return names[e.targetId] ?? str(e.before?.username) ?? str(e.after?.username) ?? 'a deleted user';
    case 'role': return `the role ${named ?? 'that no longer exists'}`;
    case 'team': return `the team ${named ?? 'that no longer exists'}`;
    case 'location': return `the location ${named ?? 'that no longer exists'}`;
    case 'institution': return `the institution ${named ?? 'that no longer exists'}`;
    case 'application': return `the application ${named ?? e.targetId}`;
    case 'connection': return `the identity provider ${named ?? 'that no longer exists'}`;
    case 'directory_source': return `the directory ${named ?? 'that no longer exists'}`;
    case 'tenant': return 'the organisation';
    default: return e.targetType ? `${e.targetType.replace(/_/g, ' ')} ${named ?? e.targetId ?? ''}`.trim() : '';
  }
}

/** A role held somewhere: "Lead Therapist at North clinic". */
function grant(side, names) {
  if (!side) return 'a role';
  const role = names[side.roleId] ?? side.role ?? 'a role';
  const place = side.scopeType === 'tenant' || !side.scopeType ? 'everywhere' : `${side.scopeType === 'application' ? 'in' : 'at'} ${names[side.scopeId] ?? `a ${side.scopeType}`}`;
  return `${role} ${place}`;
}
const holder = (side, names) => (side?.teamId ? `the team ${names[side.teamId] ?? 'that no longer exists'}` : names[side?.userId] ?? 'a deleted user');

const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const self = (e) => e.actorType === 'user' && e.actorId && e.actorId === e.targetId;
const VERBS = { create: 'added', update: 'changed', delete: 'deleted', move: 'moved' };

/** The event as one sentence, starting with a capital unless it starts with a name. */
export function describeEvent(e, names = {}) {
  const text = sentence(e, names);
  return /^(the|a|an) /.test(text) ? `${text.charAt(0).toUpperCase()}${text.slice(1)}` : text;
}

function sentence(e, names) {
  const who = actorName(e, names);
  const what = targetName(e, names);
  const failed = e.outcome === 'failure';
  const d = e.details ?? {};
  const because = reasonText(d.reason);
  const why = because ? ` (${because})` : '';
  const [area, ...rest] = e.action.split('.');
  const sub = rest.join('.');

  switch (e.action) {
    case 'login.success': return `${what} signed in with ${METHODS[d.method] ?? 'a password'}${d.connection ? ` through ${d.connection}` : ''}`;
    case 'login.failure': {
      const whom = e.targetType === 'user' ? what : str(d.login) ?? 'an unknown account';
      return `Failed sign-in for ${whom}${e.ip ? ` from ${e.ip}` : ''}${why}`;
    }
    case 'login.mfa.success': return `${what} completed the second step with ${METHODS[d.method] ?? 'a second method'}`;
    case 'login.mfa.failure': return `Failed second step for ${what} with ${METHODS[d.method] ?? 'a second method'}${why}`;
    case 'session.end_oldest': return `${what}'s oldest session ended to stay within ${count(d.limit, 'session')}`;
    case 'session.limit_reached': return `${what} was refused a new session: already signed in on ${count(d.active, 'device')} (the limit is ${d.limit})`;
    case 'user.create': return `${who} added ${what}${d.subject ? ' from an identity provider or directory' : ''}`;
    case 'user.update': return `${who} changed ${what}'s ${d.reason ? 'details' : 'profile'}${why}`;
    case 'user.disable': return `${who} disabled ${what}${why}`;
    case 'user.enable': return `${who} enabled ${what}${why}`;
    case 'user.expire': return `${what}'s account expired after ${count(d.inactivityDays, 'day')} without signing in`;
    case 'user.delete': return `${who} deleted ${what}`;
    case 'user.lock': return `${what} was locked after ${count(d.threshold, 'failed sign-in')}`;
    case 'user.unlock': return `${who} unlocked ${what}`;
    case 'user.link': return `${what} was linked to their identity provider account${why}`;
    case 'user.password.change': return failed ? `${what} could not change their password${why}` : self(e) ? `${what} changed their password` : `${who} changed ${what}'s password`;
    case 'user.password.set': return `${who} set a new password for ${what}${d.mustChange ? ' (to be changed at the next sign-in)' : ''}`;
    case 'user.password.temporary': return `${who} set a temporary password for ${what}`;
    case 'user.password_reset.request': return failed ? `A password reset was asked for ${e.targetType === 'user' ? what : str(d.login) ?? 'an unknown account'} and not sent${why}` : `${what} asked for a password reset link`;
    case 'user.password_reset.issue': return self(e) ? `${what} was sent a password reset link` : `${who} sent ${what} a password reset link`;
    case 'user.password_reset.use': return failed ? `A password reset link was refused${why}` : `${what} reset their password with an emailed link`;
    case 'user.invite.issue': return `${who} invited ${what}`;
    case 'user.invite.accept': return `${what} accepted their invitation and chose a password`;
    case 'user.invite.use': return `An invitation link was refused${why}`;
    case 'user.sessions.end': {
      if (d.self) return d.others ? `${what} signed out their other sessions` : `${what} ended one of their sessions`;
      return `${who} ended ${d.sessionId ? 'a session' : 'the sessions'} of ${what}${typeof d.ended === 'number' ? ` (${count(d.ended, 'session')})` : ''}`;
    }
    case 'assignment.create': return `${who} gave ${holder(e.after, names)} the role ${grant(e.after, names)}${why}`;
    case 'assignment.delete': {
      if (!e.before && Array.isArray(d.assignments)) return `${who} took ${count(d.assignments.length, 'role')} away from ${what}${why}`;
      return `${who} took the role ${grant(e.before, names)} away from ${holder(e.before, names)}${why}`;
    }
    case 'team.member.add': return `${who} added ${names[e.after?.userId] ?? 'a deleted user'} to ${what}${why}`;
    case 'team.member.remove': return `${who} removed ${names[e.before?.userId] ?? 'a deleted user'} from ${what}${why}`;
    case 'override.set': return `${who} ${e.after?.effect === 'deny' ? 'denied' : 'granted'} ${what} ${e.after?.permission ?? 'a permission'} in ${names[e.after?.applicationId] ?? e.after?.application ?? 'an application'}`;
    case 'override.delete': return `${who} removed ${what}'s exception for ${e.before?.permission ?? 'a permission'} in ${names[e.before?.applicationId] ?? 'an application'}`;
    case 'derived_role.create': return `${who} made ${what} follow from another role`;
    case 'derived_role.delete': return `${who} removed a rule that gave ${what}`;
    case 'application.create': return `${who} registered ${what}`;
    case 'application.update': return `${who} changed ${what}`;
    case 'application.delete': return `${who} deleted ${what}`;
    case 'application.secret.rotate': return `${who} rotated the client secret of ${what}`;
    case 'tenant.create': return `${who} created the organisation`;
    case 'tenant.policy.update': return `${who} changed the sign-in and security settings`;
    case 'tenant.profile.update': return `${who} changed the user profile settings`;
    case 'tenant.owner.transfer': return `${who} made ${e.after?.owner?.username ?? 'someone'} the owner`;
    case 'tenant.owner.backups': return `${who} changed the backup owners`;
    case 'directory.sync': return `${who} ${failed ? 'ran a sync of' : 'synced'} ${what}${d.dryRun ? ' (dry run)' : ''}${failed ? ' and it failed' : ''}${syncCounts(d)}`;
    case 'audit.export': return `${who} exported the activity log as ${d.format === 'csv' ? 'CSV' : 'JSON Lines'}${filterText(d.filters)}`;
    case 'admin.forbidden': return `${who} was refused${d.permission ? ` ${d.permission}` : ''}${d.reason ? ` (${reasonText(d.reason)})` : ''}${d.message ? `: ${d.message}` : ''}`;
    case 'keys.rotate': return `${who} rotated the signing keys`;
    case 'consent.grant': return `${who} allowed ${what} to use their account`;
    case 'mfa.enrol': return failed ? `${what} could not add ${METHODS[d.type] ?? 'a sign-in method'}${why}` : `${what} added ${METHODS[d.type] ?? 'a sign-in method'}`;
    case 'mfa.remove': return failed ? `${what} could not remove ${METHODS[d.type] ?? 'a sign-in method'}${why}` : self(e) ? `${what} removed ${METHODS[d.type] ?? 'a sign-in method'}` : `${who} removed ${METHODS[d.type] ?? 'a sign-in method'} from ${what}`;
    case 'mfa.code.send': return `A sign-in code was sent to ${what} by ${d.channel === 'sms' ? 'text message' : 'email'}`;
    case 'mfa.recovery_code.use': return `${what} used a recovery code${typeof d.left === 'number' ? ` (${d.left} left)` : ''}`;
    case 'saml.sso': return failed ? `A SAML sign-in to ${what} failed${why}` : `${who} signed in to ${what} with SAML`;
    case 'saml.logout': return `${who} signed out of ${what} with SAML`;
    case 'interaction.csrf_rejected': case 'account.csrf_rejected': return `A form was refused: expired or sent from another site${e.ip ? ` (from ${e.ip})` : ''}`;
    default: break;
  }
  // Create, change, delete and move of the things an administrator manages read alike.
  if (VERBS[sub] && e.targetType) return `${who} ${failed ? `could not ${sub}` : VERBS[sub]} ${what}${why}`;
  if (area === 'connection' || area === 'directory' || area === 'location' || area === 'institution' || area === 'team' || area === 'role') {
    const verb = VERBS[rest.at(-1)];
    if (verb) return `${who} ${verb} ${what}${why}`;
  }
  // Anything else: the action as words, who, and what it was about.
  return `${who}: ${e.action.replace(/[._]/g, ' ')}${what && what !== who ? ` — ${what}` : ''}${failed ? ' (failed)' : ''}${why}`;
}

function syncCounts(d) {
  const parts = [['created', 'created'], ['updated', 'updated'], ['disabled', 'disabled'], ['enabled', 'enabled']].filter(([key]) => typeof d[key] === 'number' && d[key] > 0).map(([key, word]) => `${d[key]} ${word}`);
  return parts.length ? `: ${parts.join(', ')}` : '';
}

function filterText(filters) {
  const used = Object.entries(filters ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  const text = (v) => (typeof v === 'string' && ISO.test(v) ? formatTime(v) : String(v).slice(0, 40));
  return used.length ? ` (${used.map(([k, v]) => `${k} ${text(v)}`).join(', ')})` : ' (everything)';
}

// --- before → after --------------------------------------------------------------------------
const NOISE = new Set(['id', 'tenantId', 'updatedAt', 'createdAt', 'hasPassword']);
const LABELS = {
  phiAccess: 'PHI access', outsideVendor: 'Outside vendor', givenName: 'Given name', familyName: 'Family name', displayName: 'Display name', userType: 'User type',
  expiresAt: 'Account end date', mustChangePassword: 'Must change password', lastLoginAt: 'Last sign-in', passwordChangedAt: 'Password changed', reenabledAt: 'Re-enabled',
  lockedAt: 'Locked at', externalId: 'External ID', requiresPhi: 'Requires PHI', parentId: 'Parent', roleId: 'Role', userId: 'User', teamId: 'Team', scopeId: 'Where',
  scopeType: 'Scope', clientId: 'Client ID', redirectUris: 'Redirect URIs', postLogoutRedirectUris: 'Sign-out redirect URIs', grantTypes: 'Grant types',
  adminApi: 'Admin API access', requireConsent: 'Asks for consent', backchannelLogoutUri: 'Back-channel logout URL', applicationId: 'Application',
  'mfa.mode': 'Two-step sign-in', 'mfa.console': 'Two-step sign-in for the console', 'lockout.threshold': 'Lockout after failed sign-ins', 'lockout.lockSeconds': 'Lock for (seconds)',
  'sessions.idleSeconds': 'Idle timeout (seconds)', 'sessions.absoluteSeconds': 'Session length (seconds)', 'sessions.maxConcurrent': 'Sessions at once',
  'accounts.inactivityDays': 'Expire unused accounts after (days)', timeZone: 'Time zone',
};
/** "phiAccess" → "PHI access", "lockout.threshold" → "Lockout: threshold". */
export function fieldLabel(key) {
  if (LABELS[key]) return LABELS[key];
  const words = (k) => k.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  const parts = key.split('.');
  const text = parts.length > 1 ? `${words(parts.slice(0, -1).join(' '))}: ${words(parts.at(-1))}` : words(key);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Flattens nested settings one level deep at a time ("lockout.threshold"); arrays stay whole. */
function flatten(value, prefix = '', out = {}, depth = 0) {
  for (const [k, v] of Object.entries(value ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2 && Object.keys(v).length) flatten(v, key, out, depth + 1);
    else out[key] = v;
  }
  return out;
}

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const empty = (v) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** The fields that differ between before and after: [[field, before, after]…]; a create lists what it set. */
export function changes(e) {
  if (!e.before && !e.after) return [];
  const before = flatten(e.before);
  const after = flatten(e.after);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !NOISE.has(k.split('.').at(-1)));
  return keys
    .filter((k) => !same(before[k], after[k]))
    // A created or deleted thing's empty fields say nothing.
    .filter((k) => !(empty(before[k]) && empty(after[k])))
    .filter((k) => (e.before && e.after) || !empty(before[k] ?? after[k]))
    .map((k) => [k, before[k], after[k]]);
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
/** A value as text: names for ids, Yes/No, lists joined, times in the tenant's zone. */
export function valueText(value, names) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (Array.isArray(value)) return value.length ? value.map((v) => valueText(v, names)).join(', ') : '(none)';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'string' && names[value]) return names[value];
  if (typeof value === 'string' && ISO.test(value)) return formatTime(value);
  return String(value);
}

/** Details worth showing beside the changes (not the ones the sentence already says). */
export function detailRows(e) {
  const skip = new Set(['reason', 'method', 'login', 'self', 'others', 'filters', 'format', 'errorList', 'assignments']);
  return Object.entries(e.details ?? {}).filter(([k, v]) => !skip.has(k) && !empty(v) && (typeof v !== 'object' || Array.isArray(v)));
}
