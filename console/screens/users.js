// Users: the list (search, filters, paging, bulk actions on the selected), Add user, and a user's
// page — profile, roles and locations, teams, effective access, sign-in methods, sessions, activity —
// with its Actions. Everything goes through the admin API; what this person may not do is not shown,
// and the API refuses it anyway.
import { api, path } from '../api.js';
import { navigate, queryOf, setQuery } from '../router.js';
import { describeEvent } from './activity-words.js';
import {
  Checkbox, Confirm, Dialog, Empty, Field, Link, Page, Select, Status, Table, Tabs, can, formatTime, html, loadState, notify, timeZone, useEffect, useLoad, useMe, useState, useSubmit,
} from '../ui.js';
import { WindowEditor, newRange, windowInWords } from './time-window.js';

const PAGE_SIZE = 50;
const STATUSES = ['active', 'invited', 'disabled', 'locked', 'expired'];
const name = (u) => [u.givenName, u.familyName].filter(Boolean).join(' ') || u.displayName || '';
const scopeText = (scope) => (!scope || scope.type === 'tenant' ? 'Everywhere'
  : scope.type === 'application' ? `Application: ${scope.name ?? scope.clientId}` : `${scope.type[0].toUpperCase()}${scope.type.slice(1)}: ${scope.key}`);

/** Roles, locations, institutions, teams, user types: what the forms and filters offer (each only if readable). */
function useCatalogues(me) {
  return useLoad(async () => {
    const get = (permission, url, fallback = []) => (can(me, permission) ? api.get(url).catch(() => fallback) : Promise.resolve(fallback));
    const [roles, locations, institutions, teams, profile, apps] = await Promise.all([
      get('caregate.roles:read', '/roles'),
      get('caregate.locations:read', '/locations'),
      get('caregate.institutions:read', '/institutions'),
      get('caregate.teams:read', '/teams'),
      get('caregate.tenant:read', '/profile-schema', null),
      get('caregate.applications:read', '/applications'),
    ]);
    return { roles, locations, institutions, teams, profile, apps };
  }, []);
}

