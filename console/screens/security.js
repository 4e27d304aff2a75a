// Sign-in & security: the tenant's security policy (GET / PATCH /policy) as a form in the words an
// administrator uses — two-step sign-in, passwords, lockout, sessions (with limits per role),
// accounts, and the tenant's time zone. Durations are shown in minutes, hours or days and sent in
// the API's units; Save sends only what changed, and the API's objections appear beside their
// fields. Someone who may only read the policy sees it with every control disabled. Below the form,
// the network rules: the tenant-wide one edited here, the roles that carry one listed.
import { api, path } from '../api.js';
import { Checkbox, Field, Link, Page, Select, can, html, loadState, notify, timeZone, useLoad, useMe, useState } from '../ui.js';
import { NetworkRuleForm, Ranges, RuleSummary } from './network-rule-form.js';

const METHODS = [['totp', 'Authenticator app (6-digit codes)'], ['webauthn', 'Passkey or security key'], ['email', 'Code by email'], ['sms', 'Code by text message']];
const MODES = [
  ['off', 'Off', 'Nobody is asked for a second step.'],
  ['optional', 'Optional', 'People may set up a second step on their account page; those who have one are asked for it.'],
  ['required', 'Required for everyone', 'Everyone sets one up at their next sign-in.'],
  ['roles', 'Required for some roles', 'Holders of the roles chosen below (and, if ticked, of roles that require PHI access).'],
];
const CLASSES = [['lower', 'A lowercase letter'], ['upper', 'An uppercase letter'], ['digit', 'A digit'], ['symbol', 'A symbol']];
const UNITS = { 1: ['second', 'seconds'], 60: ['minute', 'minutes'], 3600: ['hour', 'hours'], 86400: ['day', 'days'] };

/**
 * The number fields: where each lives in the policy, its label, the unit it is shown in (the API
 * keeps seconds), its bounds in the API's units, and whether empty means "none".
 */
const NUMBERS = {
  'password.minLength': { label: 'Minimum length', unit: 1, min: 8, max: 256, word: 'characters' },
  'password.maxLength': { label: 'Maximum length', unit: 1, min: 64, max: 1024, word: 'characters' },
  'password.historyCount': { label: 'Remembered passwords', hint: 'A new password may not be one of this many previous ones (0: no check)', unit: 1, min: 0, max: 24, word: 'passwords' },
  'password.expiryDays': { label: 'Password expires after (days)', hint: 'Empty: passwords do not expire (current guidance: change only when compromised)', unit: 86400, min: 86400, max: 3650 * 86400, nullable: true, api: 1 / 86400 },
  'lockout.threshold': { label: 'Failed sign-ins before the account locks', unit: 1, min: 1, max: 100, word: 'attempts' },
  'lockout.lockSeconds': { label: 'First lock lasts (minutes)', hint: 'Each further lock doubles it, up to the longest lock', unit: 60, min: 60, max: 86400 },
  'lockout.maxLockSeconds': { label: 'Longest lock (minutes)', unit: 60, min: 60, max: 2592000 },
  'addressThrottle.maxFailures': { label: 'Failed sign-ins from one network address', hint: 'Beyond this, that address is slowed down, whichever accounts it tries', unit: 1, min: 5, max: 100000, word: 'attempts' },
  'addressThrottle.windowSeconds': { label: '…within (minutes)', unit: 60, min: 60, max: 86400 },
  'sessions.idleSeconds': { label: 'Idle timeout (minutes)', hint: 'Signed out after this long without activity', unit: 60, min: 60, max: 2592000 },
  'sessions.absoluteSeconds': { label: 'Absolute timeout (hours)', hint: 'Signed out this long after signing in, however active', unit: 3600, min: 3600, max: 2592000 },
  'sessions.maxConcurrent': { label: 'Sessions at once per person', hint: 'Empty: no limit', unit: 1, min: 1, max: 100, nullable: true, word: 'sessions' },
  'accounts.inactivityDays': { label: 'Expire accounts unused for (days)', hint: 'Empty: never. An expired account cannot sign in until an administrator re-enables it', unit: 86400, min: 86400, max: 3650 * 86400, nullable: true, api: 1 / 86400 },
  'accounts.resetLinkMinutes': { label: 'Password reset links last (minutes)', unit: 60, min: 300, max: 86400, api: 1 / 60 },
  'accounts.inviteDays': { label: 'Invitations last (days)', unit: 86400, min: 86400, max: 30 * 86400, api: 1 / 86400 },
};
// A value in the API's units → seconds (for the fields whose API unit is not seconds), and back.
const toSeconds = (spec, v) => (v === null ? null : spec.api ? v / spec.api : v);
const fromSeconds = (spec, s) => (spec.api ? Math.round(s * spec.api) : Math.round(s));

