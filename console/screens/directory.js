// Directory: LDAP and Active Directory sources (/directory-sources) — the list with each source's
// last run; adding one from a preset (servers, the CA certificate file read in the browser, the
// service account, where people and groups are, filters, mapping rules); a source's page with Test
// (each check), Sync now and Dry run followed live (the run is polled every second: a progress bar
// with its label and a status line read out as it changes), then the run's result and a dry run's
// diff, the recent runs, its settings (Save sends only what changed) and delete. The service
// account's password is write-only.
import { api, path } from '../api.js';
import { navigate } from '../router.js';
import { Checkbox, Confirm, Empty, Field, Link, Page, Status, Table, can, formatTime, html, loadState, notify, useEffect, useLoad, useMe, useState } from '../ui.js';
import { keyFrom } from './keyed.js';
import { FileText, MappingRules, SettingsSection, TestResults, TextArea, deleteThen, errorOf, otherError, ruleToRow, rowToRule, splitList, useSave, useTest } from './upstream.js';

const PRESETS = {
  'active-directory': { name: 'Active Directory', userFilter: '(&(objectCategory=person)(objectClass=user))', groupFilter: '(objectClass=group)', url: 'ldaps://dc1.clinic.example' },
  openldap: { name: 'OpenLDAP', userFilter: '(objectClass=inetOrgPerson)', groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))', url: 'ldaps://ldap.clinic.example' },
};
const POLL_MS = 1000;
const base = (key) => path`/directory-sources/${key}`;
const countPems = (text) => (text?.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;

/** The form's state for a new source of `preset`, or for a stored one. */
function formOf(preset, s) {
  return {
    preset, name: s?.name ?? '', key: s?.key ?? '', keyTouched: Boolean(s), urls: (s?.urls ?? []).join('\n'),
    caCertificates: s?.caCertificates, caInfo: s?.caCertificates ? `${countPems(s.caCertificates)} CA ${countPems(s.caCertificates) === 1 ? 'certificate' : 'certificates'} stored` : undefined,
    bindDn: s?.bindDn ?? '', bindPassword: '', baseDn: s?.baseDn ?? '', groupBaseDn: s?.groupBaseDn ?? '', userFilter: s?.userFilter ?? '', groupFilter: s?.groupFilter ?? '',
    syncIntervalMinutes: String(s?.syncIntervalMinutes ?? 15), bindAuth: s?.bindAuth ?? true, jit: s?.jit ?? true, linkByEmail: s?.linkByEmail ?? false, enabled: s?.enabled ?? true,
    rules: (s?.mappings ?? []).map(ruleToRow),
  };
}

function requestOf(f, isNew) {
  const body = {
    name: f.name.trim(), urls: splitList(f.urls, /[\s,]+/), bindDn: f.bindDn.trim(), baseDn: f.baseDn.trim(), bindAuth: f.bindAuth, jit: f.jit, linkByEmail: f.linkByEmail, enabled: f.enabled,
    mappings: f.rules.map(rowToRule), syncIntervalMinutes: f.syncIntervalMinutes.trim() === '' ? undefined : Number(f.syncIntervalMinutes),
  };
  if (isNew) Object.assign(body, { key: f.keyTouched ? f.key : keyFrom(f.name), preset: f.preset });
  if (f.caCertificates) body.caCertificates = f.caCertificates;
  if (f.bindPassword) body.bindPassword = f.bindPassword;
  for (const k of ['groupBaseDn', 'userFilter', 'groupFilter']) if (f[k].trim()) body[k] = f[k].trim();
  return body;
}

function changed(f, stored) {
  const now = requestOf(f, false);
  const before = requestOf(formOf(stored.preset, stored), false);
  return Object.fromEntries(Object.entries(now).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
}

/** A run in a few words: "Dry run, full · succeeded". */
const runKind = (run) => `${run.dryRun ? 'Dry run' : 'Sync'} (${run.mode})`;
const runStatus = (status) => ({ running: 'active', succeeded: 'active', failed: 'disabled', refused: 'locked' })[status] ?? status;
function RunBadge({ run }) {
  return html`<span class=${`badge status-${runStatus(run.status)}`}>${run.status}</span>`;
}

// --- the list ----------------------------------------------------------------------------------
function SourceList() {
  const me = useMe();
  const list = useLoad(() => api.get('/directory-sources'), []);
  const rows = list.data ?? [];
  const add = can(me, 'caregate.directory:create') && html`<${Link} class="button" href="/directory/new">Add directory source<//>`;
  return html`<${Page} title="Directory" subtitle="Bring people in from Active Directory or OpenLDAP, and keep them in step: joiners, changes and leavers." actions=${rows.length > 0 && add}>
    ${loadState(list, 'the directory sources')}
    ${list.data && rows.length === 0 && html`<${Empty} title="No directory sources yet" action=${add}>
      Connect your Active Directory or LDAP server: Caregate reads its people and groups on a schedule, gives roles by group, and disables leavers. Staff then sign in with their directory password.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Directory sources" hideCaption head=${['Name', 'Servers', 'Status', 'Last run', 'Result']}>
      ${rows.map((s) => html`<tr>
        <td><${Link} href=${path`/directory/${s.key}`}>${s.name}<//><br /><span class="hint">${PRESETS[s.preset]?.name ?? s.preset}</span></td>
        <td class="wrap">${s.urls.join(', ')}</td>
        <td><${Status} status=${s.enabled ? 'active' : 'disabled'} /></td>
        <td>${s.lastRun ? html`${formatTime(s.lastRun.startedAt)}<br /><span class="hint">${runKind(s.lastRun)}</span>` : 'Never'}</td>
        <td>${s.lastRun ? html`<${RunBadge} run=${s.lastRun} />` : '—'}</td>
      </tr>`)}
    <//>`}
  <//>`;
}

// --- the settings form ---------------------------------------------------------------------------
function SourceFields({ form, setForm, fields, isNew, stored }) {
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const preset = PRESETS[form.preset];
  const shownKey = form.keyTouched ? form.key : keyFrom(form.name);
  return html`
    <fieldset><legend>About it</legend><div class="form-grid">
      <${Field} label="Name" required value=${form.name} onValue=${set('name')} error=${fields.name} autocomplete="off" />
      ${isNew ? html`<${Field} label="Key" required hint="In its users' source (ldap:key); it cannot change later" value=${shownKey} error=${fields.key} autocomplete="off" spellcheck="false"
        onValue=${(v) => setForm((f) => ({ ...f, key: v, keyTouched: true }))} />` : html`<p><strong>Key:</strong> <code>${stored.key}</code> · ${preset?.name ?? form.preset}</p>`}
    </div></fieldset>
    <fieldset><legend>Servers</legend>
      <${TextArea} label="Server URLs" hint=${`One per line, tried in order: ldaps://host:636, or ldap://host:389 (upgraded with StartTLS). E.g. ${preset.url}`} value=${form.urls} onValue=${set('urls')} error=${errorOf(fields, 'urls')} />
      <${FileText} label=${form.caCertificates ? 'Replace the CA certificate' : 'CA certificate (optional)'} accept=".pem,.crt,.cer,application/x-pem-file"
        hint="The PEM file of the certificate authority that signed the servers' certificates; without it, the system's trusted authorities are used."
        check=${(text) => (countPems(text) ? undefined : 'it holds no PEM certificate (-----BEGIN CERTIFICATE-----)')}
        onText=${(text, name) => setForm((f) => ({ ...f, caCertificates: text, caInfo: `${name}: ${countPems(text)} ${countPems(text) === 1 ? 'certificate' : 'certificates'} read` }))}
        loaded=${form.caInfo} onClear=${isNew ? () => setForm((f) => ({ ...f, caCertificates: undefined, caInfo: undefined })) : undefined} error=${fields.caCertificates} />
    </fieldset>
    <fieldset><legend>Service account</legend><div class="form-grid">
      <${Field} label="Bind DN" required hint="The account that searches the directory, e.g. cn=caregate-sync,ou=service,dc=clinic,dc=example" value=${form.bindDn} onValue=${set('bindDn')} error=${fields.bindDn} autocomplete="off" spellcheck="false" />
      <${Field} label=${isNew ? 'Bind password' : 'New bind password'} type="password" autocomplete="new-password" required=${isNew}
        hint=${isNew ? 'Stored sealed; never shown again' : stored?.hasBindPassword ? 'A password is stored (never shown). Enter a new one only to replace it.' : 'None stored'} value=${form.bindPassword} onValue=${set('bindPassword')} error=${fields.bindPassword} />
    </div></fieldset>
    <fieldset><legend>Where people and groups are</legend><div class="form-grid">
      <${Field} label="Base DN for people" required hint="Searched with its whole subtree, e.g. ou=people,dc=clinic,dc=example" value=${form.baseDn} onValue=${set('baseDn')} error=${fields.baseDn} autocomplete="off" spellcheck="false" />
      <${Field} label="Base DN for groups" hint="Empty: the same as for people" value=${form.groupBaseDn} onValue=${set('groupBaseDn')} error=${fields.groupBaseDn} autocomplete="off" spellcheck="false" />
      <${Field} label="User filter" hint=${`Empty: ${preset.userFilter}`} value=${form.userFilter} onValue=${set('userFilter')} error=${fields.userFilter} autocomplete="off" spellcheck="false" />
      <${Field} label="Group filter" hint=${`Empty: ${preset.groupFilter}`} value=${form.groupFilter} onValue=${set('groupFilter')} error=${fields.groupFilter} autocomplete="off" spellcheck="false" />
      <${Field} label="Sync every (minutes)" type="number" min="0" max="1440" hint="0: only when someone presses Sync now" value=${form.syncIntervalMinutes} onValue=${set('syncIntervalMinutes')} error=${fields.syncIntervalMinutes} />
    </div></fieldset>
    <fieldset><legend>Sign-in and accounts</legend>
      <${Checkbox} label="Its people sign in with their directory password" checked=${form.bindAuth} onValue=${set('bindAuth')} />
      <${Checkbox} label="Create the account at a person's first sign-in, before a sync brings them" checked=${form.jit} onValue=${set('jit')} />
      <${Checkbox} label="Link directory people to existing accounts with the same email" checked=${form.linkByEmail} onValue=${set('linkByEmail')} />
      <${Checkbox} label="Enabled" hint="Off: no syncs and no directory sign-ins" checked=${form.enabled} onValue=${set('enabled')} />
    </fieldset>
    <${MappingRules} rows=${form.rules} onRows=${set('rules')} fields=${fields} claimHint="directory attribute (groups holds the names of the person's groups)" example="groups" />`;
}

const KNOWN = ['name', 'key', 'urls', 'caCertificates', 'bindDn', 'bindPassword', 'baseDn', 'groupBaseDn', 'userFilter', 'groupFilter', 'syncIntervalMinutes', 'mappings'];

function NewSource() {
  const [form, setForm] = useState(() => formOf('active-directory'));
  const [submit, state] = useSave(async () => {
    const created = await api.post('/directory-sources', requestOf(form, true));
    notify('success', `${created.name} was added. Run Test, then a dry run to see what a sync would change.`);
    navigate(path`/directory/${created.key}`);
  });
  const other = otherError(state, KNOWN);
  return html`<${Page} title="Add directory source" back=${{ href: '/directory', label: 'Directory' }}>
    <form onSubmit=${submit} novalidate>
      <fieldset><legend>Kind of directory</legend>
        ${Object.entries(PRESETS).map(([value, p]) => html`<div class="check">
          <input type="radio" name="preset" id=${`preset-${value}`} checked=${form.preset === value} onChange=${() => setForm((f) => ({ ...f, preset: value }))} />
          <label for=${`preset-${value}`}>${p.name}</label></div>`)}
        <p class="hint">The kind fills in filters, attribute names, group membership and change tracking; you can override the filters below.</p>
      </fieldset>
      <${SourceFields} form=${form} setForm=${setForm} fields=${state.fields} isNew />
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Adding…' : 'Add directory source'}</button>
        <${Link} class="button secondary" href="/directory">Cancel<//></div>
    </form>
  <//>`;
}

// --- runs ----------------------------------------------------------------------------------------
/** What the run is doing, in words, for the status line. */
function progressText(run) {
  const p = run.progress ?? {};
  if (run.status === 'running') {
    if (p.phase === 'applying') return `Applying changes: ${p.applied ?? 0} of ${p.total ?? 0} ${p.total === 1 ? 'person' : 'people'}…`;
    return `Reading the directory: ${p.entries ?? 0} ${p.entries === 1 ? 'person' : 'people'} and ${p.groups ?? 0} ${p.groups === 1 ? 'group' : 'groups'} so far…`;
  }
  const s = run.summary;
  const what = run.dryRun ? 'Dry run' : 'Sync';
  if (run.status === 'succeeded' && s) {
    const verbs = run.dryRun ? ['to create', 'to update', 'to disable', 'to re-enable'] : ['created', 'updated', 'disabled', 're-enabled'];
    const parts = [s.created, s.updated, s.disabled, s.reenabled].map((n, i) => `${n} ${verbs[i]}`);
    return `${what} finished: ${parts.join(', ')}, ${s.unchanged} unchanged${s.errors ? `, ${s.errors} errors` : ''}.`;
  }
  return `${what} ${run.status}: ${run.error ?? s?.message ?? 'see the result below'}.`;
}

/** The live progress of a run: a labelled bar (indeterminate while reading) and a status line read out as it changes. */
function RunProgress({ run }) {
  const p = run.progress ?? {};
  const done = run.status !== 'running';
  const determinate = done || p.phase === 'applying';
  const max = Math.max(p.total ?? 0, 1);
  const value = done ? max : Math.min(p.applied ?? 0, max);
  return html`<div class="run-progress">
    <label for="sync-progress">${run.dryRun ? 'Dry run progress' : 'Sync progress'}</label>
    ${determinate ? html`<progress id="sync-progress" max=${max} value=${value}>${Math.round((value / max) * 100)}%</progress>` : html`<progress id="sync-progress">Reading…</progress>`}
    <p role="status" aria-live="polite" class="run-status">${progressText(run)}</p>
  </div>`;
}

const WOULD = { Created: 'Would create', Updated: 'Would update', Disabled: 'Would disable', 'Re-enabled': 'Would re-enable' };
const TRIGGERS = { api: 'the console or API', schedule: 'the schedule', cli: 'the command line' };
const CHANGE_WORDS = { create: 'Create', update: 'Update', disable: 'Disable', reenable: 'Re-enable' };

/** A finished run: its counts, why it stopped if it did, its errors, and a dry run's diff. */
function RunResult({ run }) {
  const s = run.summary;
  if (!s) return html`<p>${run.error ?? 'This run recorded no result.'}</p>`;
  const counts = [['Created', s.created], ['Updated', s.updated], ['Disabled', s.disabled], ['Re-enabled', s.reenabled], ['Unchanged', s.unchanged], ['Errors', s.errors], ['People read', s.entries], ['Groups read', s.groups]];
  return html`<div class="run-result">
    <h3>${run.dryRun ? 'What a sync would change' : 'What the sync changed'} <${RunBadge} run=${run} /></h3>
    <p class="hint">${runKind(run)}, started ${formatTime(run.startedAt, { withZone: true })} by ${TRIGGERS[run.trigger] ?? run.trigger}; took ${((s.durationMs ?? 0) / 1000).toFixed(1)} s.${s.escalated ? ` Read in full: ${s.escalated}.` : ''}</p>
    ${(run.status === 'refused' || run.status === 'failed') && html`<p class="notice error">${s.message ?? run.error}${s.reason === 'threshold' ? ' Check the leavers in a dry run; if they are right, a run may be allowed to disable them from the command line (--allow-disables).' : ''}</p>`}
    <dl class="counts">${counts.map(([label, n]) => html`<div><dt>${run.dryRun && WOULD[label] ? WOULD[label] : label}</dt><dd>${n}</dd></div>`)}</dl>
    ${s.errorList?.length > 0 && html`<${Table} caption="People who could not be brought in" head=${['Person', 'Why']}>
      ${s.errorList.map((e) => html`<tr><td class="wrap">${e.subject ?? e.dn ?? '—'}</td><td>${e.reason}: ${e.detail}</td></tr>`)}
    <//>`}
    ${run.dryRun && s.diff && (s.diff.length === 0 ? html`<p>No changes: Caregate already matches the directory.</p>` : html`<${Table} caption="Dry run diff: nothing was changed" head=${['Change', 'Person', 'Details']}>
      ${s.diff.map((d) => html`<tr><td>${CHANGE_WORDS[d.change] ?? d.change}</td><td class="wrap">${d.username ?? d.subject}${d.dn && html`<br /><span class="hint">${d.dn}</span>`}</td>
        <td class="wrap">${d.reason && html`<span>${d.reason}. </span>`}${d.events.map((e) => e.action).join(', ')}</td></tr>`)}
    <//>`)}
  </div>`;
}

/** Sync now and Dry run, followed live; `onFinished` when a run ends. */
function SyncPanel({ source, mayRun, onFinished }) {
  const [run, setRun] = useState(source.lastRun?.status === 'running' ? source.lastRun : undefined);
  const [full, setFull] = useState(false);
  const [starting, setStarting] = useState(false);
  const [misses, setMisses] = useState(0);
  useEffect(() => {
    if (!run || run.status !== 'running') return undefined;
    let live = true;
    const timer = setTimeout(async () => {
      try {
        const next = await api.get(`${base(source.key)}/runs/${encodeURIComponent(run.id)}`);
        if (!live) return;
        setMisses(0);
        setRun(next);
        if (next.status !== 'running') {
          notify(next.status === 'succeeded' ? 'success' : 'error', progressText(next));
          onFinished();
        }
      } catch (error) {
        if (!live) return;
        if (misses >= 4) notify('error', `Lost track of the run: ${error.message}. It may still be running; see Recent runs.`);
        else {
          setMisses(misses + 1);
          setRun({ ...run });
        }
      }
    }, POLL_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [run]);
  const start = async (dryRun) => {
    setStarting(true);
    try {
      setRun(await api.post(`${base(source.key)}/sync`, { dryRun, full }));
    } catch (error) {
      notify('error', error.status === 409 ? `A run of ${source.name} is already going: ${error.message}` : error.message);
    } finally {
      setStarting(false);
    }
  };
  const running = run?.status === 'running';
  return html`<section class="card" aria-labelledby="sync-title">
    <h2 id="sync-title">Sync</h2>
    <p>${source.syncIntervalMinutes ? `Caregate syncs this source every ${source.syncIntervalMinutes} minutes.` : 'This source syncs only when someone starts it.'} A dry run shows what a sync would change, and changes nothing.</p>
    ${mayRun && html`<${Checkbox} label="Read everything (a full sync), not only what changed since the last run" checked=${full} onValue=${setFull} disabled=${running} />
    <div class="form-actions">
      <button type="button" disabled=${running || starting} onClick=${() => start(false)}>Sync now</button>
      <button type="button" class="secondary" disabled=${running || starting} onClick=${() => start(true)}>Dry run</button>
    </div>`}
    ${run && html`<${RunProgress} run=${run} />`}
    ${run && !running && html`<${RunResult} run=${run} />`}
  </section>`;
}

function RecentRuns({ sourceKey, version }) {
  const runs = useLoad(() => api.get(`${base(sourceKey)}/runs`, { limit: 10 }), [sourceKey, version]);
  const [shown, setShown] = useState(undefined);
  const rows = runs.data ?? [];
  return html`<section aria-labelledby="runs-title">
    <h2 id="runs-title">Recent runs</h2>
    ${loadState(runs, 'the recent runs')}
    ${runs.data && rows.length === 0 && html`<p>No runs yet: start with a dry run above.</p>`}
    ${rows.length > 0 && html`<${Table} caption="Recent runs" hideCaption head=${['Started', 'Kind', 'Started by', 'Result', 'Changes', '']}>
      ${rows.map((r) => html`<tr>
        <td>${formatTime(r.startedAt)}</td><td>${runKind(r)}</td><td>${TRIGGERS[r.trigger] ?? r.trigger}</td><td><${RunBadge} run=${r} /></td>
        <td>${r.summary ? `+${r.summary.created} ~${r.summary.updated} −${r.summary.disabled}` : '—'}</td>
        <td><button type="button" class="link" aria-expanded=${shown === r.id ? 'true' : 'false'} onClick=${() => setShown(shown === r.id ? undefined : r.id)}
          aria-label=${`${shown === r.id ? 'Hide' : 'Show'} the ${r.dryRun ? 'dry run' : 'sync'} of ${formatTime(r.startedAt)}`}>${shown === r.id ? 'Hide' : 'Show'}</button></td>
      </tr>`)}
    <//>`}
    ${shown && rows.find((r) => r.id === shown) && html`<div class="card"><${RunResult} run=${rows.find((r) => r.id === shown)} /></div>`}
  </section>`;
}

// --- a source's page -----------------------------------------------------------------------------
function SourcePage({ source: ref }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(base(ref)), [ref]);
  const [confirm, setConfirm] = useState(false);
  const [runsVersion, setRunsVersion] = useState(0);
  const [runTest, test] = useTest(base(ref));
  const s = loaded.data;
  const back = { href: '/directory', label: 'Directory' };
  if (!s) return html`<${Page} title=${ref} back=${back}>${loadState(loaded, 'this directory source')}<//>`;
  return html`<${Page} title=${s.name} subtitle=${html`${PRESETS[s.preset]?.name ?? s.preset} · <${Status} status=${s.enabled ? 'active' : 'disabled'} />`} back=${back}
    actions=${html`
      <button type="button" onClick=${runTest} disabled=${test.busy}>${test.busy ? 'Testing…' : 'Test'}</button>
      ${can(me, 'caregate.directory:delete') && html`<button type="button" class="danger" onClick=${() => setConfirm(true)}>Delete</button>`}`}>
    ${test.busy && html`<p class="loading" role="status">Testing against the live directory…</p>`}
    <${TestResults} result=${test.result} />
    <${SyncPanel} source=${s} mayRun=${can(me, 'caregate.directory:sync')} onFinished=${() => setRunsVersion((v) => v + 1)} />
    <${RecentRuns} sourceKey=${s.key} version=${runsVersion} />
    <${EditSource} s=${s} editable=${can(me, 'caregate.directory:edit')} onSaved=${loaded.reload} />
    ${confirm && html`<${Confirm} title=${`Delete ${s.name}?`} confirmText="Delete directory source" typeToConfirm=${s.key} onClose=${() => setConfirm(false)}
      message=${`Syncs stop, its people can no longer sign in with their directory password, and the roles and team memberships its mapping rules gave are removed. The accounts it brought in stay. This cannot be undone.`}
      onConfirm=${deleteThen(base(s.key), s.name, '/directory')} />`}
  <//>`;
}

function EditSource({ s, editable, onSaved }) {
  const [form, setForm] = useState(() => formOf(s.preset, s));
  const saved = () => {
    setForm((f) => ({ ...f, bindPassword: '' }));
    onSaved();
  };
  return html`<${SettingsSection} url=${base(s.key)} patch=${() => changed(form, s)} name=${form.name || s.name} editable=${editable} known=${KNOWN} onSaved=${saved}>
    ${(fields) => html`<${SourceFields} form=${form} setForm=${setForm} fields=${fields} stored=${s} />`}
  <//>`;
}

export const nav = { label: 'Directory', path: '/directory', permission: 'caregate.directory:read' };
export const routes = [
  { path: '/directory', view: SourceList },
  { path: '/directory/new', view: NewSource },
  { path: '/directory/:source', view: SourcePage },
];