// --- the list --------------------------------------------------------------------------------
function UserList() {
  const me = useMe();
  const catalogues = useCatalogues(me).data ?? { roles: [], locations: [], institutions: [], teams: [], apps: [] };
  const [filters, setFilters] = useState(() => queryOf());
  const [draft, setDraft] = useState(filters);
  const [selected, setSelected] = useState(new Set());
  const [bulk, setBulk] = useState(undefined);
  const offset = Number(filters.offset ?? 0);
  const list = useLoad(() => api.page('/users', { ...filters, limit: PAGE_SIZE, offset }), [JSON.stringify(filters)]);
  const apply = (next) => {
    setFilters(next);
    setQuery(next);
    setSelected(new Set());
  };
  const search = (event) => {
    event.preventDefault();
    apply({ ...draft, offset: undefined });
  };
  const set = (key) => (value) => setDraft({ ...draft, [key]: value });
  const users = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const toggle = (id, on) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const mayBulk = can(me, 'caregate.users:edit');
  // The filters start folded on a phone, unless some are in use.
  const filtersOpen = Object.entries(filters).some(([k, v]) => v && k !== 'q' && k !== 'offset') || matchMedia('(min-width: 801px)').matches;
  const options = (rows, label = (r) => r.name ?? r.key) => [['', 'Any'], ...rows.map((r) => [r.key, label(r)])];

  return html`<${Page} title="Users" subtitle=${list.data ? `${total} ${total === 1 ? 'user' : 'users'}${Object.values(filters).some(Boolean) ? ' match' : ''}` : undefined}
    actions=${can(me, 'caregate.users:create') && html`<${Link} class="button" href="/users/new">Add user<//>`}>
    <form class="card" role="search" aria-label="Find users" onSubmit=${search}>
      <${Field} label="Search" hint="Name, username or email" type="search" value=${draft.q} onValue=${set('q')} name="q" />
      <details class="more-filters" open=${filtersOpen}>
      <summary>Filters</summary>
      <div class="filters">
        <${Select} label="Status" value=${draft.status} onValue=${set('status')} options=${[['', 'Any'], ...STATUSES.map((s) => [s, s])]} />
        <${Select} label="Role" value=${draft.role} onValue=${set('role')} options=${options(catalogues.roles)} />
        ${catalogues.locations.length > 0 && html`<${Select} label="Location" value=${draft.location} onValue=${set('location')} options=${options(catalogues.locations)} />`}
        ${catalogues.institutions.length > 0 && html`<${Select} label="Institution" value=${draft.institution} onValue=${set('institution')} options=${options(catalogues.institutions)} />`}
        ${catalogues.teams.length > 0 && html`<${Select} label="Team" value=${draft.team} onValue=${set('team')} options=${options(catalogues.teams)} />`}
        ${catalogues.profile && html`<${Select} label="User type" value=${draft.userType} onValue=${set('userType')} options=${[['', 'Any'], ...catalogues.profile.userTypes.map((t) => [t, t.replace(/_/g, ' ')])]} />`}
        <${Select} label="PHI access" value=${draft.phi} onValue=${set('phi')} options=${[['', 'Any'], ['true', 'Yes'], ['false', 'No']]} />
        <${Select} label="Outside vendor" value=${draft.vendor} onValue=${set('vendor')} options=${[['', 'Any'], ['true', 'Yes'], ['false', 'No']]} />
        <${Field} label="Not signed in for (days)" type="number" min="1" max="3650" value=${draft.inactiveDays} onValue=${set('inactiveDays')} />
      </div>
      </details>
      <div class="form-actions">
        <button type="submit">Search</button>
        <button type="button" class="secondary" onClick=${() => { setDraft({}); apply({}); }}>Clear filters</button>
      </div>
    </form>

    ${loadState(list, 'users')}
    ${list.data && users.length === 0 && html`<${Empty} title=${Object.values(filters).some(Boolean) ? 'No users match' : 'No users yet'}
      action=${can(me, 'caregate.users:create') && !Object.values(filters).some(Boolean) && html`<${Link} class="button" href="/users/new">Add your first user<//>`}>
      ${Object.values(filters).some(Boolean) ? 'Change or clear the filters to see more people.' : 'Add the people who work here; give each a role at the locations where they work.'}<//>`}
    ${users.length > 0 && html`
      ${mayBulk && html`<div class="toolbar" aria-label="Bulk actions">
        <span>${selected.size} selected</span>
        <button type="button" class="secondary" disabled=${!selected.size} onClick=${() => setBulk('assign')}>Assign a role</button>
        <button type="button" class="secondary" disabled=${!selected.size} onClick=${() => setBulk('unassign')}>Remove a role</button>
        <button type="button" class="secondary" disabled=${!selected.size} onClick=${() => setBulk('disable')}>Disable</button>
        <button type="button" class="secondary" disabled=${!selected.size} onClick=${() => setBulk('enable')}>Enable</button>
      </div>`}
      <${Table} caption="Users" hideCaption head=${[...(mayBulk ? [html`<span class="visually-hidden">Select</span>`] : []), 'Username', 'Name', 'Email', 'Status', 'Last sign-in']}>
        ${users.map((u) => html`<tr>
          ${mayBulk && html`<td><input type="checkbox" aria-label=${`Select ${u.username}`} checked=${selected.has(u.username)} onChange=${(e) => toggle(u.username, e.currentTarget.checked)} /></td>`}
          <td><${Link} href=${path`/users/${u.username}`}>${u.username}<//></td>
          <td>${name(u)}</td><td>${u.email ?? ''}</td><td><${Status} status=${u.status} /></td><td>${formatTime(u.lastLoginAt)}</td>
        </tr>`)}
      <//>
      <div class="pager">
        <button type="button" class="secondary" disabled=${offset === 0} onClick=${() => apply({ ...filters, offset: Math.max(0, offset - PAGE_SIZE) || undefined })}>Previous page</button>
        <span>${offset + 1}–${offset + users.length} of ${total}</span>
        <button type="button" class="secondary" disabled=${offset + users.length >= total} onClick=${() => apply({ ...filters, offset: offset + PAGE_SIZE })}>Next page</button>
      </div>`}
    ${bulk && html`<${BulkDialog} action=${bulk} users=${[...selected]} catalogues=${catalogues} onClose=${() => setBulk(undefined)} onDone=${() => { setSelected(new Set()); list.reload(); }} />`}
  <//>`;
}

/** A role and where it applies, as the assignment API takes it. */
function ScopePicker({ catalogues, value, onValue, idPrefix }) {
  const options = [['tenant:', 'Everywhere (tenant-wide)'],
    ...catalogues.locations.map((l) => [`location:${l.key}`, `Location: ${l.name ?? l.key}`]),
    ...catalogues.institutions.map((i) => [`institution:${i.key}`, `Institution: ${i.name ?? i.key}`]),
    ...catalogues.apps.map((a) => [`application:${a.clientId}`, `Application: ${a.name}`])];
  return html`<${Select} id=${`${idPrefix}-scope`} label="Where" value=${value} onValue=${onValue} options=${options} />`;
}
const toScope = (value) => {
  const [type, key] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  return type === 'tenant' || !type ? { type: 'tenant' } : type === 'application' ? { type, clientId: key } : { type, key };
};

function BulkDialog({ action, users, catalogues, onClose, onDone }) {
  const [role, setRole] = useState(catalogues.roles[0]?.key ?? '');
  const [where, setWhere] = useState('tenant:');
  const titles = { assign: 'Assign a role', unassign: 'Remove a role', disable: 'Disable users', enable: 'Enable users' };
  const [submit, state] = useSubmit(async () => {
    const result = await api.post('/users/bulk', action === 'assign' || action === 'unassign' ? { action, users, role, scope: toScope(where) } : { action, users });
    onDone();
    onClose();
    return result;
  }, { success: (r) => `${titles[action]}: done for ${r.users.length} ${r.users.length === 1 ? 'user' : 'users'}.` });
  return html`<${Dialog} title=${`${titles[action]} (${users.length} selected)`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <p>All or nothing: if any selected user cannot be changed, nobody is.</p>
      ${(action === 'assign' || action === 'unassign') && html`
        <${Select} label="Role" value=${role} onValue=${setRole} options=${catalogues.roles.map((r) => [r.key, r.name])} />
        <${ScopePicker} catalogues=${catalogues} value=${where} onValue=${setWhere} idPrefix="bulk" />`}
      ${state.error && html`<p class="field-error">${state.error.message}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy}>${state.busy ? 'Working…' : titles[action]}</button>
      </div>
    </form>
  <//>`;
}

// --- add user ----------------------------------------------------------------------------------
const strongPassword = () => {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  return Array.from(crypto.getRandomValues(new Uint8Array(20)), (b) => alphabet[b % alphabet.length]).join('');
};

