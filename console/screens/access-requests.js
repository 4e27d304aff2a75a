// Access requests (just-in-time elevation): the requests this person may decide — pending first —
// with Approve and Reject (each with a note), their own requests and what became of them, and "Ask
// for access": a role, where, for how long, why, and whether the grant serves one token only.
// Anyone may ask; deciding needs caregate.access:approve where the role is asked for, and never on
// one's own request (the server refuses it; the page says so beside the request).
import { api, path } from '../api.js';
import { Checkbox, Dialog, Empty, Field, Select, Status, Table, can, formatTime, html, loadState, useLoad, useMe, useState, useSubmit } from '../ui.js';
import { TextArea } from './upstream.js';
import { AccessPage, DialogEnd, FormError, ScopePicker, minutesText, namesFrom, toScope, useCatalogues } from './access-common.js';

const STATUS_WORDS = { pending: 'pending', granted: 'granted', rejected: 'rejected', expired: 'lapsed' };
const newestFirst = (a, b) => String(b.createdAt).localeCompare(String(a.createdAt));
const pendingFirst = (a, b) => (a.status === 'pending') !== (b.status === 'pending') ? (a.status === 'pending' ? -1 : 1) : newestFirst(a, b);

export function AccessRequests() {
  const me = useMe();
  // What a person may ask for, by name, whatever they may read; should it fail to load, the
  // catalogues this person can read name what they can (and the failure is said).
  const choices = useLoad(() => api.get('/access-requests/choices'), []);
  const readable = useCatalogues(me).data;
  const catalogues = choices.data
    ? { roles: choices.data.roles, locations: choices.data.locations, institutions: choices.data.institutions, apps: choices.data.applications }
    : choices.error ? readable : undefined;
  const names = namesFrom(catalogues);
  const requests = useLoad(() => api.get('/access-requests'), []);
  const all = requests.data ?? [];
  const mine = all.filter((r) => r.userId === me.user?.id).sort(newestFirst);
  const others = all.filter((r) => r.userId !== me.user?.id).sort(pendingFirst);
  return html`<${AccessPage} me=${me} current="/access/requests" title="Access requests"
    subtitle="Temporary access asked for with a reason and granted by an approver; the grant ends by itself.">
    ${loadState(requests, 'the access requests')}
    ${loadState(choices, 'what you may ask for')}
    ${requests.data && can(me, 'caregate.access:approve') && html`<${ToDecide} rows=${others} names=${names} reload=${requests.reload} />`}
    ${requests.data && html`<${Mine} rows=${mine} names=${names} mayApprove=${can(me, 'caregate.access:approve')} />`}
    <${AskForAccess} catalogues=${catalogues} maxMinutes=${choices.data?.maxMinutes} onDone=${requests.reload} />
  <//>`;
}

function ToDecide({ rows, names, reload }) {
  const [deciding, setDeciding] = useState(undefined);
  const pending = rows.filter((r) => r.status === 'pending').length;
  return html`<section class="card" aria-labelledby="req-decide">
    <h2 id="req-decide">Requests to decide${pending ? ` (${pending} pending)` : ''}</h2>
    ${rows.length === 0 && html`<${Empty} title="No requests to decide">When someone asks for a role where you may approve it, their request appears here and you are emailed. Requests nobody decides lapse after 24 hours.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Requests to decide" hideCaption head=${['Asked', 'Who', 'Role', 'Where', 'For', 'Reason', 'Status', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((r) => html`<tr>
        <td>${formatTime(r.createdAt)}</td><td>${r.user}</td><td>${names.roleOf(r)}</td><td>${names.scope(r)}</td>
        <td>${minutesText(r.minutes)}${r.oneTime ? html`<span class="review-note">one token only</span>` : ''}</td><td class="reason">${r.reason}</td>
        <td><${Status} status=${STATUS_WORDS[r.status] ?? r.status} />${r.decisionNote && html`<span class="review-note">${r.decisionNote}</span>`}</td>
        <td>${r.status === 'pending' && html`<div class="decision-buttons">
          <button type="button" class="secondary" aria-label=${`Approve ${r.user}'s request for ${names.roleOf(r)}`} onClick=${() => setDeciding({ r, verb: 'approve' })}>Approve</button>
          <button type="button" class="secondary" aria-label=${`Reject ${r.user}'s request for ${names.roleOf(r)}`} onClick=${() => setDeciding({ r, verb: 'reject' })}>Reject</button>
        </div>`}</td>
      </tr>`)}
    <//>`}
    ${deciding && html`<${DecideDialog} ...${deciding} names=${names} onClose=${() => setDeciding(undefined)} onDone=${reload} />`}
  </section>`;
}

function DecideDialog({ r, verb, names, onClose, onDone }) {
  const [note, setNote] = useState('');
  const approve = verb === 'approve';
  const [submit, state] = useSubmit(async () => {
    const result = await api.post(path`/access-requests/${r.id}/${verb}`, note.trim() ? { note: note.trim() } : {});
    onDone();
    onClose();
    return result;
  }, { success: approve ? `${r.user} holds ${names.roleOf(r)} now, for ${minutesText(r.minutes)}.` : `${r.user}'s request was rejected; they are told.` });
  return html`<${Dialog} title=${approve ? `Approve ${r.user}'s request?` : `Reject ${r.user}'s request?`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <p>${approve ? `${r.user} gets ${names.roleOf(r)} (${names.scope(r)}) for ${minutesText(r.minutes)}${r.oneTime ? ', for one token only' : ''}, from now.` : `${r.user} does not get ${names.roleOf(r)} (${names.scope(r)}).`}</p>
      <p class="hint">Their reason: ${r.reason}</p>
      <${TextArea} label="Note to the requester (optional)" value=${note} onValue=${setNote} error=${state.fields.note} />
      <${DialogEnd} state=${state} onClose=${onClose} label=${approve ? 'Approve' : 'Reject request'} busyLabel="Working…" danger=${!approve} />
    </form>
  <//>`;
}

