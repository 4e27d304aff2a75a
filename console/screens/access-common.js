// What the Access section's screens share: which of its pages this person may use (and the links
// between them), the names of roles and places for the ids the access APIs answer with, a "Where"
// picker, and date-and-time fields read in the tenant's time zone (not the browser's), since a
// delegation that "ends Friday 17:00" means 17:00 at the clinic.
import { api } from '../api.js';
import { Link, Page, Select, can, html, timeZone, useLoad } from '../ui.js';

export { confirmed } from './teams.js';

/** The Access section's pages, each with what shows it (any one of its permissions; none: everyone). */
export const ACCESS_PAGES = [
  { path: '/access/emergency', label: 'Emergency access', permissions: ['caregate.policy:read', 'caregate.access:review'] },
  { path: '/access/requests', label: 'Access requests', permissions: [] },
  { path: '/access/delegations', label: 'Delegations', permissions: ['caregate.assignments:read'] },
  { path: '/access/reviews', label: 'Access reviews', permissions: ['caregate.reviews:decide', 'caregate.reviews:manage'] },
];
/** Holding any of these shows the section in the navigation. */
export const ACCESS_PERMISSIONS = [...new Set(ACCESS_PAGES.flatMap((p) => p.permissions)), 'caregate.access:approve'];

export const pagesFor = (me) => ACCESS_PAGES.filter((p) => !p.permissions.length || p.permissions.some((permission) => can(me, permission)));

