// Activity log: the tenant's audit log with the audit API's filters (kept in the address, so a
// filtered view can be bookmarked or linked to from a user's page), each event as a sentence with
// its time in the tenant's zone, its outcome and address, and what it changed (before → after);
// "Load more" follows the API's cursor. Export the filtered set as CSV or JSON Lines, and the
// verification of the tenant's hash chain (tenant-wide readers only).
import { api } from '../api.js';
import { queryOf, setQuery } from '../router.js';
import { Empty, Field, Page, Select, Table, can, formatTime, html, loadState, notify, timeZone, useEffect, useLoad, useMe, useRef, useState } from '../ui.js';
import { changes, describeEvent, detailRows, fieldLabel, valueText } from './activity-words.js';

const PAGE_SIZE = 50;
const FILTERS = ['user', 'actor', 'action', 'outcome', 'application', 'ip', 'since', 'until'];
const ACTIONS = [
  ['', 'Any'], ['login.', 'Sign-ins'], ['user.', 'Users'], ['assignment.', 'Roles given and taken away'], ['role.', 'Roles'], ['team.', 'Teams'],
  ['session.', 'Sessions'], ['mfa.', 'Two-step sign-in methods'], ['application.', 'Applications'], ['tenant.policy.', 'Sign-in and security settings'],
  ['tenant.owner.', 'Ownership'], ['location.', 'Locations'], ['institution.', 'Institutions'], ['connection.', 'Identity providers'], ['directory.', 'Directory'],
  ['override.', 'Permission exceptions'], ['audit.export', 'Exports of this log'], ['admin.forbidden', 'Refused admin actions'],
];