const get = (obj, path) => path.split('.').reduce((o, k) => o?.[k], obj);
const set = (obj, path, value) => {
  const keys = path.split('.');
  const last = keys.pop();
  const target = keys.reduce((o, k) => (o[k] ??= {}), obj);
  target[last] = value;
};
const shown = (spec, seconds) => (seconds === null || seconds === undefined ? '' : String(+(seconds / spec.unit).toFixed(2)));
const bounds = (spec) => {
  const [one, many] = UNITS[spec.unit];
  const word = spec.word ?? many;
  const min = spec.min / spec.unit;
  return `between ${min} and ${spec.max / spec.unit} ${spec.max / spec.unit === 1 ? one : word}`;
};

/** The form's state from a policy: number fields as the text shown, the rest as they are. */
function formOf(policy) {
  const text = {};
  for (const [path, spec] of Object.entries(NUMBERS)) text[path] = shown(spec, toSeconds(spec, get(policy, path)));
  const roleLimits = Object.entries(policy.sessions.roles).map(([role, l]) => ({
    role, idle: l.idleSeconds ? shown({ unit: 60 }, l.idleSeconds) : '', absolute: l.absoluteSeconds ? shown({ unit: 3600 }, l.absoluteSeconds) : '',
  }));
  return { policy: structuredClone(policy), text, base: { ...text }, roleLimits };
}

/** The policy the form describes, and the problems found before asking the API (by field path). */
function build(form) {
  const policy = structuredClone(form.policy);
  const problems = {};
  for (const [path, spec] of Object.entries(NUMBERS)) {
    const raw = form.text[path].trim();
    // Untouched: the stored value stays as it is (even one set outside these bounds' units).
    if (raw === form.base[path]) continue;
    if (raw === '') {
      if (spec.nullable) set(policy, path, null);
      else problems[path] = 'Enter a number.';
      continue;
    }
    const seconds = Number(raw) * spec.unit;
    if (!Number.isFinite(seconds) || seconds < spec.min || seconds > spec.max) problems[path] = `Must be ${bounds(spec)}.`;
    else set(policy, path, fromSeconds(spec, seconds));
  }
  if (!problems['password.minLength'] && !problems['password.maxLength'] && policy.password.minLength > policy.password.maxLength) problems['password.maxLength'] = 'Must not be less than the minimum length.';
  if (policy.mfa.methods.length === 0) problems['mfa.methods'] = 'Allow at least one method.';
  const roles = {};
  form.roleLimits.forEach((row, i) => {
    const limit = {};
    const check = (value, unit, key, min, label) => {
      if (value.trim() === '') return;
      const seconds = Number(value) * unit;
      if (!Number.isFinite(seconds) || seconds < min || seconds > 2592000) problems[`sessions.roles.${i}.${key}`] = `${label} must be between ${min / unit} and ${2592000 / unit}.`;
      else limit[key] = Math.round(seconds);
    };
    check(row.idle, 60, 'idleSeconds', 60, 'The idle timeout (minutes)');
    check(row.absolute, 3600, 'absoluteSeconds', 3600, 'The absolute timeout (hours)');
    if (!limit.idleSeconds && !limit.absoluteSeconds && !problems[`sessions.roles.${i}.idleSeconds`] && !problems[`sessions.roles.${i}.absoluteSeconds`]) problems[`sessions.roles.${i}.idleSeconds`] = 'Give a shorter idle or absolute timeout, or remove this role.';
    roles[row.role] = limit;
  });
  policy.sessions.roles = roles;
  return { policy, problems };
}

/** What changed from `before` to `after`: objects merge (as PATCH /policy does), lists and role limits replace. */
function changes(before, after) {
  const out = {};
  for (const [key, value] of Object.entries(after)) {
    const plain = value && typeof value === 'object' && !Array.isArray(value) && key !== 'roles';
    if (plain) {
      const inner = changes(before?.[key] ?? {}, value);
      if (Object.keys(inner).length) out[key] = inner;
    } else if (JSON.stringify(before?.[key]) !== JSON.stringify(value)) out[key] = value;
  }
  return out;
}