function AddUser() {
  const me = useMe();
  const catalogues = useCatalogues(me);
  const [form, setForm] = useState({ phiAccess: false, outsideVendor: false, passwordMode: 'invite', password: '' });
  const [tenantRoles, setTenantRoles] = useState(new Set());
  const [atLocation, setAtLocation] = useState({});
  const [atInstitution, setAtInstitution] = useState({});
  const [teams, setTeams] = useState(new Set());
  const [created, setCreated] = useState(undefined);
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const c = catalogues.data;
  const [submit, state] = useSubmit(async () => {
    const password = form.passwordMode === 'generate' ? strongPassword() : form.passwordMode === 'set' ? form.password : undefined;
    const assignments = [
      ...[...tenantRoles].map((role) => ({ role, scope: { type: 'tenant' } })),
      ...Object.entries(atLocation).filter(([, role]) => role).map(([key, role]) => ({ role, scope: { type: 'location', key } })),
      ...Object.entries(atInstitution).filter(([, role]) => role).map(([key, role]) => ({ role, scope: { type: 'institution', key } })),
    ];
    const body = {
      username: form.username, email: form.email || undefined, phone: form.phone || undefined, givenName: form.givenName || undefined, familyName: form.familyName || undefined,
      userType: form.userType || undefined, phiAccess: form.phiAccess, outsideVendor: form.outsideVendor, expiresAt: form.expiresAt ? new Date(form.expiresAt).toISOString() : undefined,
      ...(password ? { password } : { invite: true }), assignments,
    };
    const user = await api.post('/users', body);
    // The user exists now: a team that refuses them is reported on the result page, not as a failed form.
    const teamFailures = [];
    for (const key of teams) await api.post(path`/teams/${key}/members`, { user: user.username }).catch((error) => teamFailures.push(`${key}: ${error.message}`));
    setCreated({ user, password: form.passwordMode === 'generate' ? password : undefined, teamFailures });
    return user;
  }, { success: (u) => `Added ${u.username}.` });
  if (catalogues.loading && !c) return html`<${Page} title="Add user">${loadState(catalogues, 'the form')}<//>`;
  if (created) {
    return html`<${Page} title=${`${created.user.username} was added`} back=${{ href: '/users', label: 'Users' }}>
      ${created.teamFailures.length > 0 && html`<p class="notice warning" role="alert">Not added to every team — ${created.teamFailures.join('; ')}. Add them from their page.</p>`}
      ${created.password && html`<div class="card"><h2>Their password — shown once</h2>
        <p>Give it to ${created.user.username} in person or by a channel you trust. They choose their own at their first sign-in.</p>
        <p class="secret-once" data-testid="generated-password">${created.password}</p></div>`}
      ${created.user.invitation && html`<div class="card"><h2>Invitation</h2><p>${created.user.invitation.sent ? `An activation link was emailed to ${created.user.email}.` : 'There is no email address: give the user this link.'}</p>
        ${!created.user.invitation.sent && html`<p class="secret-once">${created.user.invitation.url}</p>`}<p class="hint">It expires ${formatTime(created.user.invitation.expiresAt, { withZone: true })}.</p></div>`}
      <div class="form-actions"><${Link} class="button" href=${path`/users/${created.user.username}`}>Open their page<//> <${Link} class="button secondary" href="/users/new" onClick=${() => setCreated(undefined)}>Add another<//></div>
    <//>`;
  }
  const f = state.fields;
  const roleOptions = [['', 'No role here'], ...c.roles.map((r) => [r.key, r.name])];
  return html`<${Page} title="Add user" back=${{ href: '/users', label: 'Users' }}>
    <form onSubmit=${submit} novalidate>
      <fieldset><legend>Who</legend><div class="form-grid">
        <${Field} label="Given name" value=${form.givenName} onValue=${set('givenName')} error=${f.givenName} autocomplete="off" />
        <${Field} label="Family name" value=${form.familyName} onValue=${set('familyName')} error=${f.familyName} autocomplete="off" />
        <${Field} label="Username" required value=${form.username} onValue=${set('username')} error=${f.username} autocomplete="off" />
        <${Field} label="Email" type="email" value=${form.email} onValue=${set('email')} error=${f.email} autocomplete="off" />
        <${Field} label="Phone" type="tel" hint="International form, e.g. +15551234567" value=${form.phone} onValue=${set('phone')} error=${f.phone} autocomplete="off" />
        ${c.profile && html`<${Select} label="User type" value=${form.userType} onValue=${set('userType')} error=${f.userType} options=${[['', 'Not set'], ...c.profile.userTypes.map((t) => [t, t.replace(/_/g, ' ')])]} />`}
        <${Field} label="Account end date" type="date" hint="Optional: the account stops working that day" value=${form.expiresAt} onValue=${set('expiresAt')} error=${f.expiresAt} />
      </div>
      <${Checkbox} label="May access PHI (protected health information)" checked=${form.phiAccess} onValue=${set('phiAccess')} hint="Needed for roles that require PHI access" />
      <${Checkbox} label="Works for an outside vendor" checked=${form.outsideVendor} onValue=${set('outsideVendor')} />
      </fieldset>

      <fieldset><legend>First sign-in</legend>
        ${[['invite', 'Send an invitation (they choose a password)'], ['generate', 'Generate a password (shown once)'], ['set', 'Set a password']].map(([value, text]) => html`<div class="check">
          <input type="radio" name="passwordMode" id=${`pw-${value}`} value=${value} checked=${form.passwordMode === value} onChange=${() => set('passwordMode')(value)} /><label for=${`pw-${value}`}>${text}</label></div>`)}
        ${form.passwordMode === 'set' && html`<${Field} label="Password" type="password" autocomplete="new-password" value=${form.password} onValue=${set('password')} error=${f.password} />`}
      </fieldset>

      <fieldset><legend>Roles everywhere</legend>
        ${c.roles.map((r) => html`<${Checkbox} label=${r.name} hint=${r.requiresPhi ? 'Requires PHI access' : undefined} checked=${tenantRoles.has(r.key)}
          onValue=${(on) => { const next = new Set(tenantRoles); if (on) next.add(r.key); else next.delete(r.key); setTenantRoles(next); }} />`)}
      </fieldset>
      ${c.locations.length > 0 && html`<fieldset><legend>Locations — a role at each where they work</legend>
        ${c.locations.map((l) => html`<${Select} label=${l.name ?? l.key} value=${atLocation[l.key] ?? ''} onValue=${(v) => setAtLocation({ ...atLocation, [l.key]: v })} options=${roleOptions} />`)}
      </fieldset>`}
      ${c.institutions.length > 0 && html`<fieldset><legend>Institutions — a role at each</legend>
        ${c.institutions.map((i) => html`<${Select} label=${i.name ?? i.key} value=${atInstitution[i.key] ?? ''} onValue=${(v) => setAtInstitution({ ...atInstitution, [i.key]: v })} options=${roleOptions} />`)}
      </fieldset>`}
      ${c.teams.length > 0 && can(me, 'caregate.teams:edit', { tenantWide: true }) && html`<fieldset><legend>Teams</legend>
        ${c.teams.filter((t) => t.key !== 'everyone').map((t) => html`<${Checkbox} label=${t.name ?? t.key} checked=${teams.has(t.key)}
          onValue=${(on) => { const next = new Set(teams); if (on) next.add(t.key); else next.delete(t.key); setTeams(next); }} />`)}
      </fieldset>`}
      ${f.assignments && html`<p class="field-error" role="alert">${f.assignments}</p>`}
      <div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Adding…' : 'Add user'}</button> <${Link} class="button secondary" href="/users">Cancel<//></div>
    </form>
  <//>`;
}