function Mine({ rows, names, mayApprove }) {
  return html`<section class="card" aria-labelledby="req-mine">
    <h2 id="req-mine">Your requests</h2>
    ${rows.length === 0 && html`<p>You have asked for no access. Use the form below when your work needs a role for a while.</p>`}
    ${rows.length > 0 && html`<${Table} caption="Your requests" hideCaption head=${['Asked', 'Role', 'Where', 'For', 'Reason', 'Status', 'Ends']}>
      ${rows.map((r) => html`<tr>
        <td>${formatTime(r.createdAt)}</td><td>${names.roleOf(r)}</td><td>${names.scope(r)}</td><td>${minutesText(r.minutes)}</td><td class="reason">${r.reason}</td>
        <td><${Status} status=${STATUS_WORDS[r.status] ?? r.status} />
          ${r.status === 'pending' && html`<span class="review-note">${mayApprove ? 'Another approver decides it: nobody approves their own request.' : 'Waiting for an approver.'}</span>`}
          ${r.decisionNote && html`<span class="review-note">${r.decisionNote}</span>`}</td>
        <td>${formatTime(r.grantEndsAt)}</td>
      </tr>`)}
    <//>`}
  </section>`;
}

function AskForAccess({ catalogues, maxMinutes, onDone }) {
  const [form, setForm] = useState({ role: '', where: 'tenant', minutes: '60', reason: '', oneTime: false });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const roles = (catalogues?.roles ?? []).filter((r) => r.mayAsk !== false);
  const phiOnly = (catalogues?.roles ?? []).filter((r) => r.mayAsk === false);
  const [submit, state] = useSubmit(async () => {
    const created = await api.post('/access-requests', { role: form.role.trim(), scope: toScope(form.where), minutes: Number(form.minutes), reason: form.reason, oneTime: form.oneTime });
    setForm({ ...form, reason: '', oneTime: false });
    onDone();
    return created;
  }, { success: 'Your request was sent; approvers are emailed.' });
  const f = state.fields;
  return html`<form class="card" onSubmit=${submit} novalidate aria-labelledby="req-ask">
    <h2 id="req-ask">Ask for access</h2>
    <div class="form-grid">
      <${Select} label="Role" value=${form.role} onValue=${set('role')} error=${f.role}
        hint=${phiOnly.length ? `Not offered: ${phiOnly.length === 1 ? 'one role that needs' : `${phiOnly.length} roles that need`} the PHI flag, which you do not have.` : undefined}
        options=${[['', catalogues ? 'Choose a role' : 'Loading the roles…'], ...roles.map((r) => [r.key, `${r.name}${r.requiresPhi ? ' (requires PHI)' : ''}`])]} />
      <${ScopePicker} catalogues=${catalogues} value=${form.where} onValue=${set('where')} error=${f.scope} />
      <${Field} label="For how long (minutes)" type="number" min="1" max=${maxMinutes} value=${form.minutes} onValue=${set('minutes')} error=${f.minutes}
        hint=${`The grant ends by itself after this, counted from the approval${maxMinutes ? `; at most ${minutesText(maxMinutes)}` : ''}`} />
    </div>
    <${TextArea} label="Reason" hint="Approvers read it; so do auditors" value=${form.reason} onValue=${set('reason')} error=${f.reason} />
    <${Checkbox} label="For one use only" hint="The grant is used up by the first sign-in token issued with it" checked=${form.oneTime} onValue=${set('oneTime')} />
    <${FormError} state=${state} />
    <div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Sending…' : 'Ask for access'}</button></div>
  </form>`;
}
