// Emergency access (break-glass): each use, newest first, with its review ("justified" or "not
// justified", with a note — recorded by someone other than the person who used it, which the server
// enforces and this page shows when it refuses), the rules that say who may take which role where
// and for how long, and the tenant's settings (the longest grant, the signed webhook). Uses need
// caregate.access:review; rules and settings the policy permissions.
import { api, path } from '../api.js';
import { Checkbox, Confirm, Dialog, Empty, Field, Select, Table, can, formatTime, html, loadState, useLoad, useMe, useState, useSubmit } from '../ui.js';
import { TextArea, splitList } from './upstream.js';
import { AccessPage, DialogEnd, FormError, ScopePicker, confirmed, minutesText, namesFrom, toScope, useCatalogues } from './access-common.js';

const OUTCOMES = { justified: 'Justified', not_justified: 'Not justified' };

export function EmergencyAccess() {
  const me = useMe();
  const catalogues = useCatalogues(me).data;
  const names = namesFrom(catalogues);
  const settings = useLoad(() => (can(me, 'caregate.policy:read') ? api.get('/emergency-access/settings') : Promise.resolve(null)), []);
  return html`<${AccessPage} me=${me} current="/access/emergency" title="Emergency access"
    subtitle=${html`Who may take a role in an emergency, and the review of every use. People use it from their account page (<code>/t/${document.body.dataset.tenant}/account/emergency</code>) after signing in again.`}>
    ${can(me, 'caregate.access:review') && html`<${Uses} names=${names} />`}
    ${can(me, 'caregate.policy:read') && html`<${Rules} me=${me} catalogues=${catalogues} names=${names} maxMinutes=${settings.data?.maxMinutes} />`}
    ${can(me, 'caregate.policy:read') && (settings.data ? html`<${Settings} initial=${settings.data} catalogues=${catalogues} editable=${can(me, 'caregate.policy:edit', { tenantWide: true })} onSaved=${settings.reload} />` : loadState(settings, 'the emergency access settings'))}
  <//>`;
}