// --- a user's page ----------------------------------------------------------------------------
const TABS = [['profile', 'Profile'], ['roles', 'Roles and locations'], ['teams', 'Teams'], ['access', 'Effective access'], ['signin', 'Sign-in methods'], ['sessions', 'Sessions'], ['activity', 'Activity']];

function UserPage({ user: ref }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(path`/users/${ref}`), [ref]);
  const [tab, setTab] = useState(queryOf().tab ?? 'profile');
  const [action, setAction] = useState(undefined);
  const user = loaded.data;
  if (!user) return html`<${Page} title=${ref} back=${{ href: '/users', label: 'Users' }}>${loadState(loaded, 'this user')}<//>`;
  const choose = (key) => {
    setTab(key);
    setQuery({ tab: key === 'profile' ? undefined : key });
  };
  const panels = { profile: ProfileTab, roles: RolesTab, teams: TeamsTab, access: AccessTab, signin: SignInTab, sessions: SessionsTab, activity: ActivityTab };
  const Panel = panels[tab] ?? ProfileTab;
  return html`<${Page} title=${name(user) ? `${name(user)} (${user.username})` : user.username} subtitle=${html`<${Status} status=${user.status} />${user.ownership === 'owner' ? ' · Owner of this organisation' : ''}`}
    back=${{ href: '/users', label: 'Users' }} actions=${html`<${Actions} user=${user} me=${me} onAction=${setAction} />`}>
    <${Tabs} label="About this user" tabs=${TABS} current=${tab} onChange=${choose}>
      <${Panel} user=${user} me=${me} reload=${loaded.reload} />
    <//>
    ${action && html`<${ActionDialog} action=${action} user=${user} onClose=${() => setAction(undefined)} onDone=${(gone) => (gone ? navigate('/users') : loaded.reload())} />`}
  <//>`;
}

/** The Actions menu: a disclosure of buttons (each opens its confirmation). */
function Actions({ user, me, onAction }) {
  const [open, setOpen] = useState(false);
  const edit = can(me, 'caregate.users:edit');
  const items = [
    edit && user.status !== 'active' && user.status !== 'invited' && ['enable', user.status === 'expired' ? 'Re-enable (expired)' : 'Enable'],
    edit && user.status === 'active' && ['disable', 'Disable'],
    edit && ['unlock', 'Unlock'],
    edit && ['reset-password', 'Reset password'],
    edit && ['reset-mfa', 'Reset two-step sign-in'],
    edit && user.status === 'invited' && ['invite', 'Resend invitation'],
    me.user?.owner && user.id !== me.user.id && user.status === 'active' && ['transfer', 'Transfer ownership to this user'],
    can(me, 'caregate.users:delete') && ['delete', 'Delete'],
  ].filter(Boolean);
  if (!items.length) return null;
  return html`<div class="actions-menu">
    <button type="button" aria-expanded=${open ? 'true' : 'false'} aria-controls="user-actions" onClick=${() => setOpen(!open)}>Actions</button>
    ${open && html`<ul id="user-actions" class="menu">${items.map(([key, text]) => html`<li><button type="button" class=${key === 'delete' ? 'danger' : 'secondary'} onClick=${() => { setOpen(false); onAction(key); }}>${text}</button></li>`)}</ul>`}
  </div>`;
}

