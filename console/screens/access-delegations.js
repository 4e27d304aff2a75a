// Delegations ("Acting Manager"): who acts for whom, with which role (or which of its permissions),
// where and until when — running and scheduled ones, ended ones on request — at the scopes this
// person reads; delegating someone's role on their behalf (the API requires that the administrator
// could grant that role there themselves), and ending one early, after a confirmation.
import { api, path } from '../api.js';
import { Checkbox, Confirm, Empty, Field, Select, Status, Table, can, formatTime, html, loadState, timeZone, useLoad, useMe, useState, useSubmit } from '../ui.js';
import { TextArea } from './upstream.js';
import { AccessPage, FormError, confirmed, fromZonedInput, namesFrom, useCatalogues } from './access-common.js';

const NOT_DELEGABLE = new Set(['delegation', 'elevation', 'break-glass']);

export function Delegations() {
  const me = useMe();
  const catalogues = useCatalogues(me).data;
  const names = namesFrom(catalogues);
  const [withEnded, setWithEnded] = useState(false);
  const list = useLoad(() => api.get('/delegations', { ended: withEnded ? 'true' : undefined }), [withEnded]);
  const [ending, setEnding] = useState(undefined);
  const rows = list.data ?? [];
  const mayCreate = can(me, 'caregate.assignments:create');
  const what = (d) => (d.permissions ? d.permissions.join(', ') : 'The whole role');
  return html`<${AccessPage} me=${me} current="/access/delegations" title="Delegations"
    subtitle="A person's role passed to a colleague for a while — an acting manager — without changing either person's own roles. It ends by itself.">
    <section class="card" aria-labelledby="del-list">
      <h2 id="del-list">Who acts for whom</h2>
      <${Checkbox} label="Show ended delegations too" checked=${withEnded} onValue=${setWithEnded} />
      ${loadState(list, 'the delegations')}
      ${list.data && rows.length === 0 && html`<${Empty} title=${withEnded ? 'No delegations' : 'No delegations running or scheduled'}>
        When a manager goes on leave, delegate their role to the colleague who stands in${mayCreate ? ' with the form below' : ''}; people can also delegate their own roles from their account page.<//>`}
      ${rows.length > 0 && html`<${Table} caption="Delegations" hideCaption head=${['Acting', 'For', 'Role', 'What', 'Where', 'From', 'Until', 'Status', html`<span class="visually-hidden">Actions</span>`]}>
        ${rows.map((d) => html`<tr>
          <td>${d.delegate.username}</td><td>${d.delegator.username}</td><td>${names.roleOf(d)}</td><td class="reason">${what(d)}</td><td>${names.scope(d.scope)}</td>
          <td>${formatTime(d.startsAt)}</td><td>${formatTime(d.expiresAt)}</td><td><${Status} status=${d.status} /></td>
          <td>${d.status !== 'ended' && can(me, 'caregate.assignments:delete') && html`<button type="button" class="link" aria-label=${`End now: ${d.delegate.username} acting for ${d.delegator.username}`} onClick=${() => setEnding(d)}>End now</button>`}</td>
        </tr>`)}
      <//>`}
    </section>
    ${mayCreate && html`<${Delegate} catalogues=${catalogues} names=${names} onDone=${list.reload} />`}
    ${ending && html`<${Confirm} title="End this delegation now?" confirmText="End delegation"
      message=${`${ending.delegate.username} stops acting for ${ending.delegator.username} as ${names.roleOf(ending)} now: tokens issued from now on no longer carry it. It stays listed as ended.`}
      onConfirm=${confirmed(() => api.del(path`/delegations/${ending.id}`), `${ending.delegate.username}'s delegation ended.`, list.reload)}
      onClose=${() => setEnding(undefined)} />`}
  <//>`;
}

function Delegate({ catalogues, names, onDone }) {
  const [delegator, setDelegator] = useState('');
  const [found, setFound] = useState(undefined);
  const [form, setForm] = useState({ assignment: '', some: false, permissions: [], delegate: '', startsAt: '', expiresAt: '', reason: '' });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const [look, lookState] = useSubmit(async () => {
    const rows = await api.get(path`/users/${delegator.trim()}/assignments`);
    const now = Date.now();
    const delegable = rows.filter((a) => a.userId && !NOT_DELEGABLE.has(a.origin) && (!a.expiresAt || new Date(a.expiresAt).getTime() > now));
    setFound({ username: delegator.trim(), rows: delegable });
    setForm({ ...form, assignment: delegable[0]?.id ?? '', permissions: [] });
  });
  const source = found?.rows.find((a) => a.id === form.assignment);
  const carried = catalogues?.roles.find((r) => r.id === source?.roleId)?.effectivePermissions ?? [];
  const [submit, state] = useSubmit(async () => {
    if (!form.expiresAt) {
      const error = new Error('Choose when the delegation ends.');
      error.fields = { expiresAt: 'Choose when it ends.' };
      throw error;
    }
    const created = await api.post('/delegations', {
      assignment: form.assignment, delegate: form.delegate.trim(), expiresAt: fromZonedInput(form.expiresAt),
      ...(form.startsAt ? { startsAt: fromZonedInput(form.startsAt) } : {}), ...(form.some && carried.length ? { permissions: form.permissions } : {}), ...(form.reason.trim() ? { reason: form.reason.trim() } : {}),
    });
    setForm({ ...form, delegate: '', startsAt: '', expiresAt: '', reason: '' });
    onDone();
    return created;
  }, { success: (d) => `${d.delegate.username} acts for ${d.delegator.username} as ${names.roleOf(d)} until ${formatTime(d.expiresAt)}.` });
  const toggle = (permission) => (on) => set('permissions')(on ? [...form.permissions, permission] : form.permissions.filter((p) => p !== permission));
  const f = state.fields;
  const zone = `on the organisation's clock (${timeZone()})`;
  return html`<section class="card" aria-labelledby="del-new">
    <h2 id="del-new">Delegate someone's role</h2>
    <form class="add-row" onSubmit=${look} novalidate>
      <${Field} label="Whose role (username)" value=${delegator} onValue=${setDelegator} error=${lookState.error?.message} autocomplete="off" />
      <button type="submit" class="secondary" disabled=${!delegator.trim() || lookState.busy}>${lookState.busy ? 'Looking…' : 'Show their roles'}</button>
    </form>
    ${found && found.rows.length === 0 && html`<p>${found.username} holds no role of their own that can be delegated (a delegation, an approved request or emergency access is never passed on).</p>`}
    ${found && found.rows.length > 0 && html`<form onSubmit=${submit} novalidate>
      <div class="form-grid">
        <${Select} label=${`${found.username}'s role to pass on`} value=${form.assignment} onValue=${(v) => setForm({ ...form, assignment: v, permissions: [] })} error=${f.assignment}
          options=${found.rows.map((a) => [a.id, `${a.roleName ?? names.role(a.roleId)} — ${names.scope(a)}${a.expiresAt ? ` (until ${formatTime(a.expiresAt)})` : ''}`])} />
        <${Field} label="To (username)" hint="The colleague who acts for them" value=${form.delegate} onValue=${set('delegate')} error=${f.delegate} autocomplete="off" />
        <${Field} label="From" type="datetime-local" hint=${`Empty: now; ${zone}`} value=${form.startsAt} onValue=${set('startsAt')} error=${f.startsAt} />
        <${Field} label="Until" type="datetime-local" hint=${`It ends by itself then; ${zone}`} value=${form.expiresAt} onValue=${set('expiresAt')} error=${f.expiresAt} required />
      </div>
      <fieldset>
        <legend>What is passed on</legend>
        <div class="check"><input type="radio" name="del-what" id="del-whole" checked=${!form.some} onChange=${() => set('some')(false)} /><label for="del-whole">The whole role</label></div>
        ${carried.length > 0 && html`<div class="check"><input type="radio" name="del-what" id="del-some" checked=${form.some} onChange=${() => set('some')(true)} /><label for="del-some">Only some of its permissions</label></div>`}
        ${form.some && carried.length > 0 && html`<div class="check-columns">${carried.map((p) => html`<${Checkbox} label=${p} checked=${form.permissions.includes(p)} onValue=${toggle(p)} />`)}</div>`}
        ${f.permissions && html`<p class="field-error">${f.permissions}</p>`}
      </fieldset>
      <${TextArea} label="Reason (optional)" hint="For the activity log" value=${form.reason} onValue=${set('reason')} error=${f.reason} />
      <${FormError} state=${state} />
      <div class="form-actions"><button type="submit" disabled=${state.busy || !form.assignment || (form.some && carried.length > 0 && !form.permissions.length)}>${state.busy ? 'Delegating…' : 'Delegate'}</button></div>
    </form>`}
  </section>`;
}