// --- uses and their reviews -------------------------------------------------------------------
function Uses({ names }) {
  const [awaiting, setAwaiting] = useState(false);
  const uses = useLoad(() => api.get('/emergency-access/uses', { unreviewed: awaiting ? 'true' : undefined }), [awaiting]);
  const [reviewing, setReviewing] = useState(undefined);
  const [deciding, setDeciding] = useState(undefined);
  const rows = uses.data ?? [];
  return html`<section class="card" aria-labelledby="bg-uses">
    <h2 id="bg-uses">Uses</h2>
    <p class="hint">Every use of emergency access, newest first. A reviewer who holds the rule's reviewer role, and is not the person who used it, records whether it was justified.</p>
    <${Checkbox} label="Only uses awaiting review" checked=${awaiting} onValue=${setAwaiting} />
    ${loadState(uses, 'the uses of emergency access')}
    ${uses.data && rows.length === 0 && (awaiting
      ? html`<${Empty} title="Nothing awaits review">Every use has been reviewed. A new use appears here at once, and its reviewers are emailed.<//>`
      : html`<${Empty} title="Emergency access has not been used">When someone a rule below names uses emergency access, the use appears here for a reviewer, who is also emailed.<//>`)}
    ${rows.length > 0 && html`<${Table} caption="Uses of emergency access" hideCaption head=${['Started', 'Who', 'Role', 'Where', 'Reason', 'Ends', 'Review', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((u) => html`<tr class=${u.reviewOutcome ? '' : 'awaiting-review'}>
        <td>${formatTime(u.createdAt)}</td><td>${u.user}</td><td>${names.roleOf(u)}</td><td>${names.scope(u)}</td>
        <td class="reason">${u.reason}</td><td>${formatTime(u.grantEndsAt)}</td>
        <td>${u.status === 'pending' ? html`<span class="badge review-awaiting">Awaiting approval (${u.approvals?.filter((a) => a.approvedBy).length ?? 0} of ${u.approvalsRequired})</span>`
          : u.status === 'rejected' ? html`<span class="badge review-not_justified">Refused</span>`
          : u.status === 'expired' ? html`<span class="badge">Lapsed</span>`
          : u.reviewOutcome
          ? html`<span class=${`badge review-${u.reviewOutcome}`}>${OUTCOMES[u.reviewOutcome]}</span>${u.reviewNote && html`<span class="review-note">${u.reviewNote}</span>`}<span class="review-note">${formatTime(u.reviewedAt)}</span>`
          : html`<span class="badge review-awaiting">Awaiting review</span>`}</td>
        <td>${u.status === 'pending'
          ? html`<span class="decision-buttons"><button type="button" class="secondary" aria-label=${`Approve ${u.user}'s use of ${names.roleOf(u)}`} onClick=${() => setDeciding({ use: u, verb: 'approve' })}>Approve</button>
              <button type="button" class="danger" aria-label=${`Refuse ${u.user}'s use of ${names.roleOf(u)}`} onClick=${() => setDeciding({ use: u, verb: 'reject' })}>Refuse</button></span>`
          : u.status === 'granted' && !u.reviewOutcome && html`<button type="button" class="secondary" aria-label=${`Review ${u.user}'s use of ${names.roleOf(u)}`} onClick=${() => setReviewing(u)}>Review</button>`}</td>
      </tr>`)}
    <//>`}
    ${reviewing && html`<${ReviewDialog} use=${reviewing} names=${names} onClose=${() => setReviewing(undefined)} onDone=${uses.reload} />`}
    ${deciding && html`<${ApprovalDialog} use=${deciding.use} verb=${deciding.verb} names=${names} onClose=${() => setDeciding(undefined)} onDone=${uses.reload} />`}
  </section>`;
}

/** Approving or refusing a use that waits for other people (a two-person rule); the server checks who may. */
function ApprovalDialog({ use, verb, names, onClose, onDone }) {
  const [note, setNote] = useState('');
  const [submit, state] = useSubmit(async () => {
    const result = await api.post(path`/emergency-access/uses/${use.id}/${verb}`, note.trim() ? { note: note.trim() } : {});
    onDone();
    onClose();
    return result;
  }, { success: (r) => (verb === 'reject' ? `${use.user}'s emergency access was refused.` : r.status === 'granted' ? `${use.user} now holds ${names.roleOf(use)}.` : 'Your approval was recorded; another person must approve too.') });
  return html`<${Dialog} title=${`${verb === 'reject' ? 'Refuse' : 'Approve'} ${use.user}'s emergency access`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <p>${use.user} asks for ${names.roleOf(use)} (${names.scope(use)}): <span class="reason">${use.reason}</span></p>
      <p class="hint">${verb === 'reject' ? 'Nothing is granted and they are told. One refusal is enough.' : `It starts when ${use.approvalsRequired === 1 ? 'one other person approves' : 'two different people approve'}. Nobody approves their own.`}</p>
      <${TextArea} label="Note (optional)" value=${note} onValue=${setNote} error=${state.fields.note} />
      <${DialogEnd} state=${state} onClose=${onClose} label=${verb === 'reject' ? 'Refuse' : 'Approve'} busyLabel="Saving…" danger=${verb === 'reject'} />
    </form>
  <//>`;
}

