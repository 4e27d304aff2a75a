// Service accounts and API keys (issue 18): the accounts created for integrations (a script, an
// interface engine, a nightly export), each with its roles — given through the assignment routes,
// with the same form as a user's — and its keys: issued with a name, a subset of the account's
// permissions, a required end (at most the tenant's maximum) and a per-minute limit, the value shown
// once with a copy button; listed with state, end, last use and uses per day; rotated with an
// overlap (the new value shown once); revoked after a confirmation. What this person may not do is
// not shown, and the API refuses it anyway.
import { api, path } from '../api.js';
import { navigate } from '../router.js';
import {
  Checkbox, Confirm, Dialog, Empty, Field, Link, Page, Status, Table, can, formatTime, html, loadState, notify, useLoad, useMe, useState, useSubmit,
} from '../ui.js';
import { CopyButton } from './applications.js';
import { RolesTab } from './users.js';

const DAY_MS = 86_400_000;
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** A date input's value `days` from today ("2027-01-04"). */
const dateIn = (days) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
/** The end of the chosen day, in the browser's zone: a key "until 4 Jan" works through 4 Jan. */
const endOf = (date) => new Date(`${date}T23:59`);

/** The tenant's limits on keys (GET /policy when readable; the documented defaults otherwise). */
function useKeyPolicy(me) {
  return useLoad(async () => {
    const policy = can(me, 'caregate.policy:read') ? await api.get('/policy').catch(() => undefined) : undefined;
    return policy?.apiKeys ?? { maxLifetimeDays: 90, defaultRateLimitPerMinute: 600 };
  }, []);
}

// --- the list --------------------------------------------------------------------------------
function AccountList() {
  const me = useMe();
  const loaded = useLoad(() => api.get('/service-accounts'), []);
  const [adding, setAdding] = useState(false);
  const accounts = loaded.data ?? [];
  const mayCreate = can(me, 'caregate.service_accounts:create');
  const add = mayCreate && html`<button type="button" onClick=${() => setAdding(true)}>Add service account</button>`;
  return html`<${Page} title="Service accounts" subtitle="Accounts for integrations that are not applications — a script, an interface engine, a nightly export — and their API keys" actions=${add}>
    ${loadState(loaded, 'service accounts')}
    ${loaded.data && accounts.length === 0 && html`<${Empty} title="No service accounts yet" action=${add}>
      Add one for each integration, give it the roles it needs, then issue it an API key. An application signing people in uses its client secret instead.<//>`}
    ${accounts.length > 0 && html`<${Table} caption="Service accounts" hideCaption head=${['Account', 'Name', 'Keys in use', 'Created']}>
      ${accounts.map((a) => html`<tr>
        <td><${Link} href=${path`/service-accounts/${a.username}`}>${a.username}<//></td><td>${a.displayName ?? ''}</td>
        <td class="num">${a.activeKeys}</td><td>${formatTime(a.createdAt)}</td>
      </tr>`)}
    <//>`}
    ${adding && html`<${AddAccount} onClose=${() => setAdding(false)} />`}
  <//>`;
}

function AddAccount({ onClose }) {
  const [form, setForm] = useState({ username: '', displayName: '' });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const [submit, state] = useSubmit(async () => {
    const created = await api.post('/service-accounts', { username: form.username.trim(), displayName: form.displayName.trim() || undefined });
    navigate(path`/service-accounts/${created.username}`);
    return created;
  }, { success: (a) => `Service account ${a.username} was added. Give it a role, then issue it a key.` });
  const f = state.fields;
  const other = state.error && !f.username && !f.displayName ? state.error.message : undefined;
  return html`<${Dialog} title="Add service account" onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${Field} label="Account name" required hint="Lowercase letters, digits, . - or _; unique among this organisation's users (e.g. warehouse-export)" value=${form.username} onValue=${set('username')} error=${f.username} autocomplete="off" autofocus />
      <${Field} label="Display name" hint="Optional, e.g. Nightly export to the data warehouse" value=${form.displayName} onValue=${set('displayName')} error=${f.displayName} autocomplete="off" />
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy}>${state.busy ? 'Adding…' : 'Add service account'}</button>
      </div>
    </form>
  <//>`;
}