const ZONES = (() => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

function Screen() {
  const me = useMe();
  const editable = can(me, 'caregate.policy:edit');
  const loaded = useLoad(async () => {
    const [policy, roles] = await Promise.all([api.get('/policy'), can(me, 'caregate.roles:read') ? api.get('/roles').catch(() => []) : []]);
    return { policy, roles };
  }, []);
  if (!loaded.data) return html`<${Page} title="Sign-in & security">${loadState(loaded, 'the security policy')}<//>`;
  return html`<${PolicyForm} initial=${loaded.data.policy} roles=${loaded.data.roles} editable=${editable} />`;
}

function PolicyForm({ initial, roles, editable }) {
  const [saved, setSaved] = useState(initial);
  const [form, setForm] = useState(() => formOf(initial));
  const [fields, setFields] = useState({});
  const [busy, setBusy] = useState(false);
  const p = form.policy;
  const put = (path) => (value) => {
    const policy = structuredClone(form.policy);
    set(policy, path, value);
    setForm({ ...form, policy });
  };
  const putText = (path) => (value) => setForm({ ...form, text: { ...form.text, [path]: value } });
  const toggleIn = (path, item) => (on) => put(path)(on ? [...get(p, path), item] : get(p, path).filter((v) => v !== item));
  const roleName = (key) => roles.find((r) => r.key === key)?.name ?? key;

  const save = async (event) => {
    event.preventDefault();
    const { policy, problems } = build(form);
    if (Object.keys(problems).length) {
      setFields(problems);
      notify('error', `Check the highlighted ${Object.keys(problems).length === 1 ? 'field' : 'fields'}: ${Object.values(problems)[0]}`);
      return;
    }
    const patch = changes(saved, policy);
    if (!Object.keys(patch).length) {
      setFields({});
      notify('success', 'Nothing to save: the policy is as it was.');
      return;
    }
    setBusy(true);
    try {
      const next = await api.patch('/policy', patch);
      setSaved(next);
      setForm(formOf(next));
      setFields({});
      // Times on every screen follow the tenant's zone from now on.
      document.body.dataset.timeZone = next.timeZone;
      notify('success', 'The security policy was saved.');
    } catch (error) {
      setFields(error.fields ?? {});
      notify('error', error.message);
    } finally {
      setBusy(false);
    }
  };

  const number = (path) => {
    const spec = NUMBERS[path];
    return html`<${Field} label=${spec.label} hint=${spec.hint} type="number" inputmode="decimal" step="any" min=${spec.min / spec.unit} max=${spec.max / spec.unit}
      value=${form.text[path]} onValue=${putText(path)} error=${fields[path]} />`;
  };
  const unusedRoles = roles.filter((r) => !form.roleLimits.some((l) => l.role === r.key));
  const [addRole, setAddRole] = useState('');
  const setLimit = (i, key) => (value) => setForm({ ...form, roleLimits: form.roleLimits.map((l, j) => (j === i ? { ...l, [key]: value } : l)) });

  return html`<${Page} title="Sign-in & security" subtitle="How people sign in to every application of this organisation, and how long they stay signed in.">
    ${!editable && html`<p class="notice">You can read this policy; changing it takes the permission to edit the security policy.</p>`}
    <form onSubmit=${save} novalidate class="policy-form">
      <fieldset class="plain" disabled=${!editable || busy}>
        <section class="card" aria-labelledby="sec-mfa">
          <h2 id="sec-mfa">Two-step sign-in</h2>
          <fieldset>
            <legend>Who must use a second step</legend>
            ${MODES.map(([value, text, hint]) => html`<div class="check">
              <input type="radio" name="mfa-mode" id=${`mfa-${value}`} value=${value} checked=${p.mfa.mode === value} onChange=${() => put('mfa.mode')(value)} aria-describedby=${`mfa-${value}-hint`} />
              <label for=${`mfa-${value}`}>${text}</label><span class="hint" id=${`mfa-${value}-hint`}>${hint}</span></div>`)}
            ${fields['mfa.mode'] && html`<p class="field-error">${fields['mfa.mode']}</p>`}
          </fieldset>
          ${p.mfa.mode === 'roles' && html`<fieldset>
            <legend>Roles that require a second step</legend>
            ${roles.length === 0 && html`<p>No roles to choose from.</p>`}
            ${roles.map((r) => html`<${Checkbox} label=${r.name} hint=${r.requiresPhi ? 'Requires PHI access' : undefined} checked=${p.mfa.roles.includes(r.key)} onValue=${toggleIn('mfa.roles', r.key)} />`)}
            <${Checkbox} label="Also every role that requires PHI access" checked=${p.mfa.phiRoles} onValue=${put('mfa.phiRoles')} />
            ${(fields['mfa.roles'] || Object.keys(fields).find((k) => k.startsWith('mfa.roles.'))) && html`<p class="field-error">${fields['mfa.roles'] ?? fields[Object.keys(fields).find((k) => k.startsWith('mfa.roles.'))]}</p>`}
          </fieldset>`}
          <fieldset>
            <legend>Methods people may use</legend>
            ${METHODS.map(([value, text]) => html`<${Checkbox} label=${text} checked=${p.mfa.methods.includes(value)} onValue=${toggleIn('mfa.methods', value)} />`)}
            ${fields['mfa.methods'] && html`<p class="field-error">${fields['mfa.methods']}</p>`}
          </fieldset>
          <${Checkbox} label="Require two-step sign-in for the console" hint="Administrators signing in here always give a second step (and set one up then, if they have none), whatever the rule above says."
            checked=${p.mfa.console} onValue=${put('mfa.console')} />
        </section>

        <section class="card" aria-labelledby="sec-password">
          <h2 id="sec-password">Passwords</h2>
          <div class="form-grid">${number('password.minLength')}${number('password.maxLength')}${number('password.historyCount')}${number('password.expiryDays')}</div>
          <fieldset>
            <legend>A password must contain</legend>
            ${CLASSES.map(([value, text]) => html`<${Checkbox} label=${text} checked=${p.password.requireClasses.includes(value)} onValue=${toggleIn('password.requireClasses', value)} />`)}
            <p class="hint">None ticked: length alone counts, as current guidance advises.</p>
          </fieldset>
          <${Checkbox} label="Refuse common and breached passwords" checked=${p.password.rejectCommon} onValue=${put('password.rejectCommon')} />
          ${fields.password && html`<p class="field-error">${fields.password}</p>`}
        </section>

        <section class="card" aria-labelledby="sec-lockout">
          <h2 id="sec-lockout">Lockout</h2>
          <div class="form-grid">${number('lockout.threshold')}${number('lockout.lockSeconds')}${number('lockout.maxLockSeconds')}</div>
          <fieldset>
            <legend>A locked account</legend>
            ${[['timed', 'Unlocks by itself when the lock ends'], ['admin', 'Stays locked until an administrator unlocks it']].map(([value, text]) => html`<div class="check">
              <input type="radio" name="lock-mode" id=${`lock-${value}`} checked=${p.lockout.mode === value} onChange=${() => put('lockout.mode')(value)} /><label for=${`lock-${value}`}>${text}</label></div>`)}
          </fieldset>
          <div class="form-grid">${number('addressThrottle.maxFailures')}${number('addressThrottle.windowSeconds')}</div>
          ${fields.lockout && html`<p class="field-error">${fields.lockout}</p>`}
        </section>

        <section class="card" aria-labelledby="sec-sessions">
          <h2 id="sec-sessions">Sessions</h2>
          <div class="form-grid">${number('sessions.idleSeconds')}${number('sessions.absoluteSeconds')}${number('sessions.maxConcurrent')}
            <${Select} label="When a person reaches the limit" value=${p.sessions.onLimit} onValue=${put('sessions.onLimit')} error=${fields['sessions.onLimit']}
              options=${[['end_oldest', 'End their oldest session'], ['deny', 'Refuse the new sign-in']]} />
          </div>
          <fieldset>
            <legend>Shorter timeouts for some roles</legend>
            <p class="hint">A person holding several of these gets the shortest. Empty: the timeout above.</p>
            ${form.roleLimits.length === 0 && html`<p>Every role has the timeouts above.</p>`}
            ${form.roleLimits.map((l, i) => html`<div class="role-limit">
              <p class="role-limit-name"><strong>${roleName(l.role)}</strong></p>
              <${Field} label=${`${roleName(l.role)}: idle timeout (minutes)`} type="number" step="any" min="1" value=${l.idle} onValue=${setLimit(i, 'idle')} error=${fields[`sessions.roles.${i}.idleSeconds`] ?? fields[`sessions.roles.${l.role}.idleSeconds`]} />
              <${Field} label=${`${roleName(l.role)}: absolute timeout (hours)`} type="number" step="any" min="1" value=${l.absolute} onValue=${setLimit(i, 'absolute')} error=${fields[`sessions.roles.${i}.absoluteSeconds`] ?? fields[`sessions.roles.${l.role}.absoluteSeconds`]} />
              <button type="button" class="secondary" onClick=${() => setForm({ ...form, roleLimits: form.roleLimits.filter((_, j) => j !== i) })}>Remove ${roleName(l.role)}</button>
            </div>`)}
            ${editable && unusedRoles.length > 0 && html`<div class="add-row">
              <${Select} label="Role" value=${addRole} onValue=${setAddRole} options=${[['', 'Choose a role'], ...unusedRoles.map((r) => [r.key, r.name])]} />
              <button type="button" class="secondary" disabled=${!addRole} onClick=${() => { setForm({ ...form, roleLimits: [...form.roleLimits, { role: addRole, idle: '', absolute: '' }] }); setAddRole(''); }}>Add timeouts for this role</button>
            </div>`}
          </fieldset>
        </section>

        <section class="card" aria-labelledby="sec-accounts">
          <h2 id="sec-accounts">Accounts</h2>
          <div class="form-grid">${number('accounts.inactivityDays')}${number('accounts.resetLinkMinutes')}${number('accounts.inviteDays')}</div>
        </section>

        <section class="card" aria-labelledby="sec-zone">
          <h2 id="sec-zone">Time zone</h2>
          <${Select} label="Time zone" hint=${`The console shows every time in it (now: ${timeZone()}).`} value=${p.timeZone} onValue=${put('timeZone')} error=${fields.timeZone}
            options=${(ZONES.includes(p.timeZone) ? ZONES : [p.timeZone, ...ZONES]).map((z) => [z, z.replace(/_/g, ' ')])} />
        </section>

        ${editable && html`<div class="form-actions sticky-actions">
          <button type="submit" disabled=${busy}>${busy ? 'Saving…' : 'Save changes'}</button>
          <button type="button" class="secondary" disabled=${busy} onClick=${() => { setForm(formOf(saved)); setFields({}); }}>Discard changes</button>
        </div>`}
      </fieldset>
    </form>
    <${NetworkRules} roles=${roles} />
  <//>`;
}

/**
 * Network rules (issue 18): the tenant-wide rule, edited here by those who may edit the policy, and
 * the roles that carry a rule of their own, each linked to its role's page where it is edited (an
 * administrator restricting a role looks at the role).
 */
function NetworkRules({ roles }) {
  const me = useMe();
  const rules = useLoad(() => api.get('/network-rules'), []);
  const editable = can(me, 'caregate.policy:edit', { tenantWide: true });
  const roleName = (key) => roles.find((r) => r.key === key)?.name ?? key;
  const data = rules.data;
  return html`<section class="card network-rules" aria-labelledby="sec-network">
    <h2 id="sec-network">Network rules</h2>
    <p class="hint">Where people may sign in from. Addresses are read as this server sees them (behind a proxy, only when it is trusted to say).</p>
    ${loadState(rules, 'the network rules')}
    ${data && html`
      <h3>The whole organisation</h3>
      <p>With a rule here, signing in and refreshing a session work only from these ranges; anywhere else people see a page saying they must be on the organisation's network.</p>
      <${RuleSummary} rule=${data.tenant} none="No rule: people may sign in from anywhere." />
      ${editable && html`<${NetworkRuleForm} key=${data.tenant?.updatedAt ?? 'none'} rule=${data.tenant} what="network rule for the whole organisation" idPrefix="tenant-rule"
        removeMessage="People may then sign in from anywhere again."
        save=${async (body) => { await api.put('/network-rules/tenant', body); rules.reload(); }}
        remove=${async () => { await api.del('/network-rules/tenant'); rules.reload(); }} />`}
      <h3>Roles used only from some networks</h3>
      <p>A role with a rule still lets its holders sign in anywhere, but their tokens leave that role out when they are elsewhere; their other roles still count. Set it on the role's page.</p>
      ${data.roles.length === 0
        ? html`<p>No role has a network rule.</p>`
        : html`<ul class="role-rules">${data.roles.map((r) => html`<li><${Link} href=${path`/roles/${r.role}`}>${roleName(r.role)}<//>: <${Ranges} ranges=${r.ranges} />${r.description ? ` — ${r.description}` : ''}</li>`)}</ul>`}`}
  </section>`;
}

export const nav = { label: 'Sign-in & security', path: '/security', permission: 'caregate.policy:read' };
export const routes = [{ path: '/security', view: Screen }];
