// Teams: groups of people who hold roles together — a role given to a team holds for each member, at
// the team's scope. The list (the built-in Everyone team marked: everyone is a member, it cannot be
// deleted), Add team, and a team's page: its members (add by username, remove), the roles it holds
// and where (assign, take away), rename and delete. Teams are tenant-wide: their controls are shown
// to those who hold the permissions tenant-wide, as the API requires.
import { api, path } from '../api.js';
import { navigate } from '../router.js';
import {
  Confirm, Empty, Field, Link, Page, Select, Status, Table, can, html, loadState, notify, useLoad, useMe, useState, useSubmit,
} from '../ui.js';
import { AddDialog, DeleteDialog, RenameDialog } from './keyed.js';

const EVERYONE = 'everyone';
const MEMBERS_PAGE = 50;
const wide = (me, permission) => can(me, permission, { tenantWide: true });

function EveryoneBadge() {
  return html`<span class="badge team-builtin">Built in</span>`;
}

function TeamList() {
  const me = useMe();
  const list = useLoad(() => api.get('/teams'), []);
  const [adding, setAdding] = useState(false);
  const rows = [...(list.data ?? [])].sort((a, b) => (a.key === EVERYONE ? -1 : b.key === EVERYONE ? 1 : a.name.localeCompare(b.name)));
  const mayAdd = wide(me, 'caregate.teams:create');
  const own = rows.filter((t) => t.key !== EVERYONE);
  return html`<${Page} title="Teams" subtitle=${list.data ? `${rows.length} ${rows.length === 1 ? 'team' : 'teams'}` : undefined}
    actions=${mayAdd && html`<button type="button" onClick=${() => setAdding(true)}>Add team</button>`}>
    ${loadState(list, 'teams')}
    ${rows.length > 0 && html`<${Table} caption="Teams" hideCaption head=${['Name', 'Key', 'About']}>
      ${rows.map((t) => html`<tr>
        <td><${Link} href=${path`/teams/${t.key}`}>${t.name}<//> ${t.key === EVERYONE && html`<${EveryoneBadge} />`}</td>
        <td><code>${t.key}</code></td>
        <td>${t.key === EVERYONE ? 'Everyone in the organisation is a member; a role given to it holds for all. It cannot be deleted.' : ''}</td>
      </tr>`)}
    <//>`}
    ${list.data && own.length === 0 && html`<div class="team-list-empty"><${Empty} title="No teams of your own yet" action=${mayAdd && html`<button type="button" class="secondary" onClick=${() => setAdding(true)}>Add your first team</button>`}>
      A team holds roles for its members: give the team "Study coordinators" a role at a research site, and everyone you add to the team holds it there.<//></div>`}
    ${adding && html`<${AddDialog} title="Add a team" what="team" collection="/teams" onClose=${() => setAdding(false)}
      onDone=${(team) => navigate(path`/teams/${team.key}`)} />`}
  <//>`;
}

// --- a team's page -------------------------------------------------------------------------------
/** Where a role holds, by name when the place is known (`names`: "type:key" → name). */
const scopeText = (scope, names = new Map()) => {
  if (!scope || scope.type === 'tenant') return 'Everywhere';
  const kind = { location: 'Location', institution: 'Institution', application: 'Application' }[scope.type] ?? scope.type;
  const ref = scope.key ?? scope.clientId;
  return `${kind}: ${names.get(`${scope.type}:${ref}`) ?? ref}`;
};

function TeamPage({ team: ref }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(path`/teams/${ref}`), [ref]);
  const [acting, setActing] = useState(undefined);
  const team = loaded.data;
  if (!team) return html`<${Page} title=${ref} back=${{ href: '/teams', label: 'Teams' }}>${loadState(loaded, 'this team')}<//>`;
  const everyone = team.key === EVERYONE;
  const mayRename = wide(me, 'caregate.teams:edit');
  const mayDelete = !everyone && wide(me, 'caregate.teams:delete');
  const close = () => setActing(undefined);
  return html`<${Page} title=${team.name} back=${{ href: '/teams', label: 'Teams' }}
    subtitle=${html`Key <code>${team.key}</code>${everyone ? html` · <${EveryoneBadge} /> everyone is a member; it cannot be deleted` : ''}`}
    actions=${(mayRename || mayDelete) && html`
      ${mayRename && html`<button type="button" class="secondary" onClick=${() => setActing('rename')}>Rename</button>`}
      ${mayDelete && html`<button type="button" class="danger" onClick=${() => setActing('delete')}>Delete team</button>`}`}>
    <${Members} team=${team} me=${me} />
    ${can(me, 'caregate.assignments:read') && html`<${TeamRoles} team=${team} me=${me} />`}
    ${acting === 'rename' && html`<${RenameDialog} row=${team} url=${path`/teams/${team.key}`} onClose=${close} onDone=${loaded.reload} />`}
    ${acting === 'delete' && html`<${DeleteDialog} row=${team} what="team" url=${path`/teams/${team.key}`} onClose=${close} onDone=${() => navigate('/teams')}
      message=${`This deletes the team ${team.name}. Its members stay, but lose the roles they held through it. It cannot be undone.`} />`}
  <//>`;
}

