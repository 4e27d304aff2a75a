// The console's building blocks, shared by every screen: page heading (focused when the screen
// changes), notices, labelled form fields with their errors, dialogs (native <dialog>: focus is
// trapped and returned by the browser), confirmations (typed where the action cannot be undone),
// tabs with arrow keys, tables, empty states that say what to do, and times in the tenant's zone.
import { html, useCallback, useEffect, useRef, useState, createContext, useContext } from './vendor/preact-htm.js';
import { href, navigate, onNavigate } from './router.js';

export { html, useCallback, useEffect, useRef, useState };

/** What the signed-in administrator may do (GET /me), for every screen. */
export const Me = createContext(null);
export const useMe = () => useContext(Me);

/** True when the person holds `permission` (given a list: any of them) — tenant-wide with `tenantWide`, else anywhere. */
export function can(me, permission, { tenantWide = false } = {}) {
  if (Array.isArray(permission)) return permission.some((p) => can(me, p, { tenantWide }));
  const reach = me?.permissions?.[permission];
  return tenantWide ? reach === 'tenant' : Boolean(reach);
}

// --- notices ---------------------------------------------------------------------------------
const noticeListeners = new Set();
let noticeSeq = 0;
/** Shows a success (polite) or error (assertive) notice at the top of the page. */
export function notify(kind, text) {
  const notice = { id: ++noticeSeq, kind, text };
  for (const listener of noticeListeners) listener(notice);
}

/** A new attempt starts: what the last one said no longer describes the screen (and saying it again is announced again). */
function clearNotices() {
  for (const listener of noticeListeners) listener(null);
}

export function Notices() {
  const [list, setList] = useState([]);
  useEffect(() => {
    const listener = (notice) => {
      if (!notice) return setList([]);
      setList((l) => [...l.filter((n) => n.kind !== notice.kind), notice]);
      if (notice.kind === 'success') setTimeout(() => setList((l) => l.filter((n) => n.id !== notice.id)), 8000);
    };
    noticeListeners.add(listener);
    // An error belongs to the screen it was shown on: moving to another one clears it. A success
    // ("Chart was deleted.") follows the person to where the action took them, and fades by itself.
    const stopListening = onNavigate(() => setList((l) => l.filter((n) => n.kind !== 'error')));
    return () => {
      noticeListeners.delete(listener);
      stopListening();
    };
  }, []);
  const success = list.find((n) => n.kind === 'success');
  const error = list.find((n) => n.kind === 'error');
  return html`<div class="notices">
    <div role="status" aria-live="polite">${success && html`<p class="notice success">${success.text}</p>`}</div>
    <div role="alert">${error && html`<p class="notice error">${error.text} <button type="button" class="link" onClick=${() => setList((l) => l.filter((n) => n !== error))}>Dismiss</button></p>`}</div>
  </div>`;
}