function ActionDialog({ action, user, onClose, onDone }) {
  const u = path`/users/${user.username}`;
  const simple = {
    enable: ['Enable this user?', `${user.username} can sign in again.`, () => api.post(`${u}/enable`), `${user.username} is enabled.`, false],
    disable: ['Disable this user?', `${user.username} is signed out everywhere and cannot sign in until enabled.`, () => api.post(`${u}/disable`), `${user.username} is disabled.`, true],
    unlock: ['Unlock this account?', 'Clears the failed sign-ins that locked it.', () => api.post(`${u}/unlock`), `${user.username} is unlocked.`, false],
    'reset-mfa': ['Reset two-step sign-in?', `Removes ${user.username}'s second factors and recovery codes; they set one up again at their next sign-in.`, () => api.post(`${u}/mfa/reset`), 'Two-step sign-in was reset.', true],
    invite: ['Resend the invitation?', 'Sends a new activation link; the old one stops working.', () => api.post(`${u}/invitation`), 'The invitation was sent again.', false],
    transfer: ['Transfer ownership?', `${user.username} becomes the owner of this organisation; you stay an administrator.`, () => api.post('/owner/transfer', { user: user.username }), `${user.username} now owns this organisation.`, true],
  };
  const run = (work, success) => async () => {
    try {
      const result = await work();
      notify('success', typeof success === 'function' ? success(result) : success);
      onDone(action === 'delete');
      return true;
    } catch (error) {
      notify('error', error.message);
      return false;
    }
  };
  if (action === 'delete') {
    return html`<${Confirm} title="Delete this user?" message=${`This deletes ${user.username}, ends their sessions and revokes their tokens. It cannot be undone.`} confirmText="Delete user"
      typeToConfirm=${user.username} onConfirm=${run(() => api.del(u), `${user.username} was deleted.`)} onClose=${onClose} />`;
  }
  if (action === 'reset-password') return html`<${ResetPassword} user=${user} onClose=${onClose} onDone=${onDone} />`;
  const [title, message, work, success, danger] = simple[action];
  return html`<${Confirm} title=${title} message=${message} confirmText=${title.replace(/\?$/, '')} danger=${danger} onConfirm=${run(work, success)} onClose=${onClose} />`;
}

function ResetPassword({ user, onClose, onDone }) {
  const [mode, setMode] = useState(user.email ? 'link' : 'temporary');
  const [password, setPassword] = useState('');
  const [shown, setShown] = useState(undefined);
  const [submit, state] = useSubmit(async () => {
    const result = await api.post(path`/users/${user.username}/password/reset`, mode === 'set' ? { mode, password } : { mode });
    if (mode === 'temporary') setShown(result.password);
    else onClose();
    onDone();
    return result;
  }, { success: mode === 'link' ? 'A reset link was emailed.' : 'The password was set; they choose their own at next sign-in.' });
  if (shown) {
    return html`<${Dialog} title="Temporary password — shown once" onClose=${onClose}>
      <p>Give it to ${user.username} by a channel you trust; they must change it at their next sign-in.</p>
      <p class="secret-once" data-testid="temporary-password">${shown}</p>
      <div class="dialog-actions"><button type="button" onClick=${onClose}>Done</button></div>
    <//>`;
  }
  return html`<${Dialog} title="Reset password" onClose=${onClose}>
    <form onSubmit=${submit}>
      <fieldset><legend>How</legend>
        ${[['link', `Email a reset link${user.email ? ` to ${user.email}` : ' (no email address)'}`, !user.email], ['temporary', 'Set a random password (shown once)'], ['set', 'Set a password I choose']].map(([value, text, disabled]) => html`<div class="check">
          <input type="radio" name="reset-mode" id=${`reset-${value}`} checked=${mode === value} disabled=${disabled} onChange=${() => setMode(value)} /><label for=${`reset-${value}`}>${text}</label></div>`)}
      </fieldset>
      ${mode === 'set' && html`<${Field} label="New password" type="password" autocomplete="new-password" value=${password} onValue=${setPassword} error=${state.fields.password ?? (state.error && !Object.keys(state.fields).length ? state.error.message : undefined)} />`}
      <div class="dialog-actions"><button type="button" class="secondary" onClick=${onClose}>Cancel</button><button type="submit" disabled=${state.busy}>Reset password</button></div>
    </form>
  <//>`;
}

function ProfileTab({ user, me, reload }) {
  const catalogues = useCatalogues(me).data;
  const [form, setForm] = useState({
    givenName: user.givenName ?? '', familyName: user.familyName ?? '', username: user.username, email: user.email ?? '', phone: user.phone ?? '', userType: user.userType ?? '',
    phiAccess: user.phiAccess, outsideVendor: user.outsideVendor, expiresAt: user.expiresAt ? user.expiresAt.slice(0, 10) : '',
  });
  const set = (key) => (value) => setForm({ ...form, [key]: value });
  const editable = can(me, 'caregate.users:edit');
  const [submit, state] = useSubmit(async () => {
    const patch = {
      givenName: form.givenName || null, familyName: form.familyName || null, email: form.email || null, phone: form.phone || null, userType: form.userType || null,
      phiAccess: form.phiAccess, outsideVendor: form.outsideVendor, expiresAt: form.expiresAt ? new Date(form.expiresAt).toISOString() : null,
      ...(form.username !== user.username ? { username: form.username } : {}),
    };
    const updated = await api.patch(path`/users/${user.username}`, patch);
    if (updated.username !== user.username) navigate(path`/users/${updated.username}`, { replace: true });
    else reload();
    return updated;
  }, { success: 'Saved.' });
  const f = state.fields;
  return html`<form onSubmit=${submit} novalidate>
    <div class="form-grid">
      <${Field} label="Given name" value=${form.givenName} onValue=${set('givenName')} error=${f.givenName} disabled=${!editable} />
      <${Field} label="Family name" value=${form.familyName} onValue=${set('familyName')} error=${f.familyName} disabled=${!editable} />
      <${Field} label="Username" value=${form.username} onValue=${set('username')} error=${f.username} disabled=${!editable} />
      <${Field} label="Email" type="email" value=${form.email} onValue=${set('email')} error=${f.email} disabled=${!editable} />
      <${Field} label="Phone" type="tel" value=${form.phone} onValue=${set('phone')} error=${f.phone} disabled=${!editable} />
      ${catalogues?.profile && html`<${Select} label="User type" value=${form.userType} onValue=${set('userType')} error=${f.userType} disabled=${!editable}
        options=${[['', 'Not set'], ...catalogues.profile.userTypes.map((t) => [t, t.replace(/_/g, ' ')])]} />`}
      <${Field} label="Account end date" type="date" value=${form.expiresAt} onValue=${set('expiresAt')} error=${f.expiresAt} disabled=${!editable} />
    </div>
    <${Checkbox} label="May access PHI" checked=${form.phiAccess} onValue=${set('phiAccess')} disabled=${!editable} hint="Clearing it ends their roles that require PHI access" />
    <${Checkbox} label="Works for an outside vendor" checked=${form.outsideVendor} onValue=${set('outsideVendor')} disabled=${!editable} />
    <dl class="facts">
      <dt>Created</dt><dd>${formatTime(user.createdAt, { withZone: true })}</dd>
      <dt>Last sign-in</dt><dd>${formatTime(user.lastLoginAt, { withZone: true })}</dd>
      <dt>Source</dt><dd>${user.source}</dd>
    </dl>
    ${editable && html`<div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : 'Save profile'}</button></div>`}
  </form>`;
}