/** A page of the section: the links to its other pages (the current one marked), then the page itself. */
export function AccessPage({ me, current, children, ...page }) {
  const pages = pagesFor(me);
  const allowed = pages.some((p) => p.path === current);
  return html`<div class="access-section">
    <nav class="access-pages" aria-label="Access pages"><ul>
      ${pages.map((p) => html`<li><${Link} href=${p.path} aria-current=${p.path === current ? 'page' : undefined}>${p.label}<//></li>`)}
    </ul></nav>
    <${Page} ...${page} actions=${allowed ? page.actions : undefined}>${allowed ? children : html`<p class="notice">This page needs a permission you do not hold. Ask an administrator if your work needs it.</p>`}<//>
  </div>`;
}

/** Roles, locations, institutions and applications (each only if readable), to name ids and offer choices. */
export function useCatalogues(me) {
  return useLoad(async () => {
    const get = (permission, url) => (can(me, permission) ? api.get(url).catch(() => []) : Promise.resolve([]));
    const [roles, locations, institutions, apps] = await Promise.all([
      get('caregate.roles:read', '/roles'), get('caregate.locations:read', '/locations'), get('caregate.institutions:read', '/institutions'), get('caregate.applications:read', '/applications'),
    ]);
    return { roles, locations, institutions, apps };
  }, []);
}

const NO_CATALOGUES = { roles: [], locations: [], institutions: [], apps: [] };
const KINDS = { location: 'Location', institution: 'Institution', application: 'Application' };

/**
 * Names for what the access APIs answer: `role(keyOrId)` a role's name, `roleOf(row)` a request's, `person(username)` a
 * person's (a service account's by its application), `scope(x)` where it holds —
 * from {type, key}, {type, id}, {type, clientId} or a row's scopeType / scopeId.
 */
export function namesFrom(catalogues = NO_CATALOGUES) {
  const c = catalogues ?? NO_CATALOGUES;
  const role = (ref) => c.roles.find((r) => r.key === ref || r.id === ref)?.name ?? ref ?? '—';
  const scope = (s) => {
    const type = s?.type ?? s?.scopeType;
    if (!type || type === 'tenant') return 'Everywhere';
    // A request or use row has its own id: its place is scopeId. A scope object is {type, key|clientId|id}.
    const ref = s.scopeType ? s.scopeId : (s.key ?? s.clientId ?? s.id);
    const rows = { location: c.locations, institution: c.institutions, application: c.apps }[type] ?? [];
    const row = rows.find((r) => r.key === ref || r.id === ref || r.clientId === ref);
    return `${KINDS[type] ?? type}: ${row?.name ?? ref}`;
  };
  /** A request or use's role: the name the API gave with it, else from the catalogue. */
  const roleOf = (row) => row.roleName ?? role(row.role);
  /** A username as people read it: an application's service account (svc-{client id}) by the application's name. */
  const person = (username) => {
    const app = username?.startsWith('svc-') ? c.apps.find((a) => `svc-${a.clientId}` === username) : undefined;
    return app ? `${app.name} (service account)` : username;
  };
  return { role, roleOf, scope, person };
}

/** "Where" as a select: everywhere, or one of the places this person can read; `value` is "tenant" or "type:key". */
export function ScopePicker({ catalogues, value, onValue, error, label = 'Where', hint, types = ['location', 'institution', 'application'], id }) {
  const c = catalogues ?? NO_CATALOGUES;
  const sources = { location: c.locations.map((l) => [l.key, l.name]), institution: c.institutions.map((i) => [i.key, i.name]), application: c.apps.map((a) => [a.clientId, a.name]) };
  const options = [['tenant', 'Everywhere (tenant-wide)'],
    ...types.flatMap((type) => [...sources[type]].sort((a, b) => String(a[1]).localeCompare(String(b[1]))).map(([key, name]) => [`${type}:${key}`, `${KINDS[type]}: ${name ?? key}`]))];
  return html`<${Select} id=${id} label=${label} hint=${hint} value=${value} onValue=${onValue} error=${error} options=${options} />`;
}

/** The API's scope from a ScopePicker value. */
export function toScope(value) {
  const at = value.indexOf(':');
  if (at < 0) return { type: 'tenant' };
  const [type, key] = [value.slice(0, at), value.slice(at + 1)];
  return type === 'application' ? { type, clientId: key } : { type, key };
}

// --- times in the tenant's zone --------------------------------------------------------------
function wallClock(ms) {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone(), hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(new Date(ms));
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}

/** A moment as a datetime-local value ("2026-12-05T17:00") on the tenant's clock. */
export function toZonedInput(value) {
  const p = wallClock(new Date(value).getTime());
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** A datetime-local value read on the tenant's clock, as an ISO moment; undefined when empty or malformed. */
export function fromZonedInput(value) {
  const found = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value ?? '');
  if (!found) return undefined;
  const [y, mo, d, h, mi] = found.slice(1).map(Number);
  const wanted = Date.UTC(y, mo - 1, d, h, mi);
  // Move a guess by the difference between the clock it shows and the one wanted (twice: an offset
  // may change between the guess and the answer, around a daylight-saving change).
  let guess = wanted;
  for (let i = 0; i < 2; i++) {
    const p = wallClock(guess);
    guess += wanted - Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute));
  }
  return new Date(guess).toISOString();
}

/** The API's refusal inside a form, when no field names it: said where the person is looking. */
export function FormError({ state }) {
  if (!state.error || Object.keys(state.fields).length) return undefined;
  const message = state.error.message;
  return html`<p class="field-error form-refusal-message" role="alert">${message.charAt(0).toUpperCase()}${message.slice(1)}</p>`;
}

/** The end of a dialog's form: the API's refusal (when no field names it), Cancel, and the action (busy while it runs). */
export function DialogEnd({ state, onClose, label, busyLabel = 'Working…', danger = false }) {
  return html`<${FormError} state=${state} />
    <div class="dialog-actions">
      <button type="button" class="secondary" onClick=${onClose}>Cancel</button>
      <button type="submit" class=${danger ? 'danger' : ''} disabled=${state.busy}>${state.busy ? busyLabel : label}</button>
    </div>`;
}

/** "45 minutes", "2 hours", "1 hour 30 minutes". */
export function minutesText(minutes) {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  const part = (n, one) => (n ? `${n} ${one}${n === 1 ? '' : 's'}` : '');
  return [part(h, 'hour'), part(m, 'minute')].filter(Boolean).join(' ') || '0 minutes';
}