/** A Confirm's action: runs `work`, then a success notice and `reload`; on refusal, the error, and the dialog stays. */
export const confirmed = (work, success, reload) => async () => {
  try {
    await work();
    notify('success', success);
    reload();
    return true;
  } catch (error) {
    notify('error', error.message);
    return false;
  }
};

function Members({ team, me }) {
  const [offset, setOffset] = useState(0);
  const members = useLoad(() => api.get(path`/teams/${team.key}/members`, { limit: MEMBERS_PAGE, offset }), [team.key, offset]);
  const [username, setUsername] = useState('');
  const [removing, setRemoving] = useState(undefined);
  const everyone = team.key === EVERYONE;
  const editable = !everyone && wide(me, 'caregate.teams:edit');
  const [add, state] = useSubmit(async () => {
    const user = username.trim();
    await api.post(path`/teams/${team.key}/members`, { user });
    setUsername('');
    members.reload();
    return user;
  }, { success: (user) => `${user} is now in ${team.name}.` });
  const rows = members.data ?? [];
  const addError = state.fields.user ?? (state.error && !Object.keys(state.fields).length ? state.error.message : undefined);
  return html`<section class="card team-section" aria-labelledby="team-members">
    <h2 id="team-members">Members</h2>
    ${everyone && html`<p class="hint">Everyone joins this team when their account is made, and leaves it when it is deleted.</p>`}
    ${loadState(members, 'members')}
    ${members.data && rows.length === 0 && offset === 0 && html`<p>${team.name} has no members yet.${editable ? ' Add people by their username below.' : ''}</p>`}
    ${rows.length > 0 && html`<${Table} caption=${`Members of ${team.name}`} hideCaption head=${['Username', 'Name', 'Status', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((u) => html`<tr>
        <td>${can(me, 'caregate.users:read') ? html`<${Link} href=${path`/users/${u.username}`}>${u.username}<//>` : u.username}</td>
        <td>${u.displayName ?? ''}</td><td><${Status} status=${u.status} /></td>
        <td>${editable && html`<button type="button" class="link" aria-label=${`Remove ${u.username} from ${team.name}`} onClick=${() => setRemoving(u)}>Remove</button>`}</td>
      </tr>`)}
    <//>`}
    ${(offset > 0 || rows.length === MEMBERS_PAGE) && html`<div class="pager">
      <button type="button" class="secondary" disabled=${offset === 0} onClick=${() => setOffset(Math.max(0, offset - MEMBERS_PAGE))}>Previous page</button>
      <span>${offset + 1}–${offset + rows.length}</span>
      <button type="button" class="secondary" disabled=${rows.length < MEMBERS_PAGE} onClick=${() => setOffset(offset + MEMBERS_PAGE)}>Next page</button>
    </div>`}
    ${editable && html`<form class="add-row" onSubmit=${add} novalidate>
      <${Field} label="Add a member by username" value=${username} onValue=${setUsername} error=${addError} autocomplete="off" />
      <button type="submit" disabled=${state.busy || !username.trim()}>${state.busy ? 'Adding…' : 'Add member'}</button>
    </form>`}
    ${removing && html`<${Confirm} title=${`Remove ${removing.username} from ${team.name}?`} message=${`${removing.username} loses the roles they hold through ${team.name}; their own roles stay.`} confirmText="Remove member"
      onConfirm=${confirmed(() => api.del(path`/teams/${team.key}/members/${removing.username}`), `${removing.username} left ${team.name}.`, members.reload)}
      onClose=${() => setRemoving(undefined)} />`}
  </section>`;
}

/** The roles, locations, institutions and applications the assign form offers (each only if readable). */
function useChoices(me) {
  return useLoad(async () => {
    const get = (permission, url) => (can(me, permission) ? api.get(url).catch(() => []) : Promise.resolve([]));
    const [roles, locations, institutions, apps] = await Promise.all([
      get('caregate.roles:read', '/roles'), get('caregate.locations:read', '/locations'), get('caregate.institutions:read', '/institutions'), get('caregate.applications:read', '/applications'),
    ]);
    return { roles, locations, institutions, apps };
  }, []);
}

const byName = (a, b) => (a.name ?? a.key).localeCompare(b.name ?? b.key);

function TeamRoles({ team, me }) {
  const held = useLoad(() => api.get(path`/teams/${team.key}/assignments`), [team.key]);
  const choices = useChoices(me).data;
  const [role, setRole] = useState('');
  const [where, setWhere] = useState('tenant');
  const [removing, setRemoving] = useState(undefined);
  const mayAssign = wide(me, 'caregate.assignments:create');
  const mayRemove = can(me, 'caregate.assignments:delete');
  const [assign, state] = useSubmit(async () => {
    const at = where.indexOf(':');
    const [type, key] = [where.slice(0, at), where.slice(at + 1)];
    const scope = where === 'tenant' ? { type: 'tenant' } : type === 'application' ? { type, clientId: key } : { type, key };
    const created = await api.post(path`/teams/${team.key}/assignments`, { role, scope });
    setRole('');
    held.reload();
    return created;
  }, { success: `${team.name} holds the role now; its members hold it through the team.` });
  const rows = held.data ?? [];
  const roleName = (key) => choices?.roles.find((r) => r.key === key)?.name ?? key;
  const names = new Map(choices ? [
    ...choices.locations.map((l) => [`location:${l.key}`, l.name]), ...choices.institutions.map((i) => [`institution:${i.key}`, i.name]), ...choices.apps.map((a) => [`application:${a.clientId}`, a.name]),
  ] : []);
  const placeOf = (scope) => scopeText(scope, names);
  const groups = choices ? [
    ['Location', 'location', [...choices.locations].sort(byName).map((l) => [l.key, l.name])],
    ['Institution', 'institution', [...choices.institutions].sort(byName).map((i) => [i.key, i.name])],
    ['Application', 'application', [...choices.apps].sort(byName).map((a) => [a.clientId, a.name])],
  ].filter(([, , items]) => items.length) : [];
  return html`<section class="card team-section" aria-labelledby="team-roles">
    <h2 id="team-roles">Roles held by the team</h2>
    <p class="hint">Each member holds these roles, where shown, for as long as they are in the team.</p>
    ${loadState(held, 'the team\'s roles')}
    ${held.data && rows.length === 0 && html`<p>${team.name} holds no role yet.</p>`}
    ${rows.length > 0 && html`<${Table} caption=${`Roles held by ${team.name}`} hideCaption head=${['Role', 'Where', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((a) => html`<tr>
        <td>${roleName(a.role)}</td><td>${placeOf(a.scope)}</td>
        <td>${mayRemove && html`<button type="button" class="link" aria-label=${`Take away ${roleName(a.role)} (${placeOf(a.scope)}) from ${team.name}`} onClick=${() => setRemoving(a)}>Take away</button>`}</td>
      </tr>`)}
    <//>`}
    ${mayAssign && choices && html`<form onSubmit=${assign} novalidate>
      <h3>Give the team a role</h3>
      <div class="form-grid">
        <${Select} label="Role" value=${role} onValue=${setRole} error=${state.fields.role}
          options=${[['', 'Choose a role'], ...[...choices.roles].sort(byName).map((r) => [r.key, `${r.name}${r.requiresPhi ? ' (requires PHI)' : ''}`])]} />
        <div class=${`field${state.fields.scope ? ' invalid' : ''}`}>
          <label for="team-role-where">Where</label>
          <select id="team-role-where" value=${where} onChange=${(e) => setWhere(e.currentTarget.value)}>
            <option value="tenant" selected=${where === 'tenant'}>Everywhere (tenant-wide)</option>
            ${groups.map(([label, type, items]) => html`<optgroup label=${label}>${items.map(([key, text]) => html`<option value=${`${type}:${key}`} selected=${where === `${type}:${key}`}>${text}</option>`)}</optgroup>`)}
          </select>
        </div>
      </div>
      ${state.error && !state.fields.role && html`<p class="field-error" role="alert">${state.error.message}</p>`}
      <button type="submit" disabled=${!role || state.busy}>${state.busy ? 'Assigning…' : 'Assign role'}</button>
    </form>`}
    ${removing && html`<${Confirm} title="Take this role away?" message=${`${team.name} and its members through it lose ${roleName(removing.role)} (${placeOf(removing.scope)}).`} confirmText="Take away"
      onConfirm=${confirmed(() => api.del(path`/assignments/${removing.id}`), `${team.name} no longer holds ${roleName(removing.role)} (${placeOf(removing.scope)}).`, held.reload)}
      onClose=${() => setRemoving(undefined)} />`}
  </section>`;
}

export const nav = { label: 'Teams', path: '/teams', permission: 'caregate.teams:read' };
export const routes = [
  { path: '/teams', view: TeamList },
  { path: '/teams/:team', view: TeamPage },
];