function ReviewDialog({ use, names, onClose, onDone }) {
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const [submit, state] = useSubmit(async () => {
    const result = await api.post(path`/emergency-access/uses/${use.id}/review`, { outcome, note });
    onDone();
    onClose();
    return result;
  }, { success: `The review of ${use.user}'s emergency access was recorded.` });
  return html`<${Dialog} title=${`Review ${use.user}'s emergency access`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <dl class="facts">
        <dt>Role</dt><dd>${names.roleOf(use)} (${names.scope(use)})</dd>
        <dt>From</dt><dd>${formatTime(use.createdAt, { withZone: true })}</dd>
        <dt>Until</dt><dd>${formatTime(use.grantEndsAt, { withZone: true })}</dd>
        <dt>Their reason</dt><dd>${use.reason}</dd>
      </dl>
      <fieldset class=${state.fields.outcome ? 'invalid' : ''}>
        <legend>Was it justified?</legend>
        ${Object.entries(OUTCOMES).map(([value, text]) => html`<div class="check">
          <input type="radio" name="outcome" id=${`outcome-${value}`} value=${value} checked=${outcome === value} onChange=${() => setOutcome(value)} />
          <label for=${`outcome-${value}`}>${text}</label></div>`)}
        ${state.fields.outcome && html`<p class="field-error">Choose justified or not justified.</p>`}
      </fieldset>
      <${TextArea} label="Note" hint="Why: what you checked, whom you asked. Auditors read it." value=${note} onValue=${setNote} error=${state.fields.note} />
      <${DialogEnd} state=${state} onClose=${onClose} label="Record review" busyLabel="Recording…" />
    </form>
  <//>`;
}

