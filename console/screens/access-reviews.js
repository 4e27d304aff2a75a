// Access reviews: the campaigns this person runs or reviews in, with how far each has come; starting
// one (whose access, the deadline, what happens then to what nobody decided, when people count as
// unused); and a campaign's page — the items this person may decide (never their own), each
// certified or revoked with a note, people unused for the campaign's N days highlighted — with Close
// and the CSV report for auditors for those who run it.
import { api, path } from '../api.js';
import { navigate } from '../router.js';
import { Confirm, Dialog, Empty, Field, Link, Select, Status, Table, can, formatTime, html, loadState, notify, timeZone, useLoad, useMe, useState, useSubmit } from '../ui.js';
import { AccessPage, DialogEnd, ScopePicker, confirmed, fromZonedInput, namesFrom, toScope, toZonedInput, useCatalogues } from './access-common.js';

const MANAGE = 'caregate.reviews:manage';
const AT_DEADLINE = { flag: 'Flagged for follow-up', revoke: 'Revoked' };

function Progress({ c }) {
  if (c.items === undefined) return '';
  const decided = c.items - c.undecided;
  return html`<progress value=${decided} max=${c.items || 1} aria-label=${`${c.name}: ${decided} of ${c.items} decided`}></progress>
    <span class="progress-text">${decided} of ${c.items} decided</span>`;
}

export function Campaigns() {
  const me = useMe();
  const catalogues = useCatalogues(me).data;
  const names = namesFrom(catalogues);
  const list = useLoad(() => api.get('/access-reviews'), []);
  const [starting, setStarting] = useState(false);
  const rows = list.data ?? [];
  const mayStart = can(me, MANAGE);
  return html`<${AccessPage} me=${me} current="/access/reviews" title="Access reviews"
    subtitle="Campaigns in which reviewers certify or revoke what each person holds, with a report for auditors."
    actions=${mayStart && rows.length > 0 && html`<button type="button" onClick=${() => setStarting(true)}>Start a campaign</button>`}>
    ${loadState(list, 'the campaigns')}
    ${list.data && rows.length === 0 && html`<${Empty} title="No access reviews yet" action=${mayStart && html`<button type="button" onClick=${() => setStarting(true)}>Start a campaign</button>`}>
      A campaign lists what each person holds — roles, delegations, temporary grants, API keys — for their reviewers to certify or revoke by a deadline. Start one for the whole organisation or a location, every quarter.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Access review campaigns" hideCaption head=${['Campaign', 'Whose access', 'Deadline', 'Progress', 'Unused', 'Status']}>
      ${rows.map((c) => html`<tr>
        <td><${Link} href=${path`/access/reviews/${c.id}`}>${c.name}<//></td><td>${names.scope(c.scope)}</td><td>${formatTime(c.deadline)}</td>
        <td class="progress-cell"><${Progress} c=${c} /></td><td class="num">${c.unused ?? ''}</td><td><${Status} status=${c.status} /></td>
      </tr>`)}
    <//>`}
    ${starting && html`<${StartDialog} catalogues=${catalogues} onClose=${() => setStarting(false)} onDone=${(c) => navigate(path`/access/reviews/${c.id}`)} />`}
  <//>`;
}