/** The midnight that ends `date` ("2026-12-31" → 1 Jan 2027 00:00, in the browser's zone). */
const dayAfter = (date) => {
  const end = new Date(`${date}T00:00`);
  end.setDate(end.getDate() + 1);
  return end;
};

/**
 * The roles a user (or a service account) holds directly, and the form that assigns one: a role, where,
 * optional start and end dates, and an optional weekly window (issue 18) in the tenant's time zone.
 * Exported for the Service accounts screen, whose accounts take roles the same way.
 */
export function RolesTab({ user, me, reload }) {
  const catalogues = useCatalogues(me).data;
  const [role, setRole] = useState('');
  const [where, setWhere] = useState('tenant:');
  const [dates, setDates] = useState({ startsAt: '', expiresAt: '' });
  const [windowed, setWindowed] = useState(false);
  const [ranges, setRanges] = useState(() => [newRange()]);
  const [removing, setRemoving] = useState(undefined);
  const [submit, state] = useSubmit(async () => {
    // A date is the start of that day in the browser's zone; the window's times are the tenant's.
    const body = {
      role, scope: toScope(where),
      ...(dates.startsAt ? { startsAt: new Date(`${dates.startsAt}T00:00`).toISOString() } : {}),
      ...(dates.expiresAt ? { expiresAt: dayAfter(dates.expiresAt).toISOString() } : {}),
      ...(windowed ? { timeWindow: ranges } : {}),
    };
    const result = await api.post(path`/users/${user.username}/assignments`, body).catch((error) => {
      // "timeWindow.1.end: …" in the banner reads as "Range 2, until: …", as the form names it.
      error.message = error.message.replace(/timeWindow\.(\d+)(?:\.(\w+))?: /g, (_, i, field) => `Range ${Number(i) + 1}${field ? `, ${{ start: 'from', end: 'until' }[field] ?? field}` : ''}: `);
      throw error;
    });
    setRole('');
    setWindowed(false);
    setRanges([newRange()]);
    setDates({ startsAt: '', expiresAt: '' });
    reload();
    return result;
  }, { success: 'Role assigned.' });
  const f = state.fields;
  const known = ['role', 'startsAt', 'expiresAt'];
  const other = state.error && !Object.keys(f).some((k) => known.includes(k) || k.startsWith('timeWindow')) ? state.error.message : undefined;
  return html`<div>
    ${user.assignments.length === 0 ? html`<p>${user.username} holds no role of their own${user.teams?.length ? ' (their teams may give them some: see Effective access)' : ''}.</p>` : html`
    <${Table} caption="Roles held directly" head=${['Role', 'Where', 'When', 'Since', 'Until', 'How', html`<span class="visually-hidden">Actions</span>`]}>
      ${user.assignments.map((a) => html`<tr><td>${a.role}</td><td>${scopeText(a.scope)}</td><td>${a.timeWindow?.length ? windowInWords(a.timeWindow) : 'Any time'}</td>
        <td>${formatTime(a.startsAt)}</td><td>${formatTime(a.expiresAt)}</td><td>${a.origin}</td>
        <td>${can(me, 'caregate.assignments:delete') && html`<button type="button" class="link" onClick=${() => setRemoving(a)} aria-label=${`Remove ${a.role} (${scopeText(a.scope)})`}>Remove</button>`}</td></tr>`)}
    <//>
    ${user.assignments.some((a) => a.timeWindow?.length) && html`<p class="hint">Weekly times are in ${timeZone()}.</p>`}`}
    ${can(me, 'caregate.assignments:create') && catalogues && html`<form class="card assign-form" onSubmit=${submit} novalidate>
      <h2>Assign a role</h2>
      <div class="form-grid">
        <${Select} label="Role" value=${role} onValue=${setRole} error=${f.role} options=${[['', 'Choose a role'], ...catalogues.roles.map((r) => [r.key, `${r.name}${r.requiresPhi ? ' (requires PHI)' : ''}`])]} />
        <${ScopePicker} catalogues=${catalogues} value=${where} onValue=${setWhere} idPrefix="assign" />
        <${Field} label="Starts on" type="date" hint="Optional: empty starts now" value=${dates.startsAt} onValue=${(v) => setDates({ ...dates, startsAt: v })} error=${f.startsAt} />
        <${Field} label="Ends on" type="date" hint="Optional: the role works through that day" value=${dates.expiresAt} onValue=${(v) => setDates({ ...dates, expiresAt: v })} error=${f.expiresAt} />
      </div>
      <${Checkbox} label="Only at certain times of the week" checked=${windowed} onValue=${setWindowed}
        hint="Outside these times the role gives nothing; a token issued inside them ends when they close." />
      ${windowed && html`<${WindowEditor} ranges=${ranges} onRanges=${setRanges} errors=${f} idPrefix="assign-window" />`}
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <button type="submit" disabled=${!role || state.busy}>Assign</button>
    </form>`}
    ${removing && html`<${Confirm} title="Remove this role?" message=${`${user.username} loses ${removing.role} (${scopeText(removing.scope)}).`} confirmText="Remove role"
      onConfirm=${async () => { try { await api.del(path`/assignments/${removing.id}`); notify('success', 'Role removed.'); reload(); return true; } catch (error) { notify('error', error.message); return false; } }}
      onClose=${() => setRemoving(undefined)} />`}
  </div>`;
}

