// Roles: the list (how many hold each, built-in ones marked, which require PHI access), a role's
// editor — name, key, description, the parent it inherits from (inherited permissions shown and
// removable one by one), requires-PHI, and the permission matrix: a row per feature of each
// application's catalogue (and per feature the tenant's roles already use), a column per action,
// "own only" per ticked cell, "all actions" per row — its deletion (refused for a built-in role;
// confirmed with the assignments it ends when held), and the derived roles. Everything goes through
// the admin API; what this person may not do is not shown, and the API refuses it anyway.
import { api, path } from '../api.js';
import { navigate } from '../router.js';
import {
  Checkbox, Confirm, Dialog, Empty, Field, Link, Page, Select, Table, can, formatTime, html, loadState, notify, useLoad, useMe, useState, useSubmit,
} from '../ui.js';
import { NetworkRuleForm, RuleSummary } from './network-rule-form.js';

const STANDARD = ['read', 'create', 'edit', 'delete', 'export'];
const ADMIN_PREFIX = 'caregate.';
const words = (text) => text.replace(/[_.-]+/g, ' ').trim();
const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
/** "patients" → "Patients"; "caregate.users" → "Users". */
const featureLabel = (feature) => capital(words(feature.startsWith(ADMIN_PREFIX) ? feature.slice(ADMIN_PREFIX.length) : feature));
/** "read" → "Read"; "payments:create" → "Payments: create". */
const actionLabel = (action) => capital(action.split(':').map(words).join(': '));
/** "Lead Therapist" → "lead_therapist": the key the API accepts (lowercase letters, digits, "_", "-"). */
const keyFromName = (name) => name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "notes:edit:own" → { feature: "notes", action: "edit", own: true }; "billing:*" → action "*"; "*" → undefined. */
function parsePermission(permission) {
  if (!permission.includes(':')) return undefined;
  const own = permission.endsWith(':own');
  const base = own ? permission.slice(0, -4) : permission;
  const at = base.indexOf(':');
  return { feature: base.slice(0, at), action: base.slice(at + 1), own };
}

/** How `set` grants `feature:action`: "everything" (*), "all" (feature:*), "full", "own" (own records only) or undefined. */
function grantIn(set, feature, action) {
  if (set.has('*')) return 'everything';
  if (set.has(`${feature}:*`)) return 'all';
  if (action === '*') return undefined;
  if (set.has(`${feature}:${action}`)) return 'full';
  if (set.has(`${feature}:${action}:own`)) return 'own';
  return undefined;
}

/** What a role carries: its parent's effective permissions and its own, less those it removes (as the API computes it). */
const effectiveOf = (inherited, own, removed) => [...new Set([...inherited, ...own])].filter((p) => !removed.has(p)).sort();

/**
 * The matrix's groups: one per application with a catalogue (its features as rows), the Caregate
 * administration features, and the features the tenant's roles use that no catalogue declares.
 * Each row knows the actions it offers; each group its columns (the standard ones, then its custom actions).
 */
function matrixGroups(apps, roles, me, extra) {
  const used = new Map();
  const note = (permission) => {
    const parsed = parsePermission(permission);
    if (!parsed) return;
    if (!used.has(parsed.feature)) used.set(parsed.feature, new Set());
    if (parsed.action !== '*') used.get(parsed.feature).add(parsed.action);
  };
  for (const role of roles) [...role.permissions, ...role.removedPermissions, ...role.effectivePermissions].forEach(note);
  extra.forEach(note);

  const placed = new Set();
  const group = (id, title, declared, { catalogued = true, collapsible = false } = {}) => {
    const rows = [...declared.keys()].sort().map((feature) => {
      placed.add(feature);
      return { feature, offered: new Set([...(declared.get(feature) ?? []), ...(used.get(feature) ?? [])]) };
    });
    const custom = [...new Set(rows.flatMap((r) => [...r.offered]))].filter((a) => !STANDARD.includes(a)).sort();
    return { id, title, rows, catalogued, collapsible, columns: [...STANDARD, ...custom] };
  };
  const declaredBy = (permissions) => {
    const map = new Map();
    for (const permission of permissions) {
      const parsed = parsePermission(permission);
      if (!parsed) continue;
      if (!map.has(parsed.feature)) map.set(parsed.feature, new Set());
      if (parsed.action !== '*') map.get(parsed.feature).add(parsed.action);
    }
    return map;
  };

  const groups = [];
  for (const app of [...apps].sort((a, b) => a.name.localeCompare(b.name))) {
    const declared = declaredBy(app.permissions ?? []);
    for (const feature of placed) declared.delete(feature); // a feature two catalogues share: one row, in the first
    if (declared.size) groups.push(group(`app-${app.clientId}`, app.name, declared));
  }
  const admin = declaredBy(Object.keys(me?.permissions ?? {}));
  for (const feature of used.keys()) if (feature.startsWith(ADMIN_PREFIX) && !placed.has(feature) && !admin.has(feature)) admin.set(feature, new Set());
  for (const feature of placed) admin.delete(feature);
  const other = new Map([...used.keys()].filter((f) => !placed.has(f) && !admin.has(f)).map((f) => [f, new Set()]));
  if (other.size) groups.push(group('used', 'Other features your roles use', other, { catalogued: false }));
  if (admin.size) groups.push(group('admin', 'Caregate administration (this console and the admin API)', admin, { collapsible: true }));
  return groups;
}