// --- rules -----------------------------------------------------------------------------------
function Rules({ me, catalogues, names, maxMinutes }) {
  const rules = useLoad(async () => {
    const list = await api.get('/emergency-access/rules');
    // The rules name eligible people by id: their usernames, where this person may read them.
    const ids = [...new Set(list.flatMap((r) => r.eligibleUserIds))];
    const found = can(me, 'caregate.users:read') ? await Promise.all(ids.map((id) => api.get(path`/users/${id}`).catch(() => undefined))) : [];
    const usernames = new Map(found.filter(Boolean).map((u) => [u.id, u.username]));
    return list.map((r) => ({ ...r, eligibleUsers: r.eligibleUserIds.map((id) => usernames.get(id) ?? 'a person you cannot see') }));
  }, []);
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState(undefined);
  const editable = can(me, 'caregate.policy:edit', { tenantWide: true });
  const rows = rules.data ?? [];
  // Role names as the API gives them with each rule (this person may not read the role catalogue).
  const who = (r) => [...r.eligibleRoles.map((k, i) => `holders of ${r.eligibleRoleNames?.[i] ?? names.role(k)}`), ...r.eligibleUsers].join('; ');
  return html`<section class="card" aria-labelledby="bg-rules">
    <div class="section-header">
      <h2 id="bg-rules">Rules</h2>
      ${editable && rows.length > 0 && html`<button type="button" class="secondary" onClick=${() => setAdding(true)}>Add a rule</button>`}
    </div>
    ${loadState(rules, 'the rules')}
    ${rules.data && rows.length === 0 && html`<${Empty} title="No emergency access rules yet"
      action=${editable && html`<button type="button" onClick=${() => setAdding(true)}>Add a rule</button>`}>
      A rule names a role people may take in an emergency, where, who may take it, for how long, and which role reviews each use — for example, on-call staff taking the ER physician role at night, reviewed by compliance.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Emergency access rules" hideCaption head=${['Rule', 'Role taken', 'Where', 'Who may use it', 'Lasts', 'Starts', 'Reviewed by', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((r) => html`<tr>
        <td><code>${r.key}</code></td><td>${r.roleName ?? names.role(r.role)}</td><td>${names.scope(r)}</td><td>${who(r)}</td>
        <td>${minutesText(r.minutes)}</td><td>${r.approvalsRequired ? `After ${r.approvalsRequired === 1 ? 'one approval' : 'two approvals'}` : 'At once'}</td><td>Holders of ${r.reviewerRoleName ?? names.role(r.reviewerRole)}</td>
        <td>${editable && html`<button type="button" class="link" aria-label=${`Remove the rule ${r.key}`} onClick=${() => setRemoving(r)}>Remove</button>`}</td>
      </tr>`)}
    <//>`}
    ${adding && html`<${RuleDialog} catalogues=${catalogues} maxMinutes=${maxMinutes} onClose=${() => setAdding(false)} onDone=${rules.reload} />`}
    ${removing && html`<${Confirm} title=${`Remove the rule ${removing.key}?`} confirmText="Remove rule"
      message=${`Nobody can use emergency access through it any more. Grants already running end at their time; past uses stay listed, with their reviews.`}
      onConfirm=${confirmed(() => api.del(path`/emergency-access/rules/${removing.key}`), `The rule ${removing.key} was removed.`, rules.reload)}
      onClose=${() => setRemoving(undefined)} />`}
  </section>`;
}

function RuleDialog({ catalogues, maxMinutes, onClose, onDone }) {
  const roles = [...(catalogues?.roles ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const [form, setForm] = useState({ key: '', role: '', where: 'tenant', eligibleRoles: [], eligibleUsers: '', minutes: '60', reviewerRole: '', approvalsRequired: '0', approvers: '' });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const toggle = (key) => (on) => set('eligibleRoles')(on ? [...form.eligibleRoles, key] : form.eligibleRoles.filter((k) => k !== key));
  const [submit, state] = useSubmit(async () => {
    const rule = await api.post('/emergency-access/rules', {
      key: form.key.trim(), role: form.role, scope: toScope(form.where), eligibleRoles: form.eligibleRoles, eligibleUsers: splitList(form.eligibleUsers),
      minutes: Number(form.minutes), reviewerRole: form.reviewerRole,
      approvalsRequired: Number(form.approvalsRequired), approvers: splitList(form.approvers),
    });
    onDone();
    onClose();
    return rule;
  }, { success: (rule) => `The rule ${rule.key} was added.` });
  const f = state.fields;
  const roleOptions = [['', 'Choose a role'], ...roles.map((r) => [r.key, r.name])];
  return html`<${Dialog} title="Add an emergency access rule" onClose=${onClose} wide>
    <form onSubmit=${submit} novalidate>
      <div class="form-grid">
        <${Field} label="Rule name" hint="Lowercase letters, digits, - and _ (er-night)" value=${form.key} onValue=${set('key')} error=${f.key} required autocomplete="off" />
        <${Select} label="Role taken in an emergency" value=${form.role} onValue=${set('role')} error=${f.role} options=${roleOptions} />
        <${ScopePicker} catalogues=${catalogues} value=${form.where} onValue=${set('where')} error=${f.scope} label="Where the role is taken" />
        <${Field} label="Lasts (minutes)" type="number" min="1" max=${maxMinutes} hint=${maxMinutes ? `At most ${maxMinutes}, this organisation's longest grant` : undefined}
          value=${form.minutes} onValue=${set('minutes')} error=${f.minutes} />
      </div>
      <fieldset class=${f.eligibleRoles ? 'invalid' : ''}>
        <legend>Who may use it: holders of these roles</legend>
        <div class="check-columns">${roles.map((r) => html`<${Checkbox} label=${r.name} checked=${form.eligibleRoles.includes(r.key)} onValue=${toggle(r.key)} />`)}</div>
        ${f.eligibleRoles && html`<p class="field-error">Tick a role, or name people below.</p>`}
      </fieldset>
      <${TextArea} label="…and these people" hint="Usernames, one per line or separated by commas" value=${form.eligibleUsers} onValue=${set('eligibleUsers')} error=${f.eligibleUsers} />
      <${Select} label="Reviewed by holders of" hint="They are emailed at each use; nobody reviews their own." value=${form.reviewerRole} onValue=${set('reviewerRole')} error=${f.reviewerRole} options=${roleOptions} />
      <div class="form-grid">
        <${Select} label="Before it starts" hint="Separation of duties: other people approve first (the owner's emergency bypass, for example)." value=${form.approvalsRequired} onValue=${set('approvalsRequired')} error=${f.approvalsRequired}
          options=${[['0', 'Nobody approves: it starts at once'], ['1', 'One other person approves'], ['2', 'Two other people approve']]} />
        ${form.approvalsRequired !== '0' && html`<${TextArea} label="Approved by holders of the reviewer role and these people" hint="Usernames, one per line or separated by commas; never the person who uses it"
          value=${form.approvers} onValue=${set('approvers')} error=${f.approvers} />`}
      </div>
      <${DialogEnd} state=${state} onClose=${onClose} label="Add rule" busyLabel="Adding…" />
    </form>
  <//>`;
}

