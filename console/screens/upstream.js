// What Identity providers and Directory share — both bring people in from an upstream: the mapping
// rules editor (an upstream group or attribute → a role where it applies, a team, or PHI access), a
// Test's checks as a readable list, a file read in the browser (IdP metadata, a CA certificate), a
// labelled textarea, and lists typed one per line.
import { api } from '../api.js';
import { navigate } from '../router.js';
import { Checkbox, Field, Select, can, html, notify, useLoad, useMe, useRef, useState } from '../ui.js';

let seq = 0;
const useFieldId = (prefix) => useRef(`${prefix}-${++seq}`).current;

/** "a, b\nc" → ["a", "b", "c"]; `separator` splits (default: commas and new lines). */
export const splitList = (text, separator = /[\n,]+/) => (text ?? '').split(separator).map((v) => v.trim()).filter(Boolean);

/** The first error the API gave for any of `keys`, or for a field below one (e.g. "urls.0"). */
export const errorOf = (fields, ...keys) => {
  for (const key of keys) {
    if (fields[key]) return fields[key];
    const below = Object.keys(fields).find((k) => k.startsWith(`${key}.`));
    if (below) return fields[below];
  }
  return undefined;
};

/** A labelled textarea (lists, filters, certificates), with its hint and error. */
export function TextArea({ label, hint, value, onValue, error, rows = 3, mono = false, ...rest }) {
  const fieldId = useFieldId('ta');
  const described = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${fieldId}>${label}</label>
    ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
    <textarea id=${fieldId} class=${mono ? 'mono' : 'plain'} rows=${rows} value=${value ?? ''} spellcheck="false" aria-invalid=${error ? 'true' : undefined} aria-describedby=${described}
      onInput=${(e) => onValue(e.currentTarget.value)} ...${rest}></textarea>
    ${error && html`<p class="field-error" id=${`${fieldId}-error`}>${error}</p>`}
  </div>`;
}

/**
 * A file picked and read as text in the browser (nothing is uploaded until the form is saved):
 * `onText(text, fileName)`; `check(text)` returns a problem to show, or nothing.
 */
export function FileText({ label, hint, accept, onText, check, loaded, onClear, error }) {
  const fieldId = useFieldId('file');
  const [problem, setProblem] = useState(undefined);
  const input = useRef(null);
  const read = async (event) => {
    const file = event.currentTarget.files?.[0];
    if (!file) return;
    if (file.size > 256 * 1024) {
      setProblem(`${file.name} is larger than 256 KB; choose the right file.`);
      return;
    }
    const text = await file.text();
    const bad = check?.(text);
    setProblem(bad ? `${file.name}: ${bad}` : undefined);
    if (!bad) onText(text, file.name);
  };
  const shown = problem ?? error;
  const described = [hint && `${fieldId}-hint`, shown && `${fieldId}-error`, loaded && `${fieldId}-loaded`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field file-field${shown ? ' invalid' : ''}`}>
    <label for=${fieldId}>${label}</label>
    ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
    <input id=${fieldId} ref=${input} type="file" accept=${accept} aria-invalid=${shown ? 'true' : undefined} aria-describedby=${described} onChange=${read} />
    ${loaded && html`<p class="file-loaded" id=${`${fieldId}-loaded`}>${loaded}
      ${onClear && html` <button type="button" class="link" onClick=${() => { if (input.current) input.current.value = ''; onClear(); }}>Remove</button>`}</p>`}
    ${shown && html`<p class="field-error" id=${`${fieldId}-error`}>${shown}</p>`}
  </div>`;
}

/** A Test's answer: passed or failed overall, then each check with what it found. */
export function TestResults({ result, title = 'Test result' }) {
  if (!result) return null;
  const failed = result.findings.filter((f) => !f.ok).length;
  return html`<section class="card test-results" aria-labelledby="test-results-title">
    <h2 id="test-results-title">${title}: ${result.ok ? 'every check passed' : `${failed} of ${result.findings.length} checks failed`}</h2>
    <ul class="checks">
      ${result.findings.map((f) => html`<li class=${f.ok ? 'ok' : 'failed'}>
        <span class=${`badge ${f.ok ? 'status-active' : 'status-disabled'}`}>${f.ok ? 'Passed' : 'Failed'}</span>
        <strong>${f.check}</strong><span class="check-detail">${f.detail}</span>
      </li>`)}
    </ul>
  </section>`;
}

/** Runs POST `url`/test and shows its checks; a test that cannot run at all is an error notice. */
export function useTest(url) {
  const [state, setState] = useState({ busy: false, result: undefined });
  const run = async () => {
    setState({ busy: true, result: undefined });
    try {
      const result = await api.post(`${url}/test`);
      setState({ busy: false, result });
      notify(result.ok ? 'success' : 'error', result.ok ? 'The test passed: every check succeeded.' : 'The test found problems: see each check below.');
    } catch (error) {
      setState({ busy: false, result: undefined });
      notify('error', `The test could not run: ${error.message}`);
    }
  };
  return [run, state];
}

/** Roles, locations, institutions and teams a rule may grant (each only if this person may read it). */
export function useGrantTargets() {
  const me = useMe();
  return useLoad(async () => {
    const get = (permission, url) => (can(me, permission) ? api.get(url).catch(() => []) : Promise.resolve([]));
    const [roles, locations, institutions, teams] = await Promise.all([
      get('caregate.roles:read', '/roles'), get('caregate.locations:read', '/locations'), get('caregate.institutions:read', '/institutions'), get('caregate.teams:read', '/teams'),
    ]);
    return { roles, locations, institutions, teams };
  }, []);
}

/** Runs a form's save (`work` notifies and moves on itself): busy while it runs, the API's field errors by name. */
export function useSave(work) {
  const [state, setState] = useState({ busy: false, fields: {}, error: undefined });
  const run = async (event) => {
    event?.preventDefault();
    setState({ busy: true, fields: {}, error: undefined });
    try {
      await work();
      setState({ busy: false, fields: {}, error: undefined });
    } catch (error) {
      setState({ busy: false, fields: error.fields ?? {}, error });
      notify('error', error.message);
    }
  };
  return [run, state];
}

/** An API error no field of `known` shows, for the form to show at its foot. */
export function otherError(state, known) {
  if (!state.error) return undefined;
  return Object.keys(state.fields).some((k) => known.some((n) => k === n || k.startsWith(`${n}.`))) ? undefined : state.error.message;
}

/**
 * A record's settings under its page: Save sends `patch()` (only what changed) to `url` by PATCH;
 * every control is disabled for someone who may not edit, and Save is shown only to someone who may.
 */
export function SettingsSection({ url, patch, name, editable, known, onSaved, children }) {
  const [save, state] = useSave(async () => {
    const body = patch();
    if (!Object.keys(body).length) {
      notify('success', 'Nothing to save: the settings are as they were.');
      return;
    }
    await api.patch(url, body);
    notify('success', `${name} was saved.`);
    onSaved();
  });
  const other = otherError(state, known);
  return html`<section aria-labelledby="settings-title">
    <h2 id="settings-title">Settings</h2>
    <form onSubmit=${save} novalidate>
      <fieldset class="plain" disabled=${!editable || state.busy}>
        ${children(state.fields)}
        ${other && html`<p class="field-error" role="alert">${other}</p>`}
        ${editable && html`<div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : 'Save changes'}</button></div>`}
      </fieldset>
    </form>
  </section>`;
}

/** For a Confirm: deletes `url`, says so and goes to `to`; false (the dialog stays) when refused. */
export const deleteThen = (url, name, to) => async () => {
  try {
    await api.del(url);
    notify('success', `${name} was deleted.`);
    navigate(to);
    return true;
  } catch (error) {
    notify('error', error.message);
    return false;
  }
};

// --- mapping rules ---------------------------------------------------------------------------------
/** A stored rule → what the editor shows. */
export const ruleToRow = (r) => ({
  claim: r.claim ?? '', equals: Array.isArray(r.equals) ? r.equals.join(', ') : r.equals ?? '',
  grant: r.phi ? 'phi' : r.team && !r.role ? 'team' : 'role', role: r.role ?? '', team: r.team ?? '',
  where: !r.scope || r.scope.type === 'tenant' ? 'tenant:' : `${r.scope.type}:${r.scope.key ?? r.scope.clientId}`, stop: Boolean(r.stop),
});

/** What the editor shows → the rule the API takes. */
export function rowToRule(row) {
  const values = splitList(row.equals, /,/);
  const rule = { claim: row.claim.trim() };
  if (values.length) rule.equals = values.length === 1 ? values[0] : values;
  if (row.grant === 'phi') rule.phi = true;
  else if (row.grant === 'team') rule.team = row.team;
  else {
    rule.role = row.role;
    const [type, key] = [row.where.slice(0, row.where.indexOf(':')), row.where.slice(row.where.indexOf(':') + 1)];
    if (type && type !== 'tenant') rule.scope = { type, key };
  }
  if (row.stop) rule.stop = true;
  return rule;
}

const GRANTS = [['role', 'A role'], ['team', 'Membership of a team'], ['phi', 'PHI access']];

/**
 * The mapping rules editor: each rule tests one upstream claim or attribute (groups, department…)
 * and grants a role where it applies, a team, or PHI access. `rows` are editor rows (ruleToRow).
 */
export function MappingRules({ rows, onRows, fields, claimHint, example = 'groups' }) {
  const targets = useGrantTargets().data ?? { roles: [], locations: [], institutions: [], teams: [] };
  const set = (i, key) => (value) => onRows(rows.map((r, j) => (j === i ? { ...r, [key]: value } : r)));
  const move = (i, by) => {
    const next = [...rows];
    [next[i], next[i + by]] = [next[i + by], next[i]];
    onRows(next);
  };
  const whereOptions = [['tenant:', 'Everywhere (tenant-wide)'],
    ...targets.locations.map((l) => [`location:${l.key}`, `Location: ${l.name ?? l.key}`]),
    ...targets.institutions.map((i) => [`institution:${i.key}`, `Institution: ${i.name ?? i.key}`])];
  const listError = fields.mappings;
  return html`<fieldset class="mapping-rules">
    <legend>Mapping rules</legend>
    <p class="hint">Each rule looks at one ${claimHint ?? 'claim or attribute'} of the person, such as <code>${example}</code>, and grants something when it matches. Rules run in order; the result replaces what this source granted before, so a group removed upstream removes the role.</p>
    ${listError && html`<p class="field-error">${listError}</p>`}
    ${rows.length === 0 && html`<p>No rules: people come in without roles, and an administrator gives them roles here.</p>`}
    <ol class="rules">
      ${rows.map((row, i) => html`<li class="rule card">
        <h3>Rule ${i + 1}</h3>
        <div class="form-grid">
          <${Field} label=${`Rule ${i + 1}: claim or attribute`} value=${row.claim} onValue=${set(i, 'claim')} error=${fields[`mappings.${i}.claim`] ?? fields[`mappings.${i}`]} autocomplete="off" spellcheck="false" placeholder=${example} />
          <${Field} label=${`Rule ${i + 1}: equals`} hint="Values that match, separated by commas (case does not matter); empty: any value" value=${row.equals} onValue=${set(i, 'equals')} error=${fields[`mappings.${i}.equals`]} autocomplete="off" />
          <${Select} label=${`Rule ${i + 1}: grants`} value=${row.grant} onValue=${set(i, 'grant')} options=${GRANTS} />
          ${row.grant === 'role' && html`
            <${Select} label=${`Rule ${i + 1}: role`} value=${row.role} onValue=${set(i, 'role')} error=${fields[`mappings.${i}.role`]}
              options=${[['', 'Choose a role'], ...targets.roles.map((r) => [r.key, r.name])]} />
            <${Select} label=${`Rule ${i + 1}: where`} value=${row.where} onValue=${set(i, 'where')} error=${errorOf(fields, `mappings.${i}.scope`)} options=${whereOptions} />`}
          ${row.grant === 'team' && html`<${Select} label=${`Rule ${i + 1}: team`} value=${row.team} onValue=${set(i, 'team')} error=${fields[`mappings.${i}.team`]}
            options=${[['', 'Choose a team'], ...targets.teams.filter((t) => t.key !== 'everyone').map((t) => [t.key, t.name ?? t.key])]} />`}
        </div>
        <${Checkbox} label=${`Rule ${i + 1}: stop at this rule when it matches`} checked=${row.stop} onValue=${set(i, 'stop')} />
        <div class="form-actions">
          <button type="button" class="secondary" disabled=${i === 0} onClick=${() => move(i, -1)}>Move rule ${i + 1} up</button>
          <button type="button" class="secondary" disabled=${i === rows.length - 1} onClick=${() => move(i, 1)}>Move rule ${i + 1} down</button>
          <button type="button" class="secondary" onClick=${() => onRows(rows.filter((_, j) => j !== i))}>Remove rule ${i + 1}</button>
        </div>
      </li>`)}
    </ol>
    <button type="button" class="secondary" onClick=${() => onRows([...rows, { claim: example, equals: '', grant: 'role', role: '', team: '', where: 'tenant:', stop: false }])}>Add a rule</button>
  </fieldset>`;
}

/** A URL to give the upstream, with a copy button. */
export function CopyValue({ label, value }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      notify('success', `${label} copied.`);
    } catch {
      notify('error', `Could not copy the ${label.toLowerCase()}: select it and copy it by hand.`);
    }
  };
  return html`<div class="copy-value"><dt>${label}</dt><dd><code>${value}</code> <button type="button" class="secondary small" onClick=${copy} aria-label=${`Copy ${label.toLowerCase()}`}>Copy</button></dd></div>`;
}