/** What the editor shows: the roles, and the applications' catalogues if readable. */
function useRoleData(me) {
  return useLoad(async () => {
    const [roles, apps] = await Promise.all([
      api.get('/roles'),
      can(me, 'caregate.applications:read') ? api.get('/applications').catch(() => []) : Promise.resolve([]),
    ]);
    return { roles, apps };
  }, []);
}

// --- the list --------------------------------------------------------------------------------
function RoleList() {
  const me = useMe();
  const loaded = useLoad(() => api.get('/roles'), []);
  const roles = loaded.data ?? [];
  const byId = new Map(roles.map((r) => [r.id, r]));
  const mayCreate = can(me, 'caregate.roles:create', { tenantWide: true });
  return html`<${Page} title="Roles" subtitle=${loaded.data ? `${plural(roles.length, 'role')} · what each may do in each application` : undefined}
    actions=${html`${mayCreate && html`<${Link} class="button" href="/roles/new">Add role<//>`}<${Link} class="button secondary" href="/roles/derived">Derived roles<//>`}>
    ${loadState(loaded, 'roles')}
    ${loaded.data && roles.length === 0 && html`<${Empty} title="No roles yet" action=${mayCreate && html`<${Link} class="button" href="/roles/new">Add your first role<//>`}>
      A role is a set of permissions — for example Front Desk may read and create patients and book appointments. Give people roles at the locations where they work.<//>`}
    ${roles.length > 0 && html`
      <p class="hint">Holders counts assignments: a person or a team holding the role at two places counts twice. Built-in roles can be edited but not deleted.</p>
      <${Table} caption="Roles" hideCaption head=${['Role', 'Holders', 'Requires PHI', 'Inherits from']}>
        ${roles.map((r) => html`<tr>
          <td><${Link} href=${path`/roles/${r.key}`}>${r.name}<//>${r.builtin && html` <span class="badge role-builtin">Built-in</span>`}<span class="role-key">${r.key}</span></td>
          <td class="num">${r.holders ?? 0}</td>
          <td>${r.requiresPhi ? html`<span class="badge role-phi">Yes</span>` : 'No'}</td>
          <td>${r.parentId ? byId.get(r.parentId)?.name ?? '—' : '—'}</td>
        </tr>`)}
      <//>`}
  <//>`;
}

// --- the permission matrix ---------------------------------------------------------------------
/** One cell: the action's checkbox, and once ticked its "own only" qualifier; inherited or wildcard grants read-only. */
function MatrixCell({ feature, action, rowLabel, inherited, own, readOnly, onToggle, onOwnOnly }) {
  const label = `${rowLabel}: ${actionLabel(action)}`;
  const from = grantIn(inherited, feature, action);
  if (from) {
    return html`<td class="matrix-cell inherited"><input type="checkbox" checked disabled aria-label=${`${label} (inherited${from === 'own' ? ', own only' : ''})`} />
      <span class="cell-note">inherited${from === 'own' ? ', own only' : ''}</span></td>`;
  }
  const mine = grantIn(own, feature, action);
  if (mine === 'everything' || mine === 'all') {
    return html`<td class="matrix-cell"><input type="checkbox" checked disabled aria-label=${`${label} (given by ${mine === 'all' ? 'all actions' : 'everything'})`} /></td>`;
  }
  return html`<td class="matrix-cell">
    <input type="checkbox" aria-label=${label} checked=${Boolean(mine)} disabled=${readOnly} onChange=${(e) => onToggle(feature, action, e.currentTarget.checked)} />
    ${mine && html`<label class="own-only"><input type="checkbox" aria-label=${`${label}, own only`} checked=${mine === 'own'} disabled=${readOnly}
      onChange=${(e) => onOwnOnly(feature, action, e.currentTarget.checked)} /> own only</label>`}
  </td>`;
}

function MatrixGroup({ group, inherited, own, readOnly, onToggle, onOwnOnly, onAll }) {
  const table = html`<div class="matrix"><${Table} caption=${`Permissions in ${group.title}`} head=${['Feature', ...group.columns.map(actionLabel), 'All actions']}>
    ${group.rows.map((row) => {
      const rowLabel = featureLabel(row.feature);
      const allFrom = grantIn(inherited, row.feature, '*');
      const allMine = grantIn(own, row.feature, '*');
      return html`<tr>
        <th scope="row">${rowLabel}${row.feature.startsWith(ADMIN_PREFIX) ? '' : html` <span class="feature-key">${row.feature}</span>`}</th>
        ${group.columns.map((action) => (group.catalogued && !row.offered.has(action)
          ? html`<td class="matrix-cell na"><span aria-hidden="true">—</span><span class="visually-hidden">${rowLabel}: ${actionLabel(action)} is not offered</span></td>`
          : html`<${MatrixCell} feature=${row.feature} action=${action} rowLabel=${rowLabel} inherited=${inherited} own=${own} readOnly=${readOnly} onToggle=${onToggle} onOwnOnly=${onOwnOnly} />`))}
        <td class="matrix-cell">${allFrom
          ? html`<input type="checkbox" checked disabled aria-label=${`${rowLabel}: all actions (inherited)`} /> <span class="cell-note">inherited</span>`
          : html`<input type="checkbox" aria-label=${`${rowLabel}: all actions`} checked=${Boolean(allMine)} disabled=${readOnly || allMine === 'everything'}
              onChange=${(e) => onAll(row.feature, e.currentTarget.checked)} />`}</td>
      </tr>`;
    })}
  <//></div>`;
  if (!group.collapsible) return table;
  const granted = group.rows.filter((r) => [...own, ...inherited].some((p) => p.startsWith(`${r.feature}:`))).length;
  return html`<details class="more matrix-more" open=${granted > 0}>
    <summary>${group.title}${granted ? ` — ${plural(granted, 'feature')} granted` : ''}</summary>
    ${table}
  </details>`;
}

// --- a role: create, edit, delete -------------------------------------------------------------------
function RoleEditor({ role: ref }) {
  const me = useMe();
  const creating = ref === undefined;
  const loaded = useRoleData(me);
  const one = useLoad(() => (creating ? Promise.resolve(undefined) : api.get(path`/roles/${ref}`)), [ref]);
  const title = creating ? 'Add role' : one.data?.name ?? ref;
  const back = { href: '/roles', label: 'Roles' };
  if (!loaded.data || (!creating && !one.data)) return html`<${Page} title=${title} back=${back}>${loadState(loaded, 'roles') ?? loadState(one, 'this role')}<//>`;
  return html`<${RoleForm} key=${creating ? 'new' : `${one.data.key}`} role=${one.data} roles=${loaded.data.roles} apps=${loaded.data.apps} me=${me} reload=${() => { one.reload(); loaded.reload(); }} />`;
}

function RoleForm({ role, roles, apps, me, reload }) {
  const creating = !role;
  const [form, setForm] = useState(() => ({
    name: role?.name ?? '', key: role?.key ?? '', description: role?.description ?? '', requiresPhi: role?.requiresPhi ?? false,
    parent: role?.parentId ? roles.find((r) => r.id === role.parentId)?.key ?? '' : '',
  }));
  const [keyTouched, setKeyTouched] = useState(false);
  const [own, setOwn] = useState(() => new Set(role?.permissions ?? []));
  const [limits, setLimits] = useState(() => limitsOf(role?.constraints));
  const [limitProblems, setLimitProblems] = useState({});
  const [removed, setRemoved] = useState(() => new Set(role?.removedPermissions ?? []));
  const [deleting, setDeleting] = useState(false);
  const set = (field) => (value) => setForm((f) => ({ ...f, [field]: value, ...(field === 'name' && creating && !keyTouched ? { key: keyFromName(value) } : {}) }));
  const readOnly = creating ? !can(me, 'caregate.roles:create', { tenantWide: true }) : !can(me, 'caregate.roles:edit', { tenantWide: true });

  const parentRole = roles.find((r) => r.key === form.parent);
  const fromParent = new Set(parentRole?.effectivePermissions ?? []);
  const inherited = new Set([...fromParent].filter((p) => !removed.has(p)));
  const effective = effectiveOf(fromParent, own, removed);
  const groups = matrixGroups(apps, roles, me, [...own, ...fromParent]);

  const change = (update) => setOwn((prev) => {
    const next = new Set(prev);
    update(next);
    return next;
  });
  const restore = (...permissions) => setRemoved((prev) => new Set([...prev].filter((p) => !permissions.includes(p))));
  const onToggle = (feature, action, on) => {
    const permission = `${feature}:${action}`;
    change((s) => {
      s.delete(permission);
      s.delete(`${permission}:own`);
      if (on) s.add(permission);
    });
    if (on) restore(permission);
  };
  const onOwnOnly = (feature, action, on) => {
    const permission = `${feature}:${action}`;
    change((s) => {
      s.delete(permission);
      s.delete(`${permission}:own`);
      s.add(on ? `${permission}:own` : permission);
    });
    restore(permission, `${permission}:own`);
  };
  const onAll = (feature, on) => {
    change((s) => {
      for (const p of [...s]) if (p.startsWith(`${feature}:`)) s.delete(p);
      if (on) s.add(`${feature}:*`);
    });
    if (on) restore(`${feature}:*`);
  };
  const toggleRemoved = (permission, remove) => setRemoved((prev) => {
    const next = new Set(prev);
    if (remove) next.add(permission);
    else next.delete(permission);
    return next;
  });

  const [submit, state] = useSubmit(async () => {
    const { constraints, problems } = constraintsOf(limits);
    setLimitProblems(problems);
    if (Object.keys(problems).length) throw Object.assign(new Error(`Check the limits: ${Object.values(problems)[0]}`), { fields: {} });
    // Sent only when changed: saving a name must not re-assert limits the editor may not widen.
    const changedLimits = JSON.stringify(constraints) !== JSON.stringify(role?.constraints ?? {});
    const body = {
      ...(changedLimits ? { constraints } : {}),
      name: form.name.trim(),
      permissions: [...own].sort(),
      removedPermissions: [...removed].filter((p) => fromParent.has(p) && !own.has(p)).sort(),
      requiresPhi: form.requiresPhi,
    };
    if (creating) {
      const created = await api.post('/roles', { ...body, key: form.key, description: form.description.trim() || undefined, parent: form.parent || undefined });
      navigate(path`/roles/${created.key}`, { replace: true });
      return created;
    }
    const saved = await api.patch(path`/roles/${role.key}`, { ...body, description: form.description.trim() || null, parent: form.parent || null });
    reload();
    return saved;
  }, { success: (r) => (creating ? `Role ${r.name} was created.` : `Role ${r.name} was saved.`) });
  const f = state.fields;
  const parentOptions = [['', 'None'], ...roles.filter((r) => r.key !== role?.key).map((r) => [r.key, `${r.name} (${r.key})`])];
  const back = { href: '/roles', label: 'Roles' };
  const subtitle = role && [role.builtin ? 'Built-in role' : 'Custom role', `held ${plural(role.holders ?? 0, 'time')}`, role.requiresPhi && 'requires PHI access'].filter(Boolean).join(' · ');
  const actions = role && html`${(role.holders ?? 0) > 0 && can(me, 'caregate.users:read') && html`<${Link} class="button secondary" href=${`/users?role=${encodeURIComponent(role.key)}`}>See who holds it<//>`}
    ${can(me, 'caregate.roles:delete', { tenantWide: true }) && html`<button type="button" class="danger" onClick=${() => setDeleting(true)}>Delete role</button>`}`;

  return html`<${Page} title=${creating ? 'Add role' : role.name} subtitle=${subtitle} back=${back} actions=${actions}>
    ${role?.builtin && html`<p class="hint">A built-in role: edit it freely (tokens reflect the change at their next grant); it cannot be deleted.</p>`}
    ${readOnly && html`<p class="notice">You may read this role but not change it.</p>`}
    <form class="role-form" onSubmit=${submit} novalidate>
      <fieldset class="plain" disabled=${readOnly}>
      <fieldset><legend>About this role</legend><div class="form-grid">
        <${Field} label="Name" required value=${form.name} onValue=${set('name')} error=${f.name} autocomplete="off" />
        ${creating
          ? html`<${Field} label="Key" required hint="Lowercase letters, digits, _ or -; used in tokens and the API, and cannot change later" value=${form.key}
              onValue=${(v) => { setKeyTouched(true); setForm((x) => ({ ...x, key: v })); }} error=${f.key} autocomplete="off" />`
          : html`<div class="field"><span class="field-label">Key</span><p class="static-value"><code>${role.key}</code></p></div>`}
        <${Field} label="Description" value=${form.description} onValue=${set('description')} error=${f.description} autocomplete="off" />
        <${Select} label="Inherits from" hint="A parent role's permissions are part of this role" value=${form.parent} onValue=${set('parent')} error=${f.parent} options=${parentOptions} />
      </div>
      <${Checkbox} label="Requires PHI access" checked=${form.requiresPhi} onValue=${set('requiresPhi')}
        hint="Only people allowed to see protected health information may hold it${parentRole?.requiresPhi ? ' (its parent requires it already)' : ''}" />
      </fieldset>

      <fieldset><legend>Permissions</legend>
        <p class="hint">Tick what holders may do in each application. "Own only" limits an action to the records they own (for example their own notes); "All actions" gives every action of a feature, including ones added later.</p>
        ${inherited.has('*')
          ? html`<p class="notice">This role inherits every permission (<code>*</code>) from ${parentRole.name}.</p>`
          : html`<${Checkbox} label="Everything, in every application and in this console (*)" checked=${own.has('*')} hint="What the Owner / Admin role holds"
              onValue=${(on) => change((s) => (on ? s.add('*') : s.delete('*')))} />`}
        ${groups.length === 0 && html`<p>No application declares permissions yet, and no role uses any. Add an application's permission catalogue under Applications first.</p>`}
        ${groups.map((g) => html`<${MatrixGroup} group=${g} inherited=${inherited} own=${own} readOnly=${readOnly} onToggle=${onToggle} onOwnOnly=${onOwnOnly} onAll=${onAll} />`)}
      </fieldset>

      ${parentRole && html`<fieldset><legend>Inherited from ${parentRole.name}</legend>
        <p class="hint">These come from ${parentRole.name} and follow its changes. Remove one to leave it out of this role only.</p>
        ${fromParent.size === 0 ? html`<p>${parentRole.name} carries no permissions.</p>` : html`<ul class="permission-list inherited-list">
          ${[...fromParent].sort().map((p) => html`<li class=${removed.has(p) ? 'removed' : ''}><code>${p}</code>${removed.has(p) && html` <span class="badge">removed</span>`}
            <button type="button" class="link" aria-label=${`${removed.has(p) ? 'Restore' : 'Remove'} inherited ${p}`} onClick=${() => toggleRemoved(p, !removed.has(p))}>${removed.has(p) ? 'Restore' : 'Remove'}</button></li>`)}
        </ul>`}
      </fieldset>`}
      <${LimitsEditor} limits=${limits} onLimits=${setLimits} effective=${effective} problems=${limitProblems} fields=${f} readOnly=${readOnly} />
      </fieldset>

      <div class="card in-effect" aria-live="polite">
        <h2>In effect</h2>
        <p>${effective.length ? effective.map((p) => html`<code>${p}</code> `) : 'No permissions yet: holders of this role could do nothing.'}</p>
        ${role && Object.keys(role.constraints ?? {}).length > 0 && html`<p class="limits-in-effect">Limits (saved): ${Object.entries(role.constraints).map(([p, c]) => html`<span class="limit"><code>${p}</code> ${limitInWords(c)}</span> `)}</p>`}
      </div>
      ${state.error && html`<div class="notice error form-refusal">
        <p><strong>${creating ? 'The role was not created.' : 'The changes were not saved.'}</strong> ${state.error.message}</p>
        ${state.error.details?.missing?.length > 0 && html`<p>You do not hold: ${state.error.details.missing.map((p) => html`<code>${p}</code> `)}</p>`}
      </div>`}
      ${!readOnly && html`<div class="form-actions">
        <button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : creating ? 'Create role' : 'Save changes'}</button>
        <${Link} class="button secondary" href="/roles">Cancel<//>
      </div>`}
    </form>
    ${role && html`<${RoleNetworkRule} role=${role} me=${me} />`}
    ${deleting && html`<${DeleteRole} role=${role} onClose=${() => setDeleting(false)} />`}
  <//>`;
}

// --- limits on permissions (issue 18) -------------------------------------------------------------
/** The role's constraints as rows of the editor: { permission, maxAmount (text) }. */
const limitsOf = (constraints) => Object.entries(constraints ?? {}).map(([permission, c]) => ({ permission, maxAmount: c.maxAmount === undefined ? '' : String(c.maxAmount), lift: c.maxAmount === undefined }));
/** "up to 500", or "no limit (lifts the parent's)" for an empty one. */
const limitInWords = (c) => (c.maxAmount === undefined ? 'no limit (lifts the parent\'s)' : `up to ${c.maxAmount}`);

/** The rows as the API takes them (permission → { maxAmount }), and what is wrong before asking it. */
function constraintsOf(limits) {
  const constraints = {};
  const problems = {};
  for (const row of limits) {
    const raw = row.maxAmount.trim();
    const amount = Number(raw);
    // A stored empty limit lifts the parent's; one added here needs an amount.
    if (raw === '' && row.lift) constraints[row.permission] = {};
    else if (raw === '' || !Number.isFinite(amount) || amount < 0) problems[row.permission] = `The largest amount for ${row.permission} must be a number, 0 or more.`;
    else constraints[row.permission] = { maxAmount: amount };
  }
  return { constraints, problems };
}

/**
 * Limits on some of the role's permissions: each travels in tokens (the constraints claim) and in
 * the decision endpoint's answers, and applications check it with can(token, permission, { amount }).
 * Only a permission the role carries, named exactly (no wildcard), may be limited.
 */
function LimitsEditor({ limits, onLimits, effective, problems, fields, readOnly }) {
  const [adding, setAdding] = useState('');
  const limitable = effective.filter((p) => !p.includes('*') && !limits.some((l) => l.permission === p));
  const apiError = fields.constraints ?? Object.entries(fields).find(([k]) => k.startsWith('constraints.'))?.[1];
  const change = (i, maxAmount) => onLimits(limits.map((l, j) => (j === i ? { ...l, maxAmount } : l)));
  return html`<fieldset class="limits"><legend>Limits on permissions</legend>
    <p class="hint">For example: approve charges only up to 500. Tokens carry the limit in their <code>constraints</code> claim, and an application checks it with <code>can(token, permission, { amount })</code>.</p>
    ${limits.length === 0 && html`<p>No limits: each permission this role carries works for any amount.</p>`}
    ${limits.map((l, i) => html`<div class="limit-row">
      <${Field} id=${`limit-${i}`} label=${`Largest amount for ${l.permission}`} type="number" inputmode="decimal" min="0" step="any" value=${l.maxAmount} onValue=${(v) => change(i, v)}
        error=${problems[l.permission] ?? fields[`constraints.${l.permission}.maxAmount`] ?? fields[`constraints.${l.permission}`]} />
      ${!readOnly && html`<button type="button" class="secondary" onClick=${() => onLimits(limits.filter((_, j) => j !== i))}>Remove the limit on ${l.permission}</button>`}
    </div>`)}
    ${apiError && html`<p class="field-error" role="alert">${apiError}</p>`}
    ${!readOnly && (limitable.length
      ? html`<div class="add-row">
          <${Select} id="limit-add" label="Limit another permission" value=${adding} onValue=${setAdding} options=${[['', 'Choose a permission this role carries'], ...limitable.map((p) => [p, p])]} />
          <button type="button" class="secondary" disabled=${!adding} onClick=${() => { onLimits([...limits, { permission: adding, maxAmount: '' }]); setAdding(''); }}>Add a limit</button>
        </div>`
      : html`<p class="hint">Tick a permission above to limit it.</p>`)}
  </fieldset>`;
}

// --- the role's network rule (issue 18) ---------------------------------------------------------
/**
 * Where the role may be used: tokens issued to an address outside its ranges leave it out (the
 * person's other roles still count). Read from GET /network-rules (the security policy's
 * permission); changed with the role's own permission.
 */
function RoleNetworkRule({ role, me }) {
  const readable = can(me, 'caregate.policy:read');
  const editable = can(me, 'caregate.roles:edit', { tenantWide: true });
  const rules = useLoad(() => (readable ? api.get('/network-rules') : Promise.resolve(undefined)), [role.key]);
  const rule = rules.data?.roles.find((r) => r.role === role.key) ?? null;
  return html`<section class="card role-network" aria-labelledby="role-network-title">
    <h2 id="role-network-title">Networks this role may be used from</h2>
    ${!readable
      ? html`<p>Seeing the role's network rule takes the permission to read the security policy.</p>`
      : html`${loadState(rules, 'the network rule')}
        ${rules.data && html`
          <${RuleSummary} rule=${rule} none=${`No rule: ${role.name} counts wherever its holders sign in from.`} />
          <p class="hint">Outside these ranges, tokens leave ${role.name} out (and the roles inheriting from it); its holders' other roles still count.</p>
          ${editable && html`<${NetworkRuleForm} key=${rule?.updatedAt ?? 'none'} rule=${rule} what=${`network rule of ${role.name}`} idPrefix="role-rule"
            removeMessage=${`${role.name} then counts wherever its holders sign in from.`}
            save=${async (body) => { await api.put(path`/roles/${role.key}/network-rule`, body); rules.reload(); }}
            remove=${async () => { await api.del(path`/roles/${role.key}/network-rule`); rules.reload(); }} />`}`}`}
  </section>`;
}

/**
 * Deleting a role: a built-in one is refused by the API (the reason is shown); one still held says
 * how many assignments it ends and deletes with force once confirmed.
 */
function DeleteRole({ role, onClose }) {
  const [held, setHeld] = useState(role.holders ?? 0);
  const [refusal, setRefusal] = useState(undefined);
  const [busy, setBusy] = useState(false);
  const go = async (event) => {
    event.preventDefault();
    setBusy(true);
    setRefusal(undefined);
    try {
      await api.del(path`/roles/${role.key}`, held > 0 ? { force: 'true' } : undefined);
      notify('success', held > 0 ? `Role ${role.name} was deleted and its ${plural(held, 'assignment')} ended.` : `Role ${role.name} was deleted.`);
      navigate('/roles');
    } catch (error) {
      setBusy(false);
      // Assigned since the page loaded: say how many times, and ask again.
      if (error.status === 409 && error.details?.reason === 'role_in_use') setHeld(error.details.assignments);
      else setRefusal(error);
    }
  };
  return html`<${Dialog} title=${`Delete ${role.name}?`} onClose=${onClose}>
    <form onSubmit=${go}>
      ${held > 0
        ? html`<p><strong>${role.name} is still assigned ${plural(held, 'time')}</strong> (to people or teams). Deleting it ends those assignments: the people lose what it gives them from their next sign-in or token refresh.</p>`
        : html`<p>Nobody holds ${role.name}. Deleting it cannot be undone.</p>`}
      ${refusal && html`<p class="notice error" role="alert"><strong>Not deleted:</strong> ${refusal.message}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>${refusal ? 'Close' : 'Cancel'}</button>
        ${!refusal && html`<button type="submit" class="danger" disabled=${busy}>${busy ? 'Deleting…' : held > 0 ? `End ${plural(held, 'assignment')} and delete` : 'Delete role'}</button>`}
      </div>
    </form>
  <//>`;
}

// --- derived roles ---------------------------------------------------------------------------------
function DerivedRoles() {
  const me = useMe();
  const rules = useLoad(() => api.get('/derived-roles'), []);
  const roleList = useLoad(() => api.get('/roles'), []);
  const [removing, setRemoving] = useState(undefined);
  const [form, setForm] = useState({ kind: 'role', sourceRole: '', sourcePermission: '', targetRole: '' });
  const set = (field) => (value) => setForm((x) => ({ ...x, [field]: value }));
  const editable = can(me, 'caregate.roles:edit', { tenantWide: true });
  const roles = roleList.data ?? [];
  const nameOf = (key) => roles.find((r) => r.key === key)?.name ?? key;
  const [submit, state] = useSubmit(async () => {
    const created = await api.post('/derived-roles', form.kind === 'role'
      ? { sourceRole: form.sourceRole, targetRole: form.targetRole }
      : { sourcePermission: form.sourcePermission.trim(), targetRole: form.targetRole });
    setForm((x) => ({ ...x, sourceRole: '', sourcePermission: '', targetRole: '' }));
    rules.reload();
    return created;
  }, { success: (d) => `Holders of ${d.sourceRole ? nameOf(d.sourceRole) : d.sourcePermission} now also hold ${nameOf(d.targetRole)}.` });
  const list = rules.data ?? [];
  const roleOptions = (first) => [['', first], ...roles.map((r) => [r.key, `${r.name} (${r.key})`])];
  const f = state.fields;
  const sourceText = (d) => (d.sourceRole ? html`role <strong>${nameOf(d.sourceRole)}</strong>` : html`a role with <code>${d.sourcePermission}</code>`);
  return html`<${Page} title="Derived roles" subtitle="Holders of one role (or of a permission) also hold another, at the same place" back=${{ href: '/roles', label: 'Roles' }}>
    ${loadState(rules, 'derived roles')}
    ${rules.data && list.length === 0 && html`<${Empty} title="No derived roles yet">
      For example: everyone who holds Provider at a clinic also holds Report Viewer there. Caregate works this out when it issues a token; nothing is stored per person.<//>`}
    ${list.length > 0 && html`<${Table} caption="Derived roles" head=${['Holders of', 'Also hold', 'Since', html`<span class="visually-hidden">Actions</span>`]}>
      ${list.map((d) => html`<tr><td>${sourceText(d)}</td><td><strong>${nameOf(d.targetRole)}</strong> <code>${d.targetRole}</code></td><td>${formatTime(d.createdAt)}</td>
        <td>${editable && html`<button type="button" class="link danger-link" aria-label=${`Remove: holders of ${d.sourceRole ? nameOf(d.sourceRole) : d.sourcePermission} also hold ${nameOf(d.targetRole)}`}
          onClick=${() => setRemoving(d)}>Remove</button>`}</td></tr>`)}
    <//>`}
    ${editable && roleList.data && html`<form class="card derived-form" onSubmit=${submit} novalidate>
      <h2>Add a derived role</h2>
      <fieldset><legend>Holders of</legend>
        ${[['role', 'A role'], ['permission', 'Any role carrying a permission']].map(([value, text]) => html`<div class="check">
          <input type="radio" name="derived-kind" id=${`derived-${value}`} checked=${form.kind === value} onChange=${() => set('kind')(value)} /><label for=${`derived-${value}`}>${text}</label></div>`)}
        ${form.kind === 'role'
          ? html`<${Select} label="Source role" value=${form.sourceRole} onValue=${set('sourceRole')} error=${f.sourceRole} options=${roleOptions('Choose a role')} />`
          : html`<${Field} label="Source permission" hint='For example "reports:read"' value=${form.sourcePermission} onValue=${set('sourcePermission')} error=${f.sourcePermission} autocomplete="off" />`}
      </fieldset>
      <${Select} label="Also hold" hint="At the same place as the role that led to it" value=${form.targetRole} onValue=${set('targetRole')} error=${f.targetRole} options=${roleOptions('Choose a role')} />
      ${state.error && !Object.keys(f).length && html`<p class="notice error form-refusal"><strong>Not added:</strong> ${state.error.message}</p>`}
      <button type="submit" disabled=${state.busy || !form.targetRole || (form.kind === 'role' ? !form.sourceRole : !form.sourcePermission.trim())}>Add derived role</button>
    </form>`}
    ${removing && html`<${Confirm} title="Remove this derived role?" confirmText="Remove derived role"
      message=${`Holders of ${removing.sourceRole ? nameOf(removing.sourceRole) : removing.sourcePermission} stop holding ${nameOf(removing.targetRole)} through it from their next token.`}
      onConfirm=${async () => {
        try {
          await api.del(path`/derived-roles/${removing.id}`);
          notify('success', 'The derived role was removed.');
          rules.reload();
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setRemoving(undefined)} />`}
  <//>`;
}

export const nav = { label: 'Roles', path: '/roles', permission: 'caregate.roles:read' };
export const routes = [
  { path: '/roles', view: RoleList },
  { path: '/roles/new', view: RoleEditor },
  { path: '/roles/derived', view: DerivedRoles },
  { path: '/roles/:role', view: RoleEditor },
];