function StartDialog({ catalogues, onClose, onDone }) {
  const inAMonth = toZonedInput(Date.now() + 30 * 86_400_000).slice(0, 11) + '17:00';
  const [form, setForm] = useState({ name: '', where: 'tenant', deadline: inAMonth, onDeadline: 'flag', unusedDays: '90', recurrenceMonths: '', remindDays: '7' });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const [submit, state] = useSubmit(async () => {
    const campaign = await api.post('/access-reviews', {
      name: form.name.trim(), scope: toScope(form.where), deadline: fromZonedInput(form.deadline), onDeadline: form.onDeadline,
      unusedDays: Number(form.unusedDays), remindDays: Number(form.remindDays), ...(form.recurrenceMonths ? { recurrenceMonths: Number(form.recurrenceMonths) } : {}),
    });
    onClose();
    onDone(campaign);
    return campaign;
  }, { success: (c) => `${c.name} started with ${c.items} ${c.items === 1 ? 'item' : 'items'} to review.` });
  const f = state.fields;
  return html`<${Dialog} title="Start an access review" onClose=${onClose} wide>
    <form onSubmit=${submit} novalidate>
      <div class="form-grid">
        <${Field} label="Name" hint="What auditors will read: Q1 2027 review, Northside" value=${form.name} onValue=${set('name')} error=${f.name} required autocomplete="off" />
        <${ScopePicker} catalogues=${catalogues} types=${['location', 'institution']} label="Whose access" hint="Everyone, or the people with a role at a location (or below it) or an institution"
          value=${form.where} onValue=${set('where')} error=${f.scope} />
        <${Field} label="Deadline" type="datetime-local" hint=${`On the organisation's clock (${timeZone()})`} value=${form.deadline} onValue=${set('deadline')} error=${f.deadline} required />
        <${Field} label="Highlight people unused for (days)" type="number" min="1" max="3650" hint="Not signed in, or keys not used, for this long" value=${form.unusedDays} onValue=${set('unusedDays')} error=${f.unusedDays} />
        <${Select} label="Repeat" value=${form.recurrenceMonths} onValue=${set('recurrenceMonths')} error=${f.recurrenceMonths}
          options=${[['', 'Once'], ['3', 'Every 3 months (quarterly)'], ['6', 'Every 6 months'], ['12', 'Every year']]} hint="The next campaign starts when this one closes" />
        <${Field} label="Remind reviewers from (days before the deadline)" type="number" min="0" max="90" value=${form.remindDays} onValue=${set('remindDays')} error=${f.remindDays} />
      </div>
      <fieldset>
        <legend>At the deadline, what nobody decided is</legend>
        ${Object.entries({ flag: 'Flagged for follow-up (the access stays)', revoke: 'Revoked (the access ends)' }).map(([value, text]) => html`<div class="check">
          <input type="radio" name="on-deadline" id=${`on-deadline-${value}`} checked=${form.onDeadline === value} onChange=${() => set('onDeadline')(value)} />
          <label for=${`on-deadline-${value}`}>${text}</label></div>`)}
      </fieldset>
      <${DialogEnd} state=${state} onClose=${onClose} label="Start campaign" busyLabel="Starting…" />
    </form>
  <//>`;
}

// --- a campaign --------------------------------------------------------------------------------
const ORIGINS = { direct: 'Directly', delegation: 'Delegated to them', elevation: 'Approved request', 'break-glass': 'Emergency access' };
function originText(origin) {
  if (origin.startsWith('team:')) return `Through team ${origin.slice(5)}`;
  if (origin.startsWith('api_key:')) return `API key of ${origin.slice(8)}`;
  return ORIGINS[origin] ?? origin;
}
const accessText = (item, names) => (item.kind === 'api_key' ? `API key "${item.role.replace(/^key:/, '')}"` : item.roleName ?? names.role(item.role));
function placeText(item, names) {
  if (item.kind === 'api_key') return item.scope || '—';
  const at = item.scope.indexOf(':');
  return at < 0 ? 'Everywhere' : names.scope({ type: item.scope.slice(0, at), key: item.scope.slice(at + 1) });
}

