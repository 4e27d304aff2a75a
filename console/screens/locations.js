// Locations: the tenant's places as a tree — regions, clinics, wards — added at the top or below a
// location, renamed, moved under another parent (never below themselves), deleted when empty. A
// location manager sees only their subtree (the API lists only what is within their scope) and is
// offered only what they may do there; the API refuses the rest anyway.
import { api, path } from '../api.js';
import { Dialog, Empty, Page, Select, can, html, loadState, useLoad, useMe, useState, useSubmit } from '../ui.js';
import { AddDialog, DeleteDialog, RenameDialog } from './keyed.js';

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/** The rows as a forest: each location with its children, sorted by name; a row whose parent is not visible is a root. */
function forest(rows) {
  const byId = new Map(rows.map((r) => [r.id, { ...r, children: [] }]));
  const roots = [];
  for (const node of byId.values()) (node.parentId && byId.has(node.parentId) ? byId.get(node.parentId).children : roots).push(node);
  const sort = (list) => list.sort((a, b) => a.name.localeCompare(b.name)).forEach((n) => sort(n.children));
  sort(roots);
  return { roots, byId };
}

/** The ids of `node` and everything below it. */
const subtree = (node) => [node.id, ...node.children.flatMap(subtree)];

/** Each location as "Region › Clinic", for the parent choosers. */
function pathName(node, byId) {
  const names = [];
  for (let n = node; n; n = n.parentId ? byId.get(n.parentId) : undefined) names.unshift(n.name);
  return names.join(' › ');
}

function Tree({ nodes, depth, rights, onAct }) {
  return html`<ul class=${depth === 0 ? 'tree root' : 'tree'}>
    ${nodes.map((node) => html`<li>
      <div class="tree-row location-row">
        <span class="location-name">${node.name}</span>
        <code class="location-key">${node.key}</code>
        ${node.children.length > 0 && html`<span class="hint">${plural(node.children.length, 'location', 'locations')} below</span>`}
        <span class="location-actions">
          ${rights.create && html`<button type="button" class="link" aria-label=${`Add below ${node.name}`} onClick=${() => onAct('add', node)}>Add below</button>`}
          ${rights.edit && html`<button type="button" class="link" aria-label=${`Rename ${node.name}`} onClick=${() => onAct('rename', node)}>Rename</button>`}
          ${rights.move(node) && html`<button type="button" class="link" aria-label=${`Move ${node.name}`} onClick=${() => onAct('move', node)}>Move</button>`}
          ${rights.remove(node) && html`<button type="button" class="link danger-link" aria-label=${`Delete ${node.name}`} onClick=${() => onAct('delete', node)}>Delete</button>`}
        </span>
      </div>
      ${node.children.length > 0 && html`<${Tree} nodes=${node.children} depth=${depth + 1} rights=${rights} onAct=${onAct} />`}
    </li>`)}
  </ul>`;
}

function MoveDialog({ node, byId, topLevel, onClose, onDone }) {
  const inside = new Set(subtree(node));
  const targets = [...byId.values()].filter((l) => !inside.has(l.id)).map((l) => [l.key, pathName(l, byId)]).sort((a, b) => a[1].localeCompare(b[1]));
  const current = node.parentId && byId.has(node.parentId) ? byId.get(node.parentId).key : '';
  const options = [...(topLevel ? [['', 'Top level (no parent)']] : []), ...targets];
  const [parent, setParent] = useState(current || options[0]?.[0] || '');
  const [submit, state] = useSubmit(async () => {
    const moved = await api.patch(path`/locations/${node.key}`, { parent: parent || null });
    onDone();
    onClose();
    return moved;
  }, { success: () => `${node.name} now lies ${parent ? `below ${[...byId.values()].find((l) => l.key === parent).name}` : 'at the top level'}.` });
  return html`<${Dialog} title=${`Move ${node.name}`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <p>${node.children.length ? `The ${plural(subtree(node).length - 1, 'location', 'locations')} below ${node.name} move with it. ` : ''}Roles held at ${node.name} stay; administrators of its new parent will manage its people.</p>
      ${options.length === 0 ? html`<p>There is nowhere else within your locations to move it.</p>` : html`
        <${Select} label="New parent" value=${parent} onValue=${setParent} options=${options} error=${state.fields.parent ?? (state.error && !Object.keys(state.fields).length ? state.error.message : undefined)}
          hint=${`${node.name} and the locations below it are not offered: a location cannot move below itself.`} />`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        ${options.length > 0 && html`<button type="submit" disabled=${state.busy || parent === current}>${state.busy ? 'Moving…' : 'Move'}</button>`}
      </div>
    </form>
  <//>`;
}