// --- one account -------------------------------------------------------------------------------
function AccountPage({ account: ref }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(path`/users/${ref}`), [ref]);
  const [deleting, setDeleting] = useState(false);
  const back = { href: '/service-accounts', label: 'Service accounts' };
  const account = loaded.data;
  if (!account) return html`<${Page} title=${ref} back=${back}>${loadState(loaded, 'this service account')}<//>`;
  const actions = can(me, 'caregate.service_accounts:delete') && html`<button type="button" class="danger" onClick=${() => setDeleting(true)}>Delete service account</button>`;
  return html`<${Page} title=${account.username} subtitle=${html`Service account${account.displayName && account.displayName !== account.username ? ` · ${account.displayName}` : ''} · <${Status} status=${account.status} />`} back=${back} actions=${actions}>
    <section class="card sa-section" aria-labelledby="sa-roles">
      <h2 id="sa-roles">Roles</h2>
      <p class="hint">What its keys may carry: a key carries some of the permissions these roles give, never more.</p>
      <${RolesTab} user=${account} me=${me} reload=${loaded.reload} />
    </section>
    <${Keys} account=${account} me=${me} />
    ${deleting && html`<${Confirm} title=${`Delete ${account.username}?`} confirmText="Delete service account" typeToConfirm=${account.username}
      message=${`This deletes ${account.username}, revokes every one of its keys (the integration stops at its next request) and ends its roles. It cannot be undone.`}
      onConfirm=${async () => {
        try {
          await api.del(path`/service-accounts/${account.username}`);
          notify('success', `${account.username} was deleted, with its keys and roles.`);
          navigate('/service-accounts');
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setDeleting(false)} />`}
  <//>`;
}

/** Uses per day over 30 days: today's and the total, the days themselves in a disclosure. */
function Uses({ usesPerDay }) {
  const days = Object.entries(usesPerDay ?? {}).filter(([, n]) => n > 0).sort(([a], [b]) => b.localeCompare(a));
  if (!days.length) return html`<span>None in 30 days</span>`;
  const total = days.reduce((sum, [, n]) => sum + n, 0);
  return html`<details class="uses"><summary>${plural(total, 'use')} in 30 days</summary>
    <ul>${days.map(([day, n]) => html`<li><span>${day}</span> <span class="num">${n}</span></li>`)}</ul>
  </details>`;
}

function Keys({ account, me }) {
  const keys = useLoad(() => api.get('/api-keys', { account: account.username }), [account.username]);
  const policy = useKeyPolicy(me);
  const [issuing, setIssuing] = useState(false);
  const [rotating, setRotating] = useState(undefined);
  const [revoking, setRevoking] = useState(undefined);
  const [shown, setShown] = useState(undefined);
  const editable = can(me, 'caregate.service_accounts:edit');
  const list = (keys.data ?? []).slice().sort((a, b) => (a.state === 'revoked') - (b.state === 'revoked') || String(b.createdAt).localeCompare(String(a.createdAt)));
  const live = (k) => k.state === 'active';
  return html`<section class="card sa-section" aria-labelledby="sa-keys">
    <div class="section-header">
      <h2 id="sa-keys">API keys</h2>
      ${editable && html`<button type="button" onClick=${() => setIssuing(true)}>Issue a key</button>`}
    </div>
    <p class="hint">A key is sent as <code>Authorization: Bearer cgk_…</code> to the admin API. Caregate keeps only a keyed hash of it, so a lost key cannot be shown again: rotate it.</p>
    ${loadState(keys, 'keys')}
    ${keys.data && list.length === 0 && html`<p>No keys yet.${editable ? ' Issue one once the account holds a role.' : ''}</p>`}
    ${list.length > 0 && html`<${Table} caption=${`API keys of ${account.username}`} hideCaption head=${['Name', 'State', 'Carries', 'Ends', 'Last used', 'Uses', 'Limit', html`<span class="visually-hidden">Actions</span>`]}>
      ${list.map((k) => html`<tr>
        <td>${k.name}<span class="role-key">owner ${k.owner ?? '—'}</span></td>
        <td><${Status} status=${k.state} /></td>
        <td>${k.permissions.map((p) => html`<code>${p}</code> `)}</td>
        <td>${formatTime(k.expiresAt)}</td>
        <td>${k.lastUsedAt ? formatTime(k.lastUsedAt) : 'Never'}</td>
        <td><${Uses} usesPerDay=${k.usesPerDay} /></td>
        <td class="num">${k.rateLimitPerMinute}/min</td>
        <td class="row-actions">${editable && live(k) && html`
          <button type="button" class="link" aria-label=${`Rotate ${k.name}`} onClick=${() => setRotating(k)}>Rotate</button>
          <button type="button" class="link danger-link" aria-label=${`Revoke ${k.name}`} onClick=${() => setRevoking(k)}>Revoke</button>`}
          ${editable && k.state === 'rotating' && html`<button type="button" class="link danger-link" aria-label=${`Revoke ${k.name} now`} onClick=${() => setRevoking(k)}>Revoke now</button>`}</td>
      </tr>`)}
    <//>`}
    ${issuing && policy.data && html`<${IssueKey} account=${account} me=${me} policy=${policy.data} onClose=${() => setIssuing(false)}
      onIssued=${(issued) => { setIssuing(false); setShown({ issued, title: `${issued.name}: the key — shown once` }); keys.reload(); }} />`}
    ${rotating && policy.data && html`<${RotateKey} apiKey=${rotating} policy=${policy.data} onClose=${() => setRotating(undefined)}
      onRotated=${(issued) => { setRotating(undefined); setShown({ issued, title: `${issued.name}: the new key — shown once` }); keys.reload(); }} />`}
    ${shown && html`<${KeyShownOnce} title=${shown.title} issued=${shown.issued} onClose=${() => setShown(undefined)} />`}
    ${revoking && html`<${Confirm} title=${`Revoke ${revoking.name}?`} confirmText="Revoke key"
      message=${`The next request with this key is refused, on every server. Whatever uses it stops working until it is given a new key. This cannot be undone.`}
      onConfirm=${async () => {
        try {
          await api.del(path`/api-keys/${revoking.id}`);
          notify('success', `${revoking.name} was revoked.`);
          keys.reload();
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setRevoking(undefined)} />`}
  </section>`;
}

/** The value, once: what it is, a copy button, and that it will not be shown again. */
function KeyShownOnce({ title, issued, onClose }) {
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <p class="notice warning"><strong>You will not see this key again.</strong> Copy it now into the integration's configuration or a secret store. Caregate keeps only a keyed hash and cannot show it again; if it is lost, rotate the key.</p>
    <p class="secret-once" data-testid="api-key-value">${issued.key}</p>
    <div class="form-actions"><${CopyButton} text=${issued.key} label="Key" /></div>
    <dl class="facts">
      <dt>Carries</dt><dd>${issued.permissions.join(' ')}</dd>
      <dt>Works until</dt><dd>${formatTime(issued.expiresAt, { withZone: true })}</dd>
      ${issued.previous && html`<dt>The old key</dt><dd>${new Date(issued.previous.expiresAt) > new Date() ? `keeps working until ${formatTime(issued.previous.expiresAt, { withZone: true })}: move the integration to the new key before then` : 'no longer works'}</dd>`}
    </dl>
    <div class="dialog-actions"><button type="button" onClick=${onClose}>I have copied it</button></div>
  <//>`;
}

/** The end date: required, from tomorrow to the tenant's maximum. */
function EndField({ value, onValue, error, policy }) {
  return html`<${Field} label="Works until" type="date" required min=${dateIn(1)} max=${dateIn(policy.maxLifetimeDays)} value=${value} onValue=${onValue} error=${error}
    hint=${`Required: at most ${policy.maxLifetimeDays} days from today (until ${formatTime(new Date(Date.now() + policy.maxLifetimeDays * DAY_MS)).split(',')[0]}), this organisation's maximum.`} />`;
}

function IssueKey({ account, me, policy, onClose, onIssued }) {
  const held = useLoad(() => api.get(path`/users/${account.username}/effective-permissions`), [account.username]);
  const [form, setForm] = useState({ name: '', expiresAt: dateIn(Math.min(30, policy.maxLifetimeDays)), rateLimitPerMinute: '' });
  const [chosen, setChosen] = useState(new Set());
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const [submit, state] = useSubmit(async () => {
    const issued = await api.post(path`/service-accounts/${account.username}/keys`, {
      name: form.name.trim(), permissions: [...chosen].sort(), expiresAt: form.expiresAt ? endOf(form.expiresAt).toISOString() : undefined,
      ...(form.rateLimitPerMinute.trim() ? { rateLimitPerMinute: Number(form.rateLimitPerMinute) } : {}),
    });
    onIssued(issued);
    return issued;
  }, { success: (k) => `The key ${k.name} was issued.` });
  const f = state.fields;
  // What its roles give it, wherever they apply (a token's claims would hold only one application's).
  const permissions = [...new Set((held.data?.grants ?? []).filter((g) => g.inEffect).flatMap((g) => g.permissions))].sort();
  const permissionsError = f.permissions ?? Object.entries(f).find(([k]) => k.startsWith('permissions.'))?.[1];
  const other = state.error && !Object.keys(f).length ? state.error.message : undefined;
  const toggle = (permission, on) => {
    const next = new Set(chosen);
    if (on) next.add(permission);
    else next.delete(permission);
    setChosen(next);
  };
  return html`<${Dialog} title=${`Issue a key for ${account.username}`} onClose=${onClose} wide>
    <form onSubmit=${submit} novalidate>
      <${Field} label="Name" required hint="What the key is for, e.g. nightly export to the data warehouse" value=${form.name} onValue=${set('name')} error=${f.name} autocomplete="off" autofocus />
      <fieldset class=${permissionsError ? 'invalid' : ''}><legend>What the key may do</legend>
        <p class="hint">Some or all of what ${account.username}'s roles give it, and only what you hold yourself.</p>
        ${loadState(held, 'its permissions')}
        ${held.data && permissions.length === 0 && html`<p>${account.username} holds no permission yet: give it a role first.</p>`}
        ${permissions.map((p) => html`<${Checkbox} label=${p} checked=${chosen.has(p)} onValue=${(on) => toggle(p, on)} />`)}
        ${permissionsError && html`<p class="field-error" role="alert">${permissionsError}</p>`}
      </fieldset>
      <div class="form-grid">
        <${EndField} value=${form.expiresAt} onValue=${set('expiresAt')} error=${f.expiresAt} policy=${policy} />
        <${Field} label="Requests per minute" type="number" min="1" max="100000" inputmode="numeric" value=${form.rateLimitPerMinute} onValue=${set('rateLimitPerMinute')} error=${f.rateLimitPerMinute}
          hint=${`Optional: empty is this organisation's default, ${policy.defaultRateLimitPerMinute}. Beyond it, requests are refused for a moment (429).`} />
      </div>
      <p class="hint">You (${me.user?.username}) are recorded as the person responsible for the key.</p>
      ${(other || f.owner) && html`<p class="field-error" role="alert">${f.owner ?? other}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy || !chosen.size}>${state.busy ? 'Issuing…' : 'Issue key'}</button>
      </div>
    </form>
  <//>`;
}

function RotateKey({ apiKey, policy, onClose, onRotated }) {
  const [form, setForm] = useState({ overlapMinutes: '60', expiresAt: dateIn(Math.min(30, policy.maxLifetimeDays)) });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const [submit, state] = useSubmit(async () => {
    const issued = await api.post(path`/api-keys/${apiKey.id}/rotate`, { overlapMinutes: Number(form.overlapMinutes), expiresAt: form.expiresAt ? endOf(form.expiresAt).toISOString() : undefined });
    onRotated(issued);
    return issued;
  }, { success: (k) => `The key ${k.name} was rotated.` });
  const f = state.fields;
  const other = state.error && !Object.keys(f).length ? state.error.message : undefined;
  return html`<${Dialog} title=${`Rotate ${apiKey.name}?`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <p>A new key carrying the same is shown once. The current one keeps working for the overlap you choose, so the integration can move to the new one without a gap.</p>
      <${Field} label="Overlap (minutes)" type="number" min="0" max="10080" inputmode="numeric" value=${form.overlapMinutes} onValue=${set('overlapMinutes')} error=${f.overlapMinutes}
        hint="How long the current key keeps working: 0 ends it now; at most 7 days (10080)." />
      <${EndField} value=${form.expiresAt} onValue=${set('expiresAt')} error=${f.expiresAt} policy=${policy} />
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy}>${state.busy ? 'Rotating…' : 'Rotate key'}</button>
      </div>
    </form>
  <//>`;
}

export const nav = { label: 'Service accounts', path: '/service-accounts', permission: 'caregate.service_accounts:read' };
export const routes = [
  { path: '/service-accounts', view: AccountList },
  { path: '/service-accounts/:account', view: AccountPage },
];