// --- settings --------------------------------------------------------------------------------
/** Roles a level may name: "holders of Clinic admin at the request's place". */
const roleChoices = (catalogues) => [...(catalogues?.roles ?? [])].sort((a, b) => a.name.localeCompare(b.name)).map((r) => [r.key, `Holders of ${r.name} there`]);

/** A level as the form holds it: MANAGER, or a role key (which never has an "@", so a role called "manager" stays a role). */
const MANAGER = '@manager';
const levelValue = (l) => ('manager' in l ? MANAGER : l.role);
const levelOf = (v) => (v === MANAGER ? { manager: true } : { role: v });

function Settings({ initial, editable, onSaved, catalogues }) {
  const [form, setForm] = useState({ maxMinutes: String(initial.maxMinutes), webhookUrl: initial.webhookUrl ?? '', webhookSecret: '', levels: (initial.approvalLevels ?? []).map(levelValue) });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const setLevel = (i) => (value) => set('levels')(form.levels.map((l, j) => (j === i ? value : l)));
  const [submit, state] = useSubmit(async () => {
    const saved = await api.put('/emergency-access/settings', {
      maxMinutes: Number(form.maxMinutes), webhookUrl: form.webhookUrl.trim() || null, ...(form.webhookSecret ? { webhookSecret: form.webhookSecret } : {}),
      approvalLevels: form.levels.filter(Boolean).map(levelOf),
    });
    setForm({ ...form, webhookSecret: '' });
    onSaved();
    return saved;
  }, { success: 'The emergency access settings were saved.' });
  const f = state.fields;
  return html`<section class="card" aria-labelledby="bg-settings">
    <h2 id="bg-settings">Settings</h2>
    <form onSubmit=${submit} novalidate>
      <fieldset class="plain" disabled=${!editable || state.busy}>
        <div class="form-grid">
          <${Field} label="Longest grant (minutes)" hint="No emergency use or approved request lasts longer" type="number" min="1" max="10080" value=${form.maxMinutes} onValue=${set('maxMinutes')} error=${f.maxMinutes} />
          <${Field} label="Webhook URL" hint="Each use is also posted here, signed (X-Caregate-Signature). Empty: none." type="url" value=${form.webhookUrl} onValue=${set('webhookUrl')} error=${f.webhookUrl} autocomplete="off" />
          <${Field} label="Webhook secret" type="password" autocomplete="new-password" value=${form.webhookSecret} onValue=${set('webhookSecret')} error=${f.webhookSecret}
            hint=${initial.webhookSecretSet ? 'A secret is set and is never shown. Leave empty to keep it, or type a new one.' : 'At least 16 characters, needed with a webhook. It is never shown again.'} />
        </div>
        <fieldset class=${f.approvalLevels ? 'invalid' : ''}>
          <legend>Approval of access requests</legend>
          <p class="hint">${form.levels.length ? 'Each request passes these levels in order; one person approves at most one level, never their own request.' : 'One approval by someone who may approve there is enough. Add levels for "staff → manager → admin".'}</p>
          <ol class="approval-levels">${form.levels.map((l, i) => html`<li>
            <${Select} label=${`Level ${i + 1}`} value=${l} onValue=${setLevel(i)}
              options=${[['', 'Choose who approves'], [MANAGER, "The requester's manager"], ...roleChoices(catalogues)]} />
            <button type="button" class="link" aria-label=${`Remove level ${i + 1}`} onClick=${() => set('levels')(form.levels.filter((_, j) => j !== i))}>Remove</button>
          </li>`)}</ol>
          ${f.approvalLevels && html`<p class="field-error">${f.approvalLevels}</p>`}
          ${form.levels.length < 5 && html`<button type="button" class="secondary" onClick=${() => set('levels')([...form.levels, ''])}>Add a level</button>`}
        </fieldset>
        <${FormError} state=${state} />
        ${editable && html`<div class="form-actions"><button type="submit">${state.busy ? 'Saving…' : 'Save settings'}</button></div>`}
      </fieldset>
    </form>
  </section>`;
}
