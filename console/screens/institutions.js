// Institutions: the organisations people work for or through — research sites, partner hospitals,
// schools — listed, added, renamed, deleted when no role is held there. A coordinator holding the
// permission at one institution sees only theirs (the API lists only what is within their scope).
import { api, path } from '../api.js';
import { Empty, Page, Table, can, html, loadState, useLoad, useMe, useState } from '../ui.js';
import { AddDialog, DeleteDialog, RenameDialog } from './keyed.js';

function Institutions() {
  const me = useMe();
  const list = useLoad(() => api.get('/institutions'), []);
  const [acting, setActing] = useState(undefined);
  const rows = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  // Adding and deleting are tenant-wide; renaming is allowed where the permission is held.
  const mayAdd = can(me, 'caregate.institutions:create', { tenantWide: true });
  const mayRename = can(me, 'caregate.institutions:edit');
  const mayDelete = can(me, 'caregate.institutions:delete', { tenantWide: true });
  const close = () => setActing(undefined);
  const [action, row] = acting ?? [];
  const add = () => setActing(['add']);
  return html`<${Page} title="Institutions" subtitle=${rows.length ? `${rows.length} ${rows.length === 1 ? 'institution' : 'institutions'}` : undefined}
    actions=${mayAdd && rows.length > 0 && html`<button type="button" onClick=${add}>Add institution</button>`}>
    ${loadState(list, 'institutions')}
    ${list.data && rows.length === 0 && html`<${Empty} title="No institutions yet" action=${mayAdd && html`<button type="button" onClick=${add}>Add your first institution</button>`}>
      An institution is an organisation people work for or through — a research site, a partner hospital, a school. Give someone a role at an institution and it holds only there.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Institutions" hideCaption head=${['Name', 'Key', html`<span class="visually-hidden">Actions</span>`]}>
      ${rows.map((i) => html`<tr>
        <td>${i.name}</td><td><code>${i.key}</code></td>
        <td class="row-actions">
          ${mayRename && html`<button type="button" class="link" aria-label=${`Rename ${i.name}`} onClick=${() => setActing(['rename', i])}>Rename</button>`}
          ${mayDelete && html`<button type="button" class="link danger-link" aria-label=${`Delete ${i.name}`} onClick=${() => setActing(['delete', i])}>Delete</button>`}
        </td>
      </tr>`)}
    <//>`}
    ${action === 'add' && html`<${AddDialog} title="Add an institution" what="institution" collection="/institutions" onClose=${close} onDone=${list.reload} />`}
    ${action === 'rename' && html`<${RenameDialog} row=${row} url=${path`/institutions/${row.key}`} onClose=${close} onDone=${list.reload} />`}
    ${action === 'delete' && html`<${DeleteDialog} row=${row} what="institution" url=${path`/institutions/${row.key}`} onClose=${close} onDone=${list.reload}
      message=${`This deletes the institution ${row.name} (${row.key}). An institution where roles are still held cannot be deleted: remove those roles first.`} />`}
  <//>`;
}

export const nav = { label: 'Institutions', path: '/institutions', permission: 'caregate.institutions:read' };
export const routes = [{ path: '/institutions', view: Institutions }];