// --- page ------------------------------------------------------------------------------------
/** A screen: its heading (focused when the screen opens, so screen readers announce it), actions, body. */
export function Page({ title, subtitle, actions, back, children }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · ${document.body.dataset.tenantName} console`;
    heading.current?.focus();
  }, [title]);
  return html`<section class="page" aria-labelledby="page-title">
    ${back && html`<p class="back"><${Link} href=${back.href}>← ${back.label}<//></p>`}
    <header class="page-header">
      <div>
        <h1 id="page-title" tabindex="-1" ref=${heading}>${title}</h1>
        ${subtitle && html`<p class="subtitle">${subtitle}</p>`}
      </div>
      ${actions && html`<div class="page-actions">${actions}</div>`}
    </header>
    ${children}
  </section>`;
}

/** A link inside the console: moves without reloading the page. */
export function Link({ href: to, children, ...rest }) {
  const onClick = (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return html`<a href=${href(to)} onClick=${onClick} ...${rest}>${children}</a>`;
}

// --- data ------------------------------------------------------------------------------------
/** Runs `load` when `deps` change: { data, error, loading, reload }. */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true });
  const [version, setVersion] = useState(0);
  const previous = useRef(deps);
  useEffect(() => {
    let live = true;
    // New inputs (other filters, another user): what was shown no longer answers them, so it goes.
    // A reload of the same inputs keeps it on screen until the new answer arrives.
    const changed = deps.length !== previous.current.length || deps.some((d, i) => d !== previous.current[i]);
    previous.current = deps;
    setState((s) => (changed ? { loading: true } : { ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState({ error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, version]);
  return { ...state, reload: useCallback(() => setVersion((v) => v + 1), []) };
}

/** What a load shows while it runs or when it failed; undefined once there is data. */
export function loadState({ loading, error, data }, what = 'this') {
  if (error) return html`<p class="notice error" role="alert">Could not load ${what}: ${error.message}</p>`;
  if (loading && data === undefined) return html`<p class="loading" aria-busy="true">Loading ${what}…</p>`;
  return undefined;
}

// --- forms -----------------------------------------------------------------------------------
let fieldSeq = 0;
const useId = (prefix) => useRef(`${prefix}-${++fieldSeq}`).current;

/** A labelled input; `error` is shown under it and announced; `hint` describes it. */
export function Field({ label, error, hint, type = 'text', value, onValue, required, id, ...rest }) {
  const fieldId = id ?? useId('f');
  const described = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${fieldId}>${label}${required && html`<span class="required" aria-hidden="true"> *</span>`}</label>
    ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
    <input id=${fieldId} type=${type} value=${value ?? ''} required=${required} aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onValue?.(e.currentTarget.value)} ...${rest} />
    ${error && html`<p class="field-error" id=${`${fieldId}-error`}>${error}</p>`}
  </div>`;
}

/** A labelled select of `options` ([value, label] pairs). */
export function Select({ label, error, hint, value, onValue, options, id, ...rest }) {
  const fieldId = id ?? useId('s');
  const described = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${fieldId}>${label}</label>
    ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
    <select id=${fieldId} value=${value ?? ''} aria-invalid=${error ? 'true' : undefined} aria-describedby=${described} onChange=${(e) => onValue?.(e.currentTarget.value)} ...${rest}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === (value ?? '')}>${text}</option>`)}
    </select>
    ${error && html`<p class="field-error" id=${`${fieldId}-error`}>${error}</p>`}
  </div>`;
}

/** A checkbox with its label (and an optional hint). */
export function Checkbox({ label, checked, onValue, hint, id, ...rest }) {
  const fieldId = id ?? useId('c');
  return html`<div class="check">
    <input type="checkbox" id=${fieldId} checked=${Boolean(checked)} aria-describedby=${hint ? `${fieldId}-hint` : undefined} onChange=${(e) => onValue?.(e.currentTarget.checked)} ...${rest} />
    <label for=${fieldId}>${label}</label>
    ${hint && html`<span class="hint" id=${`${fieldId}-hint`}>${hint}</span>`}
  </div>`;
}

/**
 * Runs a form's save: busy while it runs, field errors from the API beside their fields, a notice
 * either way. Returns [submit, { busy, fields, error }].
 */
export function useSubmit(save, { success } = {}) {
  const [state, setState] = useState({ busy: false, fields: {}, error: undefined });
  const submit = async (event) => {
    event?.preventDefault?.();
    clearNotices();
    setState({ busy: true, fields: {}, error: undefined });
    try {
      const result = await save();
      setState({ busy: false, fields: {}, error: undefined });
      if (success) notify('success', typeof success === 'function' ? success(result) : success);
      return result;
    } catch (error) {
      setState({ busy: false, fields: error.fields ?? {}, error });
      notify('error', error.message);
      return undefined;
    }
  };
  return [submit, state];
}