// --- dates in the tenant's zone --------------------------------------------------------------
/** How far the zone is ahead of UTC at `ms`, in minutes. */
function zoneOffset(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return Math.round((Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - ms) / 60000);
}
/** Midnight at the start of `date` (YYYY-MM-DD, `days` later) in the tenant's zone, as an ISO date-time with its offset. */
function startOfDay(date, days = 0) {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d + days);
  const zone = timeZone();
  // The offset at that midnight (found in two steps, for days a clock change starts or ends).
  const offset = zoneOffset(wall - zoneOffset(wall, zone) * 60000, zone);
  const day = new Date(wall).toISOString().slice(0, 10);
  const abs = Math.abs(offset);
  return `${day}T00:00:00${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
/** The filters as the API takes them: From is the start of its day, To the end of its (inclusive). */
function apiQuery(filters) {
  const query = Object.fromEntries(FILTERS.map((k) => [k, filters[k]?.trim?.() || undefined]));
  if (query.since) query.since = startOfDay(query.since);
  if (query.until) query.until = startOfDay(query.until, 1);
  return query;
}

// --- the screen ------------------------------------------------------------------------------
function ActivityLog() {
  const me = useMe();
  const [filters, setFilters] = useState(() => pick(queryOf()));
  const [draft, setDraft] = useState(filters);
  const [problem, setProblem] = useState({});
  const key = JSON.stringify(filters);
  const first = useLoad(() => api.get('/audit', { ...apiQuery(filters), limit: PAGE_SIZE }), [key]);
  const [more, setMore] = useState({ key, events: [], names: {}, next: undefined, busy: false });
  const apps = useLoad(() => (can(me, 'caregate.applications:read') ? api.get('/applications').catch(() => []) : Promise.resolve([])), []);
  const firstNew = useRef(null);
  const focusNew = useRef(false);
  useEffect(() => {
    if (focusNew.current) firstNew.current?.focus();
    focusNew.current = false;
  }, [more.events.length]);

  const extra = more.key === key ? more : { events: [], names: {}, next: undefined };
  const events = [...(first.data?.events ?? []), ...extra.events];
  const names = { ...first.data?.names, ...extra.names };
  const next = extra.next !== undefined ? extra.next : first.data?.nextCursor;
  const filtered = FILTERS.some((k) => filters[k]);

  const set = (k) => (value) => setDraft({ ...draft, [k]: value });
  const apply = (values) => {
    const clean = pick(values);
    setFilters(clean);
    setQuery(clean);
  };
  const search = (event) => {
    event.preventDefault();
    if (draft.since && draft.until && draft.until < draft.since) return setProblem({ until: 'To must be on or after From.' });
    setProblem({});
    apply(draft);
  };
  const loadMore = async () => {
    setMore({ ...extra, key, busy: true });
    try {
      const page = await api.get('/audit', { ...apiQuery(filters), limit: PAGE_SIZE, cursor: next });
      focusNew.current = page.events.length > 0;
      const from = (first.data?.events.length ?? 0) + extra.events.length;
      setMore({ key, events: [...extra.events, ...page.events], names: { ...extra.names, ...page.names }, next: page.nextCursor, busy: false, from });
    } catch (error) {
      setMore({ ...extra, key, busy: false });
      notify('error', `Could not load more activity: ${error.message}`);
    }
  };
  // A filter the API refused (a user that does not exist, a bad date) is shown beside its field.
  const refused = first.error?.fields ?? {};
  const fieldError = (k) => problem[k] ?? refused[k] ?? (k === 'user' && first.error?.status === 404 && /^user /.test(first.error.message) ? first.error.message : undefined);
  const appOptions = (apps.data ?? []).map((a) => [a.clientId, a.name]);
  const onField = first.error && FILTERS.some((k) => fieldError(k));

  return html`<${Page} title="Activity log" subtitle=${`Every change and sign-in, newest first. Times are in ${timeZone()}.`}>
    ${can(me, 'caregate.audit:read', { tenantWide: true }) && html`<${ChainStatus} />`}
    <form class="card" role="search" aria-label="Filter the activity log" onSubmit=${search} noValidate>
      <div class="filters">
        <${Field} label="About user" hint="Username" value=${draft.user} onValue=${set('user')} name="user" autocomplete="off" error=${fieldError('user')} />
        <${Field} label="Done by" hint="Username or application client ID" value=${draft.actor} onValue=${set('actor')} name="actor" autocomplete="off" error=${fieldError('actor')} />
        <${Select} label="What" value=${draft.action} onValue=${set('action')} error=${fieldError('action')}
          options=${ACTIONS.some(([v]) => v === (draft.action ?? '')) ? ACTIONS : [...ACTIONS, [draft.action, `Starting with ${draft.action}`]]} />
        <${Select} label="Outcome" value=${draft.outcome} onValue=${set('outcome')} options=${[['', 'Any'], ['success', 'Succeeded'], ['failure', 'Failed']]} />
        ${appOptions.length > 0
          ? html`<${Select} label="Application" value=${draft.application} onValue=${set('application')} error=${fieldError('application')}
              options=${[['', 'Any'], ...appOptions, ...(draft.application && !appOptions.some(([v]) => v === draft.application) ? [[draft.application, draft.application]] : [])]} />`
          : html`<${Field} label="Application" hint="Client ID" value=${draft.application} onValue=${set('application')} name="application" error=${fieldError('application')} />`}
        <${Field} label="Address" hint="IP address, exactly" value=${draft.ip} onValue=${set('ip')} name="ip" error=${fieldError('ip')} />
        <${Field} label="From" type="date" hint="The day's start" value=${draft.since} onValue=${set('since')} name="since" error=${fieldError('since')} />
        <${Field} label="To" type="date" hint="Including that day" value=${draft.until} onValue=${set('until')} name="until" error=${fieldError('until')} />
      </div>
      <div class="form-actions">
        <button type="submit">Show activity</button>
        <button type="button" class="secondary" onClick=${() => { setDraft({}); setProblem({}); apply({}); }}>Clear filters</button>
      </div>
    </form>

    ${can(me, 'caregate.audit:export') && html`<${Export} filters=${filters} filtered=${filtered} />`}

    ${onField ? html`<p class="notice error" role="alert">Check the filters: ${first.error.message}</p>` : loadState(first, 'the activity log')}
    ${first.data && events.length === 0 && html`<${Empty} title=${filtered ? 'No activity matches' : 'No activity yet'}>
      ${filtered ? 'Change or clear the filters to see more: a wider date range, or any user.' : 'Changes to users, roles and settings, sign-ins and refusals appear here as they happen.'}<//>`}
    ${events.length > 0 && html`
      <h2 class="visually-hidden">Events</h2>
      <ol class="activity-list" aria-label="Activity, newest first">
        ${events.map((e, i) => html`<${EventItem} key=${e.id} event=${e} names=${names} itemRef=${i === extra.from ? firstNew : undefined} />`)}
      </ol>
      <div class="pager">
        <span>${events.length} ${events.length === 1 ? 'event' : 'events'} shown${next ? '' : ' — that is all'}</span>
        ${next && html`<button type="button" class="secondary" disabled=${more.busy} onClick=${loadMore}>${more.busy ? 'Loading…' : 'Load older events'}</button>`}
      </div>`}
  <//>`;
}

const pick = (values) => Object.fromEntries(FILTERS.filter((k) => values[k]).map((k) => [k, values[k]]));