export function Campaign({ campaign: id }) {
  const me = useMe();
  const names = namesFrom(useCatalogues(me).data);
  const loaded = useLoad(() => api.get(path`/access-reviews/${id}/my-items`), [id]);
  const [closing, setClosing] = useState(false);
  const [busy, setBusy] = useState(false);
  const c = loaded.data?.campaign;
  const back = { href: '/access/reviews', label: 'Access reviews' };
  if (!c) return html`<${AccessPage} me=${me} current="/access/reviews" title="Access review" back=${back}>${loadState(loaded, 'this campaign')}<//>`;
  const manage = can(me, MANAGE);
  const download = async () => {
    setBusy(true);
    try {
      const url = URL.createObjectURL(await api.blob(path`/access-reviews/${c.id}/report`, {}));
      const link = document.createElement('a');
      link.href = url;
      link.download = `access-review-${c.id}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      notify('success', 'The report was downloaded.');
    } catch (error) {
      notify('error', `Could not download the report: ${error.message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<${AccessPage} me=${me} current="/access/reviews" title=${c.name} back=${back}
    actions=${manage && html`<button type="button" class="secondary" disabled=${busy} onClick=${download}>${busy ? 'Downloading…' : 'Download report (CSV)'}</button>
      ${c.status === 'open' && html`<button type="button" class="danger" onClick=${() => setClosing(true)}>Close campaign</button>`}`}>
    <dl class="facts card">
      <dt>Whose access</dt><dd>${names.scope(c.scope)}</dd>
      <dt>Deadline</dt><dd>${formatTime(c.deadline, { withZone: true })}</dd>
      <dt>At the deadline</dt><dd>What nobody decided is ${AT_DEADLINE[c.onDeadline].toLowerCase()}</dd>
      <dt>Repeats</dt><dd>${c.recurrenceMonths ? `Every ${c.recurrenceMonths} months` : 'No'}</dd>
      <dt>Status</dt><dd><${Status} status=${c.status} />${c.closedAt ? ` ${formatTime(c.closedAt)}` : ''}</dd>
    </dl>
    <${Items} campaign=${c} items=${loaded.data.items} names=${names} reload=${loaded.reload} />
    ${closing && html`<${Confirm} title=${`Close ${c.name} now?`} confirmText="Close campaign"
      message=${`What nobody has decided is ${c.onDeadline === 'revoke' ? 'revoked now — that access ends' : 'flagged for follow-up'}, as at the deadline.${c.recurrenceMonths ? ' The next campaign starts.' : ''} Decisions can no longer be made.`}
      onConfirm=${confirmed(() => api.post(path`/access-reviews/${c.id}/close`), `${c.name} is closed.`, loaded.reload)} onClose=${() => setClosing(false)} />`}
  <//>`;
}

function Items({ campaign, items, names, reload }) {
  const [notes, setNotes] = useState({});
  const [revoking, setRevoking] = useState(undefined);
  const open = campaign.status === 'open';
  const rows = [...items].sort((a, b) => Number(Boolean(a.decision)) - Number(Boolean(b.decision)) || Number(b.unused) - Number(a.unused) || names.person(a.username).localeCompare(names.person(b.username)));
  const undecided = items.filter((i) => !i.decision).length;
  const decide = (item, decision) => api.post(path`/access-reviews/${campaign.id}/items/${item.id}/decision`, { decision, ...(notes[item.id]?.trim() ? { note: notes[item.id].trim() } : {}) });
  const certify = (item) => confirmed(() => decide(item, 'certify'), `${names.person(item.username)}: ${accessText(item, names)} certified.`, reload)();
  const label = (item) => `${names.person(item.username)}, ${accessText(item, names)} (${placeText(item, names)})`;
  return html`<section aria-labelledby="review-items">
    <h2 id="review-items">Your items${items.length ? ` — ${undecided} of ${items.length} to decide` : ''}</h2>
    ${items.length === 0 && html`<${Empty} title="Nothing for you to review here">Items appear for the people you may manage at the campaign's scope. Your own access is reviewed by someone else.<//>`}
    ${items.length > 0 && html`<p class="hint">People not signed in (keys not used) for ${campaign.unusedDays} days or more are highlighted: ask whether they still need the access.</p>
      <${Table} caption="Items to review" hideCaption head=${['Person', 'Access', 'Where', 'How they hold it', 'Last sign-in', 'Last used', 'Decision']}>
      ${rows.map((item) => html`<tr class=${item.unused ? 'unused' : ''}>
        <td>${names.person(item.username)}${item.unused && html`<span class="badge unused-badge">Unused ${campaign.unusedDays}+ days</span>`}</td>
        <td>${accessText(item, names)}</td><td class="reason">${placeText(item, names)}</td><td>${originText(item.origin)}</td>
        <td>${formatTime(item.lastSignInAt)}</td><td>${item.kind === 'api_key' ? formatTime(item.lastUsedAt) : '—'}</td>
        <td>${item.decision
          ? html`<span class=${`badge decision-${item.decision}`}>${{ certified: 'Certified', revoked: 'Revoked', flagged: 'Flagged' }[item.decision] ?? item.decision}</span>${item.note && html`<span class="review-note">${item.note}</span>`}`
          : open ? html`<div class="decide">
            <input type="text" class="note-input" aria-label=${`Note on ${label(item)}`} placeholder="Note (optional)" value=${notes[item.id] ?? ''} onInput=${(e) => setNotes({ ...notes, [item.id]: e.currentTarget.value })} />
            <div class="decision-buttons">
              <button type="button" class="secondary" aria-label=${`Certify ${label(item)}`} onClick=${() => certify(item)}>Certify</button>
              <button type="button" class="danger" aria-label=${`Revoke ${label(item)}`} onClick=${() => setRevoking(item)}>Revoke</button>
            </div></div>` : 'Not decided'}</td>
      </tr>`)}
    <//>`}
    ${revoking && html`<${Confirm} title=${`Revoke ${accessText(revoking, names)} from ${names.person(revoking.username)}?`} confirmText="Revoke"
      message=${`${names.person(revoking.username)} loses ${accessText(revoking, names)} (${placeText(revoking, names)}) now${revoking.origin.startsWith('team:') ? `, by leaving team ${revoking.origin.slice(5)}` : ''}. The decision${notes[revoking.id]?.trim() ? ' and your note' : ''} go into the report.`}
      onConfirm=${confirmed(() => decide(revoking, 'revoke'), `${names.person(revoking.username)}: ${accessText(revoking, names)} revoked.`, reload)} onClose=${() => setRevoking(undefined)} />`}
  </section>`;
}