// --- dialogs ---------------------------------------------------------------------------------
/** A modal dialog: opened with showModal (focus moves in and is trapped); Escape or Cancel closes it. */
export function Dialog({ title, onClose, children, wide }) {
  const ref = useRef(null);
  const titleId = useId('d');
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    const cancel = (e) => {
      e.preventDefault();
      onClose();
    };
    dialog?.addEventListener('cancel', cancel);
    return () => dialog?.removeEventListener('cancel', cancel);
  }, []);
  return html`<dialog ref=${ref} class=${wide ? 'wide' : ''} aria-labelledby=${titleId}>
    <h2 id=${titleId}>${title}</h2>
    ${children}
  </dialog>`;
}

/**
 * Asks before a destructive action. With `typeToConfirm`, the button works only once that text is
 * typed (deleting a user: their username).
 */
export function Confirm({ title, message, confirmText = 'Confirm', danger = true, typeToConfirm, onConfirm, onClose }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const ready = !typeToConfirm || typed === typeToConfirm;
  const go = async (event) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    const done = await onConfirm();
    setBusy(false);
    if (done !== false) onClose();
  };
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <form onSubmit=${go}>
      <p>${message}</p>
      ${typeToConfirm && html`<${Field} label=${`Type ${typeToConfirm} to confirm`} value=${typed} onValue=${setTyped} autocomplete="off" autofocus />`}
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
        <button type="submit" class=${danger ? 'danger' : ''} disabled=${!ready || busy}>${busy ? 'Working…' : confirmText}</button>
      </div>
    </form>
  <//>`;
}

// --- tabs, tables, empty states ----------------------------------------------------------------
/** Tabs with arrow keys, Home and End (WAI-ARIA tabs pattern); `tabs` is [[key, label]…]. */
export function Tabs({ tabs, current, onChange, label, children }) {
  const refs = useRef({});
  const keydown = (event, index) => {
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    const [key] = tabs[(next + tabs.length) % tabs.length];
    onChange(key);
    setTimeout(() => refs.current[key]?.focus());
  };
  return html`<div class="tabs">
    <div role="tablist" aria-label=${label}>
      ${tabs.map(([key, text], i) => html`<button type="button" role="tab" id=${`tab-${key}`} aria-selected=${key === current ? 'true' : 'false'} aria-controls=${`panel-${key}`}
        tabindex=${key === current ? 0 : -1} ref=${(el) => (refs.current[key] = el)} onClick=${() => onChange(key)} onKeyDown=${(e) => keydown(e, i)}>${text}</button>`)}
    </div>
    <div role="tabpanel" id=${`panel-${current}`} aria-labelledby=${`tab-${current}`} tabindex="0">${children}</div>
  </div>`;
}

/** A table with a caption (visually hidden when `hideCaption`), for lists of records. */
export function Table({ caption, hideCaption, head, children }) {
  // A region that scrolls sideways on a phone must be reachable by keyboard (WCAG 2.1.1).
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}><table>
    <caption class=${hideCaption ? 'visually-hidden' : ''}>${caption}</caption>
    <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${children}</tbody>
  </table></div>`;
}

/** What an empty list says: what it is for, and the first thing to do. */
export function Empty({ title, children, action }) {
  return html`<div class="empty"><h2>${title}</h2><p>${children}</p>${action}</div>`;
}

// --- time ------------------------------------------------------------------------------------
const zone = () => document.body.dataset.timeZone || 'UTC';
/** A moment in the tenant's time zone, e.g. "5 Dec 2026, 09:14 (Europe/London)"; "—" for none. */
export function formatTime(value, { withZone = false } = {}) {
  if (!value) return '—';
  const text = new Intl.DateTimeFormat('en-GB', { timeZone: zone(), dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value));
  return withZone ? `${text} (${zone()})` : text;
}
export const timeZone = zone;

/** A status word as a badge people can read without colour. */
export function Status({ status }) {
  return html`<span class=${`badge status-${status}`}>${status}</span>`;
}