function Locations() {
  const me = useMe();
  const list = useLoad(() => api.get('/locations'), []);
  const [acting, setActing] = useState(undefined);
  const rows = list.data ?? [];
  const { roots, byId } = forest(rows);
  // Top-level changes (adding or moving to the top, deleting or moving a root) are tenant-wide; a
  // location manager works below the location they hold.
  const wide = (action) => can(me, `caregate.locations:${action}`, { tenantWide: true });
  const isRoot = (node) => !node.parentId || !byId.has(node.parentId);
  const rights = {
    create: can(me, 'caregate.locations:create'),
    edit: can(me, 'caregate.locations:edit'),
    move: (node) => can(me, 'caregate.locations:edit') && (wide('edit') || (!isRoot(node) && rows.length > subtree(node).length)),
    remove: (node) => can(me, 'caregate.locations:delete') && (wide('delete') || !isRoot(node)),
  };
  const addTop = wide('create');
  const close = () => setActing(undefined);
  const [action, node] = acting ?? [];
  const parentOptions = [...(addTop ? [['', 'Top level (no parent)']] : []), ...[...byId.values()].map((l) => [l.key, pathName(l, byId)]).sort((a, b) => a[1].localeCompare(b[1]))];

  return html`<${Page} title="Locations" subtitle=${list.data && rows.length ? `${plural(rows.length, 'location', 'locations')}${wide('read') ? '' : ' within your scope'}` : undefined}
    actions=${rights.create && rows.length > 0 && (addTop || parentOptions.length > 0) && html`<button type="button" onClick=${() => setActing(['add', undefined])}>Add location</button>`}>
    ${loadState(list, 'locations')}
    ${list.data && rows.length === 0 && html`<${Empty} title="No locations yet"
      action=${addTop && html`<button type="button" onClick=${() => setActing(['add', undefined])}>Add your first clinic</button>`}>
      ${addTop ? 'Add your first clinic — or a region, then its clinics below it. Roles can then be given at a location, and a location manager runs the locations below theirs.'
        : 'There are no locations within your scope. An administrator of the whole organisation adds them.'}<//>`}
    ${rows.length > 0 && html`<div class="card">
      <h2 class="visually-hidden">Location tree</h2>
      <p class="hint">A role given at a location holds there and at every location below it.</p>
      <${Tree} nodes=${roots} depth=${0} rights=${rights} onAct=${(a, n) => setActing([a, n])} />
    </div>`}
    ${action === 'add' && html`<${AddLocation} below=${node} parentOptions=${parentOptions} onClose=${close} onDone=${list.reload} />`}
    ${action === 'rename' && html`<${RenameDialog} row=${node} url=${path`/locations/${node.key}`} onClose=${close} onDone=${list.reload} />`}
    ${action === 'move' && html`<${MoveDialog} node=${node} byId=${byId} topLevel=${wide('edit')} onClose=${close} onDone=${list.reload} />`}
    ${action === 'delete' && html`<${DeleteDialog} row=${node} what="location" url=${path`/locations/${node.key}`} onClose=${close} onDone=${list.reload}
      blocked=${node.children.length ? `${plural(node.children.length, 'location lies', 'locations lie')} below ${node.name} (${node.children.map((c) => c.name).join(', ')}). Move or delete ${node.children.length === 1 ? 'it' : 'them'} first.` : undefined}
      message=${`This deletes the location ${node.name} (${node.key}). A location where roles are still held cannot be deleted: remove those roles first.`} />`}
  <//>`;
}

function AddLocation({ below, parentOptions, onClose, onDone }) {
  const [parent, setParent] = useState(below?.key ?? parentOptions[0]?.[0] ?? '');
  return html`<${AddDialog} title=${below ? `Add a location below ${below.name}` : 'Add a location'} what="location" collection="/locations" onClose=${onClose} onDone=${onDone}
    extraBody=${() => (parent ? { parent } : {})}
    extraFields=${(f) => !below && html`<${Select} label="Parent" value=${parent} onValue=${setParent} options=${parentOptions} error=${f.parent} hint="Where it lies: at the top, or below a region or another location." />`} />`;
}

export const nav = { label: 'Locations', path: '/locations', permission: 'caregate.locations:read' };
export const routes = [{ path: '/locations', view: Locations }];