function EventItem({ event: e, names, itemRef }) {
  const [open, setOpen] = useState(false);
  const sentence = describeEvent(e, names);
  const rows = changes(e);
  const details = detailRows(e);
  const expandable = rows.length > 0 || details.length > 0 || e.userAgent;
  const panel = `event-${e.id}`;
  return html`<li class=${`activity-event${e.outcome === 'failure' ? ' failed' : ''}`} tabindex=${itemRef ? -1 : undefined} ref=${itemRef}>
    <p class="activity-sentence">${sentence}</p>
    <p class="activity-meta">
      <time datetime=${e.at}>${formatTime(e.at)}</time>
      <span class=${`badge outcome-${e.outcome}`}>${e.outcome === 'failure' ? 'Failed' : 'Succeeded'}</span>
      ${e.ip && html`<span>from ${e.ip}</span>`}
      ${expandable && html`<button type="button" class="link" aria-expanded=${open ? 'true' : 'false'} aria-controls=${panel} onClick=${() => setOpen(!open)}>
        ${open ? 'Hide details' : rows.length ? 'Show what changed' : 'Show details'}</button>`}
    </p>
    ${expandable && html`<div id=${panel} class="activity-details" hidden=${!open}>
      ${open && rows.length > 0 && html`<${Table} caption=${`What changed: ${sentence}`} hideCaption head=${['Field', 'Before', 'After']}>
        ${rows.map(([k, before, after]) => html`<tr><th scope="row">${fieldLabel(k)}</th><td>${valueText(before, names)}</td><td>${valueText(after, names)}</td></tr>`)}
      <//>`}
      ${open && (details.length > 0 || e.userAgent) && html`<dl class="facts">
        ${details.map(([k, v]) => html`<dt>${fieldLabel(k)}</dt><dd>${valueText(v, names)}</dd>`)}
        ${e.userAgent && html`<dt>Device</dt><dd>${e.userAgent}</dd>`}
        <dt>Action</dt><dd><code>${e.action}</code> (event ${e.seq})</dd>
      </dl>`}
    </div>`}
  </li>`;
}

/** Downloads the filtered set as CSV or JSON Lines (the export is itself audited). */
function Export({ filters, filtered }) {
  const [busy, setBusy] = useState(undefined);
  const download = async (format) => {
    setBusy(format);
    try {
      const blob = await api.blob('/audit/export', { ...apiQuery(filters), format });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `activity-${document.body.dataset.tenant}-${new Date().toISOString().slice(0, 10)}.${format}`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      notify('success', `The ${filtered ? 'filtered ' : ''}activity log was exported as ${format === 'csv' ? 'CSV' : 'JSON Lines'}.`);
    } catch (error) {
      notify('error', `Could not export: ${error.message}`);
    } finally {
      setBusy(undefined);
    }
  };
  return html`<div class="toolbar activity-export" role="group" aria-label="Export">
    <span>Export ${filtered ? 'what the filters match' : 'the whole log'}, oldest first, with the hashes to verify it:</span>
    <button type="button" class="secondary" disabled=${Boolean(busy)} onClick=${() => download('csv')}>${busy === 'csv' ? 'Exporting…' : 'Export CSV'}</button>
    <button type="button" class="secondary" disabled=${Boolean(busy)} onClick=${() => download('jsonl')}>${busy === 'jsonl' ? 'Exporting…' : 'Export JSON Lines'}</button>
  </div>`;
}

/** The tenant's hash chain, checked: intact, or where it breaks. */
function ChainStatus() {
  const check = useLoad(() => api.get('/audit/verify'), []);
  const r = check.data;
  return html`<div class=${`card chain-status${r && !r.ok ? ' broken' : ''}`} role="status" aria-live="polite">
    ${check.loading && !r && html`<p aria-busy="true">Checking the chain of the activity log…</p>`}
    ${check.error && html`<p>Could not check the chain: ${check.error.message}</p>`}
    ${r && r.ok && html`<p><strong>Chain verified: ${r.events.toLocaleString('en-GB')} events, intact.</strong> No event has been edited, removed or reordered. Checked ${formatTime(r.checkedAt)}.</p>`}
    ${r && !r.ok && html`<p><strong>Chain broken at event ${r.brokenAt?.seq ?? r.brokenAt?.id}${r.brokenAt?.at ? ` (${formatTime(r.brokenAt.at)})` : ''}.</strong>
      That event, or one just before it, was edited, removed or reordered outside Caregate. ${r.events.toLocaleString('en-GB')} events checked ${formatTime(r.checkedAt)}. Keep an export and tell your security officer.</p>`}
    ${r && html`<button type="button" class="link" disabled=${check.loading} onClick=${check.reload}>${check.loading ? 'Checking…' : 'Check again'}</button>`}
  </div>`;
}

export const nav = { label: 'Activity log', path: '/activity', permission: 'caregate.audit:read' };
export const routes = [{ path: '/activity', view: ActivityLog }];
