// The dialogs Locations, Institutions and Teams share — they are all a key and a name: add one (the
// key suggested from the name), rename one (the key stays), delete one (refused with the reason
// when something still depends on it, shown in the dialog itself).
import { api } from '../api.js';
import { Dialog, Field, html, useEffect, useRef, useState, useSubmit } from '../ui.js';

/** A key the API accepts, suggested from a name: "North Clinic (Leeds)" → "north-clinic-leeds". */
export const keyFrom = (name) => name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);

const KEY_HINT = 'How the API, tokens and the command line name it: lowercase letters, digits, - and _. It cannot change later.';

/**
 * Adds a `what` by POST to `collection`: a name, its key, and what `extra` adds to the form
 * (`extraFields` draws it, `extraBody` puts it in the request).
 */
export function AddDialog({ title, what, collection, extraFields, extraBody, onClose, onDone }) {
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [keyTouched, setKeyTouched] = useState(false);
  const shownKey = keyTouched ? key : keyFrom(name);
  const [submit, state] = useSubmit(async () => {
    const created = await api.post(collection, { name: name.trim(), key: shownKey, ...(extraBody?.() ?? {}) });
    onDone(created);
    onClose();
    return created;
  }, { success: (c) => `${c.name} was added.` });
  const f = state.fields;
  const other = state.error && !f.name && !f.key && !f.parent ? state.error.message : undefined;
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${Field} label="Name" required value=${name} onValue=${setName} error=${f.name} autocomplete="off" autofocus />
      <${Field} label="Key" required hint=${KEY_HINT} value=${shownKey} onValue=${(v) => { setKeyTouched(true); setKey(v); }} error=${f.key} autocomplete="off" />
      ${extraFields?.(f)}
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy}>${state.busy ? 'Adding…' : `Add ${what}`}</button>
      </div>
    </form>
  <//>`;
}

/** Renames a row by PATCH {name} to `url`; its key stays. */
export function RenameDialog({ row, url, onClose, onDone }) {
  const [name, setName] = useState(row.name ?? '');
  const [submit, state] = useSubmit(async () => {
    const updated = await api.patch(url, { name: name.trim() });
    onDone(updated);
    onClose();
    return updated;
  }, { success: (u) => `Renamed to ${u.name}.` });
  const error = state.fields.name ?? state.error?.message;
  return html`<${Dialog} title=${`Rename ${row.name}`} onClose=${onClose}>
    <form onSubmit=${submit} novalidate>
      <${Field} label="New name" required value=${name} onValue=${setName} error=${error} hint=${`The key ${row.key} stays, and so does everything held there.`} autocomplete="off" autofocus />
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" disabled=${state.busy || !name.trim()}>${state.busy ? 'Saving…' : 'Rename'}</button>
      </div>
    </form>
  <//>`;
}

/**
 * Deletes a row by DELETE to `url` after asking. With `blocked` (why it cannot go), it only
 * explains; a refusal from the server (a 409 naming what is left) is shown in the dialog.
 */
export function DeleteDialog({ row, what, url, message, blocked, onClose, onDone }) {
  const close = useRef(null);
  const [submit, state] = useSubmit(async () => {
    await api.del(url);
    onDone();
    onClose();
    return row;
  }, { success: `${row.name} was deleted.` });
  // Refused: the Delete button goes, so focus moves to Close, under the reason.
  useEffect(() => {
    if (state.error) close.current?.focus();
  }, [state.error]);
  if (blocked) {
    return html`<${Dialog} title=${`${row.name} cannot be deleted`} onClose=${onClose}>
      <p>${blocked}</p>
      <div class="dialog-actions"><button type="button" onClick=${onClose} autofocus>Close</button></div>
    <//>`;
  }
  return html`<${Dialog} title=${`Delete ${row.name}?`} onClose=${onClose}>
    <form onSubmit=${submit}>
      <p>${message ?? `This deletes the ${what} ${row.name} (${row.key}). It cannot be undone.`}</p>
      ${state.error && html`<p class="field-error" role="alert">${state.error.status === 409 ? `It cannot be deleted: ${state.error.message}` : state.error.message}</p>`}
      <div class="dialog-actions">
        <button type="button" class="secondary" ref=${close} onClick=${onClose}>${state.error ? 'Close' : 'Cancel'}</button>
        ${!state.error && html`<button type="submit" class="danger" disabled=${state.busy}>${state.busy ? 'Deleting…' : `Delete ${what}`}</button>`}
      </div>
    </form>
  <//>`;
}