function TeamsTab({ user, me, reload }) {
  const catalogues = useCatalogues(me).data;
  const [team, setTeam] = useState('');
  const editable = can(me, 'caregate.teams:edit', { tenantWide: true });
  const change = async (method, key) => {
    try {
      if (method === 'add') await api.post(path`/teams/${key}/members`, { user: user.username });
      else await api.del(path`/teams/${key}/members/${user.username}`);
      notify('success', method === 'add' ? `Added to ${key}.` : `Removed from ${key}.`);
      setTeam('');
      reload();
    } catch (error) {
      notify('error', error.message);
    }
  };
  const others = (catalogues?.teams ?? []).filter((t) => !user.teams.includes(t.key));
  return html`<div>
    ${user.teams.length === 0 ? html`<p>${user.username} is in no team.</p>` : html`<ul>${user.teams.map((key) => html`<li>${key}
      ${editable && key !== 'everyone' && html` <button type="button" class="link" onClick=${() => change('remove', key)} aria-label=${`Remove from ${key}`}>Remove</button>`}</li>`)}</ul>`}
    ${editable && others.length > 0 && html`<form class="toolbar" onSubmit=${(e) => { e.preventDefault(); if (team) change('add', team); }}>
      <${Select} label="Add to team" value=${team} onValue=${setTeam} options=${[['', 'Choose a team'], ...others.map((t) => [t.key, t.name ?? t.key])]} />
      <button type="submit" disabled=${!team}>Add</button></form>`}
  </div>`;
}

/** True when one of `held` (feature:action[:own], feature:*, *) covers `permission`. */
function covers(held, permission) {
  const [feature] = permission.split(':');
  return held.some((p) => p === '*' || p === permission || p === `${feature}:*` || `${p}:own` === permission);
}

function AccessTab({ user, me }) {
  const catalogues = useCatalogues(me).data;
  const [app, setApp] = useState('');
  const explained = useLoad(() => api.get(path`/users/${user.username}/effective-permissions`, { application: app || undefined }), [app]);
  const e = explained.data;
  const application = catalogues?.apps?.find((a) => a.clientId === app);
  const mayOverride = can(me, 'caregate.assignments:create') && can(me, 'caregate.assignments:delete');
  // A box shows what was just chosen until the server's answer replaces it (or the change fails).
  const [pending, setPending] = useState({});
  useEffect(() => setPending({}), [e]);
  /** Ticked: the token carries it. Unticking what a role gives denies it for this user; ticking what none gives grants it. */
  const change = async (permission, on) => {
    const fromRoles = e.grants.some((g) => g.inEffect && covers(g.permissions, permission));
    const existing = e.overrides.find((o) => o.permission === permission);
    setPending({ ...pending, [permission]: on });
    try {
      if (on === fromRoles) {
        if (existing) await api.del(path`/users/${user.username}/overrides/${existing.id}`);
      } else {
        await api.put(path`/users/${user.username}/overrides`, { application: app, permission, effect: on ? 'grant' : 'deny' });
      }
      notify('success', `${permission} is ${on ? 'now given to' : 'now withheld from'} ${user.username} in ${application.name}.`);
      explained.reload();
    } catch (error) {
      setPending({});
      notify('error', error.message);
    }
  };
  return html`<div>
    <p>What a token for the chosen application carries for ${user.username}, and where each part comes from.</p>
    ${catalogues?.apps?.length > 0 && html`<${Select} label="Application" value=${app} onValue=${setApp} options=${[['', 'No application (roles only)'], ...catalogues.apps.map((a) => [a.clientId, a.name])]} />`}
    ${loadState(explained, 'their access')}
    ${e && html`
      <dl class="facts"><dt>Roles</dt><dd>${e.roles.join(', ') || 'none'}</dd><dt>Permissions</dt><dd>${e.permissions.join(' ') || 'none'}</dd>
        <dt>PHI</dt><dd>${e.phi ? 'yes' : 'no'}</dd><dt>Locations</dt><dd>${Object.keys(e.locations).join(', ') || 'none'}</dd></dl>
      ${application && e.application === app && application.permissions.length > 0 && html`<fieldset class="card">
        <legend>Permissions in ${application.name} for ${user.username}</legend>
        <p class="hint">${mayOverride ? 'Untick to withhold a permission their roles give; tick to give one their roles do not. Deny wins.' : 'What their token carries for this application.'}</p>
        ${application.permissions.map((permission) => {
          const override = e.overrides.find((o) => o.permission === permission);
          return html`<${Checkbox} label=${permission} checked=${pending[permission] ?? e.permissions.includes(permission)} disabled=${!mayOverride || permission in pending} onValue=${(on) => change(permission, on)}
            hint=${override ? (override.effect === 'deny' ? 'Withheld for this user' : 'Given to this user only') : undefined} />`;
        })}
      </fieldset>`}
      <${Table} caption="Why" head=${['Role', 'Where', 'How', 'In effect', 'Permissions']}>
        ${e.grants.map((g) => html`<tr><td>${g.role}</td><td>${scopeText(g.scope)}</td><td>${g.via === 'direct' ? 'Assigned directly' : g.via === 'derived' ? 'Derived from another role' : `Through team ${g.via.slice(5)}`}</td>
          <td>${g.inEffect ? 'yes' : 'not yet'}${g.expiresAt ? ` (until ${formatTime(g.expiresAt)})` : ''}</td><td>${g.permissions.join(' ')}</td></tr>`)}
      <//>
      ${e.overrides.length > 0 && html`<h3>Overrides</h3><ul>${e.overrides.map((o) => html`<li>${o.effect === 'deny' ? 'Withheld' : 'Given'}: ${o.permission}</li>`)}</ul>`}`}
  </div>`;
}

function SignInTab({ user, me }) {
  const security = useLoad(() => api.get(path`/users/${user.username}/security`), [user.username]);
  const s = security.data;
  return html`<div>${loadState(security, 'sign-in methods')}${s && html`
    <dl class="facts">
      <dt>Locked</dt><dd>${s.lock?.locked ? `yes, since ${formatTime(s.lock.lockedAt)}` : 'no'} (${s.lock?.failures ?? 0} failed sign-ins)</dd>
      <dt>Password</dt><dd>${user.source === 'local' || s.passwordChangedAt ? `changed ${formatTime(s.passwordChangedAt)}` : 'none'}${s.mustChangePassword ? ' — must change at next sign-in' : ''}</dd>
      <dt>Second factors</dt><dd>${s.factors.length ? s.factors.map((f) => `${f.type}${f.name ? ` (${f.name})` : ''}`).join(', ') : 'none'}</dd>
      <dt>Recovery codes left</dt><dd>${s.recoveryCodesLeft}</dd>
      <dt>Linked identities</dt><dd>${user.identities.length ? user.identities.map((i) => i.upstream).join(', ') : 'none'}</dd>
    </dl>`}</div>`;
}

function SessionsTab({ user, me }) {
  const sessions = useLoad(() => api.get(path`/users/${user.username}/sessions`), [user.username]);
  const [ending, setEnding] = useState(undefined);
  const editable = can(me, 'caregate.users:edit');
  const end = async (id) => {
    try {
      await api.del(id ? path`/users/${user.username}/sessions/${id}` : path`/users/${user.username}/sessions`);
      notify('success', id ? 'The session was ended.' : 'All sessions were ended.');
      sessions.reload();
      return true;
    } catch (error) {
      notify('error', error.message);
      return false;
    }
  };
  const list = sessions.data ?? [];
  return html`<div>${loadState(sessions, 'sessions')}
    ${sessions.data && (list.length === 0 ? html`<p>${user.username} is not signed in anywhere.</p>` : html`
      <${Table} caption="Sign-on sessions" head=${['Device', 'Address', 'Signed in', 'Last seen', 'Ends', '']}>
        ${list.map((s) => html`<tr><td>${s.device ?? 'Unknown'}</td><td>${s.ip ?? ''}</td><td>${formatTime(s.signedInAt)}</td><td>${formatTime(s.lastSeenAt)}</td><td>${formatTime(s.expiresAt)}</td>
          <td>${editable && html`<button type="button" class="link" onClick=${() => setEnding(s.id)}>End</button>`}</td></tr>`)}
      <//>
      ${editable && html`<div class="form-actions"><button type="button" class="danger" onClick=${() => setEnding('all')}>End all sessions</button></div>`}`)}
    ${ending && html`<${Confirm} title=${ending === 'all' ? 'End all sessions?' : 'End this session?'} message="The device must sign in again." confirmText="End"
      onConfirm=${() => end(ending === 'all' ? undefined : ending)} onClose=${() => setEnding(undefined)} />`}
  </div>`;
}

function ActivityTab({ user, me }) {
  const events = useLoad(() => (can(me, 'caregate.audit:read') ? api.get('/audit', { user: user.id, limit: 50 }) : Promise.resolve(undefined)), [user.id]);
  if (!can(me, 'caregate.audit:read')) return html`<p>Reading activity needs the audit permission.</p>`;
  const list = events.data?.events ?? [];
  return html`<div>${loadState(events, 'activity')}
    ${events.data && (list.length === 0 ? html`<p>No activity about ${user.username} yet.</p>` : html`
      <${Table} caption=${`Latest activity about ${user.username}`} head=${['When', 'What happened', 'Outcome']}>
        ${list.map((e) => html`<tr><td>${formatTime(e.at ?? e.createdAt)}</td><td>${describeEvent(e, events.data.names)}</td><td>${e.outcome}</td></tr>`)}
      <//>
      <p><${Link} href=${`/activity?user=${encodeURIComponent(user.username)}`}>See all activity about ${user.username}<//></p>`)}
  </div>`;
}

export const nav = { label: 'Users', path: '/users', permission: 'caregate.users:read' };
export const routes = [
  { path: '/users', view: UserList },
  { path: '/users/new', view: AddUser },
  { path: '/users/:user', view: UserPage },
];
