// Applications: the list (OpenID Connect clients and SAML service providers), registering one — an
// OIDC client with its redirect URIs, grants and permission catalogue, or a SAML service provider from
// its metadata file (read in the browser) and/or its settings — the client id and secret shown once,
// and an application's page: settings (PATCH, lists replace), SAML settings (PUT / DELETE), the
// secret rotated with an overlap, and delete. The admin-API flag and service roles are offered only
// to someone holding every admin permission tenant-wide; the API refuses everyone else anyway.
import { api, path } from '../api.js';
import { navigate, queryOf, setQuery } from '../router.js';
import {
  Checkbox, Confirm, Dialog, Empty, Field, Link, Page, Select, Table, Tabs, can, formatTime, html, loadState, notify, useLoad, useMe, useRef, useState, useSubmit,
} from '../ui.js';

const GRANTS = [
  ['authorization_code', 'Authorization code', 'People sign in through the browser (with PKCE)'],
  ['refresh_token', 'Refresh tokens', 'The application stays signed in without asking again'],
  ['client_credentials', 'Client credentials', 'The application acts as itself (a service account), never for a person'],
];
const NAME_ID_FORMATS = [['persistent', 'Persistent (a stable, opaque identifier)'], ['transient', 'Transient (new at each sign-in)'], ['email', 'Email address'], ['unspecified', 'Unspecified']];
const NAME_ID_URNS = {
  'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent': 'persistent',
  'urn:oasis:names:tc:SAML:2.0:nameid-format:transient': 'transient',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress': 'email',
  'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified': 'unspecified',
};
// The API's rule for a catalogue entry (src/accounts/schemas.ts), checked here to answer at once.
const PERMISSION = /^(\*|[a-z][a-z0-9_.-]*:\*|[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+)$/;
const OVERLAPS = [['60', '1 hour'], ['1440', '1 day'], ['10080', '7 days (the longest)'], ['0', 'No overlap: the old secret stops at once']];

const isOidc = (app) => app.grantTypes.length > 0;
const kindOf = (app) => [isOidc(app) && 'OpenID Connect', app.saml && 'SAML'].filter(Boolean).join(' + ');
const clientType = (app) => (!isOidc(app) ? 'SAML only (no secret)' : app.public ? 'Public (no secret)' : 'Confidential (has a secret)');
/** "Redirect URI" → "redirect URI" (an acronym such as "ACS URL" stays). */
const lower = (text) => (/^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text);
const clean = (list) => list.map((v) => v.trim()).filter(Boolean);
const sameList = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** The first error the API gave for any of `keys` (a SAML field is named with or without "saml."). */
const errorOf = (fields, ...keys) => keys.map((k) => fields[k]).find(Boolean);

// --- shared pieces ---------------------------------------------------------------------------------
/** Copies `text` to the clipboard, saying so (or how to copy it by hand). */
export function CopyButton({ text, label }) {
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      notify('success', `${label} copied.`);
    } catch {
      notify('error', `Could not copy the ${lower(label)}: select it and copy it by hand.`);
    }
  };
  return html`<button type="button" class="secondary" onClick=${copy}>Copy ${lower(label)}</button>`;
}

/** The client id and a secret, shown once: what to do with them, and copy buttons. */
function SecretDialog({ title, clientId, secret, previousUntil, rotated, onClose }) {
  return html`<${Dialog} title=${title} onClose=${onClose}>
    <dl class="facts">
      <dt>Client ID</dt><dd><code data-testid="client-id">${clientId}</code></dd>
    </dl>
    <div class="form-actions"><${CopyButton} text=${clientId} label="Client ID" /></div>
    ${secret && html`
      <p class="notice warning"><strong>Shown once — copy it now.</strong> Caregate keeps only a sealed copy and cannot show this secret again; if it is lost, rotate the secret.</p>
      <p class="secret-once" data-testid="client-secret">${secret}</p>
      <div class="form-actions"><${CopyButton} text=${secret} label="Client secret" /></div>`}
    ${rotated && html`<p>${previousUntil ? `The previous secret keeps working until ${formatTime(previousUntil, { withZone: true })}: move every instance of the application to the new one before then.` : 'The previous secret no longer works.'}</p>`}
    <div class="dialog-actions"><button type="button" onClick=${onClose}>${secret ? 'I have copied it' : 'Done'}</button></div>
  <//>`;
}

/** An editable list of URLs, one field per entry; `errors` are the API's, by `name.index`. */
function UrlList({ legend, item, hint, name, values, onValues, fields }) {
  const set = (i, value) => onValues(values.map((v, j) => (j === i ? value : v)));
  return html`<fieldset class="url-list">
    <legend>${legend}</legend>
    ${hint && html`<p class="hint">${hint}</p>`}
    ${errorOf(fields, name) && html`<p class="field-error">${errorOf(fields, name)}</p>`}
    ${values.map((value, i) => html`<div class="url-row">
      <${Field} label=${`${item} ${i + 1}`} type="url" value=${value} onValue=${(v) => set(i, v)} error=${errorOf(fields, `${name}.${i}`, `${name}.${i}.url`)} autocomplete="off" spellcheck=${false} />
      <button type="button" class="secondary" aria-label=${`Remove ${lower(item)} ${i + 1}`} onClick=${() => onValues(values.filter((_, j) => j !== i))}>Remove</button>
    </div>`)}
    <button type="button" class="secondary" onClick=${() => onValues([...values, ''])}>Add ${/^[aeiou]/i.test(item) ? 'an' : 'a'} ${lower(item)}</button>
  </fieldset>`;
}

/** The permission catalogue: `feature:action` entries the application's roles can grant. */
function PermissionEditor({ values, onValues, fields }) {
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState(undefined);
  const add = () => {
    const entry = draft.trim();
    if (!PERMISSION.test(entry)) return setProblem('Must look like feature:action in lowercase, e.g. reports:read, forms:* or notes:edit:own.');
    if (values.includes(entry)) return setProblem(`${entry} is already in the catalogue.`);
    onValues([...values, entry]);
    setDraft('');
    setProblem(undefined);
  };
  const badIndex = values.findIndex((_, i) => fields[`permissions.${i}`]);
  return html`<fieldset>
    <legend>Permission catalogue</legend>
    <p class="hint">The permissions this application understands; roles grant them, and its tokens carry them.</p>
    ${values.length === 0 ? html`<p>No permissions yet: add the first, such as <code>reports:read</code>.</p>` : html`<ul class="permission-list" aria-label="Permissions in the catalogue">
      ${values.map((p, i) => html`<li class=${fields[`permissions.${i}`] ? 'invalid' : ''}><code>${p}</code>
        <button type="button" class="link" aria-label=${`Remove ${p}`} onClick=${() => onValues(values.filter((v) => v !== p))}>Remove</button>
        ${fields[`permissions.${i}`] && html`<span class="field-error">${fields[`permissions.${i}`]}</span>`}</li>`)}
    </ul>`}
    ${badIndex < 0 && fields.permissions && html`<p class="field-error">${fields.permissions}</p>`}
    <div class="add-row">
      <${Field} label="New permission" hint="feature:action, e.g. reports:read" value=${draft} error=${problem} autocomplete="off" spellcheck=${false}
        onValue=${(v) => { setDraft(v); setProblem(undefined); }} onKeyDown=${(e) => { if (e.key === 'Enter') { e.preventDefault(); add(); } }} />
      <button type="button" class="secondary" onClick=${add}>Add permission</button>
    </div>
  </fieldset>`;
}

/** A labelled textarea (certificates), with its error. */
function TextArea({ label, hint, value, onValue, error, id }) {
  const fieldId = useRef(id ?? `t-${Math.random().toString(36).slice(2)}`).current;
  const described = [hint && `${fieldId}-hint`, error && `${fieldId}-error`].filter(Boolean).join(' ') || undefined;
  return html`<div class=${`field${error ? ' invalid' : ''}`}>
    <label for=${fieldId}>${label}</label>
    ${hint && html`<p class="hint" id=${`${fieldId}-hint`}>${hint}</p>`}
    <textarea id=${fieldId} value=${value} spellcheck=${false} aria-invalid=${error ? 'true' : undefined} aria-describedby=${described} onInput=${(e) => onValue(e.currentTarget.value)}></textarea>
    ${error && html`<p class="field-error" id=${`${fieldId}-error`}>${error}</p>`}
  </div>`;
}

// --- OIDC settings -----------------------------------------------------------------------------
const oidcForm = (app) => ({
  name: app?.name ?? '',
  redirectUris: app ? [...app.redirectUris] : [''],
  postLogoutRedirectUris: app ? [...app.postLogoutRedirectUris] : [],
  public: app?.public ?? false,
  grantTypes: app ? [...app.grantTypes] : ['authorization_code', 'refresh_token'],
  resource: app?.resource ?? '',
  permissions: app ? [...app.permissions] : [],
  requireConsent: app?.requireConsent ?? false,
  backchannelLogoutUri: app?.backchannelLogoutUri ?? '',
  adminApi: app?.adminApi ?? false,
  serviceRoles: [],
});

/** What both the register form and the settings tab ask of an OIDC client. */
function OidcFields({ form, set, fields, me, roles, isNew }) {
  const toggleGrant = (grant, on) => set('grantTypes')(on ? [...form.grantTypes, grant] : form.grantTypes.filter((g) => g !== grant));
  const credentials = form.grantTypes.includes('client_credentials');
  return html`
    <${UrlList} legend="Redirect URIs" item="Redirect URI" name="redirectUris" values=${form.redirectUris} onValues=${set('redirectUris')} fields=${fields}
      hint="Where people return after signing in: https (http only for localhost), exactly as the application sends it." />
    <${UrlList} legend="Post-logout redirect URIs" item="Post-logout URI" name="postLogoutRedirectUris" values=${form.postLogoutRedirectUris} onValues=${set('postLogoutRedirectUris')} fields=${fields}
      hint="Where people may be sent after signing out (optional)." />
    ${isNew ? html`<fieldset><legend>Client type</legend>
      ${[[false, 'Confidential: a server keeps a client secret'], [true, 'Public: a browser or phone app, no secret (PKCE only)']].map(([value, text]) => html`<div class="check">
        <input type="radio" name="client-type" id=${`type-${value ? 'public' : 'confidential'}`} checked=${form.public === value}
          onChange=${() => set('public', value ? { grantTypes: form.grantTypes.filter((g) => g !== 'client_credentials') } : {})(value)} />
        <label for=${`type-${value ? 'public' : 'confidential'}`}>${text}</label></div>`)}
    </fieldset>` : html`<p><strong>Client type:</strong> ${form.public ? 'Public (no secret)' : 'Confidential (has a client secret)'} — it cannot change after registration.</p>`}
    <fieldset>
      <legend>Grants</legend>
      ${errorOf(fields, 'grantTypes') && html`<p class="field-error">${errorOf(fields, 'grantTypes')}</p>`}
      ${GRANTS.map(([grant, text, hint]) => html`<${Checkbox} label=${text} hint=${hint} checked=${form.grantTypes.includes(grant)}
        disabled=${grant === 'client_credentials' && form.public} onValue=${(on) => toggleGrant(grant, on)} />`)}
    </fieldset>
    <div class="form-grid">
      <${Field} label="Resource (its API identifier)" type="url" hint=${isNew ? 'Optional: the audience of its access tokens; left empty, Caregate names one' : 'The audience of its access tokens'}
        value=${form.resource} onValue=${set('resource')} error=${errorOf(fields, 'resource')} autocomplete="off" spellcheck=${false} />
      <${Field} label="Back-channel logout URI" type="url" hint="Optional: Caregate tells the application here when a person signs out"
        value=${form.backchannelLogoutUri} onValue=${set('backchannelLogoutUri')} error=${errorOf(fields, 'backchannelLogoutUri')} autocomplete="off" spellcheck=${false} />
    </div>
    <${Checkbox} label="Require consent" hint="People are asked before the application receives their details" checked=${form.requireConsent} onValue=${set('requireConsent')} />
    ${me.allAdminPermissions && html`<fieldset>
      <legend>Admin API</legend>
      <${Checkbox} label="May call the admin API" hint="Its tokens then carry the admin rights of whoever signs in through it, or of its service account" checked=${form.adminApi} onValue=${set('adminApi')} />
      ${errorOf(fields, 'adminApi') && html`<p class="field-error">${errorOf(fields, 'adminApi')}</p>`}
      ${credentials && roles.length > 0 && html`<fieldset><legend>Service roles (what the application holds when it acts as itself)</legend>
        ${roles.map((r) => html`<${Checkbox} label=${r.name} checked=${form.serviceRoles.includes(r.key)}
          onValue=${(on) => set('serviceRoles')(on ? [...form.serviceRoles, r.key] : form.serviceRoles.filter((k) => k !== r.key))} />`)}
        ${errorOf(fields, 'serviceRoles') && html`<p class="field-error">${errorOf(fields, 'serviceRoles')}</p>`}
      </fieldset>`}
    </fieldset>`}`;
}

// --- SAML settings -------------------------------------------------------------------------------
const certificates = (text) => {
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  return pems ?? text.split(/\n\s*\n/).map((c) => c.trim()).filter(Boolean);
};
const samlView = (settings) => ({
  entityId: settings?.entityId ?? '',
  acs: settings ? settings.acs.map((a) => a.url) : [''],
  nameIdFormat: settings?.nameIdFormat ?? 'persistent',
  encryptAssertion: settings?.encryptAssertion ?? false,
  requireSignedRequests: settings?.requireSignedRequests ?? false,
  encryptionCertificate: settings?.encryptionCertificate ?? '',
  signingCertificates: (settings?.signingCertificates ?? []).join('\n\n'),
});
const samlForm = (stored) => ({ ...samlView(stored), base: samlView(stored), stored, metadata: undefined, file: undefined, fileError: undefined });

/** SP metadata read in the browser, to show what it says (the API reads it again, strictly). */
function readMetadata(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error('the file is not well-formed XML');
  const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
  const sp = doc.getElementsByTagNameNS(md, 'SPSSODescriptor')[0];
  if (!sp) throw new Error('it describes no SAML service provider (no md:SPSSODescriptor)');
  const keys = [...sp.getElementsByTagNameNS(md, 'KeyDescriptor')];
  const certs = (use) => keys.filter((k) => !k.getAttribute('use') || k.getAttribute('use') === use)
    .flatMap((k) => [...k.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate')].map((c) => c.textContent.replace(/\s+/g, '')));
  const format = sp.getElementsByTagNameNS(md, 'NameIDFormat')[0]?.textContent.trim();
  return {
    entityId: sp.parentElement?.getAttribute('entityID') ?? '',
    acs: [...sp.getElementsByTagNameNS(md, 'AssertionConsumerService')].filter((e) => e.getAttribute('Binding') === 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST').map((e) => e.getAttribute('Location') ?? ''),
    nameIdFormat: NAME_ID_URNS[format] ?? 'persistent',
    encryptAssertion: false,
    requireSignedRequests: ['true', '1'].includes(sp.getAttribute('AuthnRequestsSigned')),
    encryptionCertificate: certs('encryption')[0] ?? '',
    signingCertificates: certs('signing').join('\n\n'),
  };
}

/**
 * The request a SAML form makes: with metadata, the metadata and only the fields changed since it
 * was read (they override it); without, the whole settings (the stored ones with the edits).
 */
function samlRequest(s) {
  const acsList = clean(s.acs);
  const acs = acsList.map((url, index) => ({ url, index, isDefault: index === 0 }));
  const edited = {
    entityId: s.entityId.trim(),
    acs: sameList(acsList, s.base.acs) && s.stored ? s.stored.acs : acs,
    nameIdFormat: s.nameIdFormat,
    encryptAssertion: s.encryptAssertion,
    requireSignedRequests: s.requireSignedRequests,
    encryptionCertificate: s.encryptionCertificate.trim() || null,
    signingCertificates: certificates(s.signingCertificates),
  };
  if (!s.metadata) return { settings: { ...(s.stored ?? {}), ...edited } };
  const changed = Object.fromEntries(Object.entries(edited).filter(([key]) => {
    if (key === 'acs') return !sameList(acsList, s.base.acs);
    if (key === 'encryptionCertificate' || key === 'entityId') return s[key].trim() !== s.base[key];
    return s[key] !== s.base[key];
  }));
  return { metadata: s.metadata, settings: changed };
}

/** The SAML half of a form: the SP's metadata file, and/or its settings (which override the file). */
function SamlFields({ saml, onSaml, fields }) {
  const set = (key) => (value) => onSaml({ ...saml, [key]: value });
  const upload = (event) => {
    const file = event.currentTarget.files?.[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      const xml = String(reader.result);
      try {
        const read = readMetadata(xml);
        onSaml({ ...saml, ...read, base: read, metadata: xml, file: file.name, fileError: undefined });
      } catch (error) {
        onSaml({ ...saml, metadata: undefined, file: undefined, fileError: `${file.name} cannot be used: ${error.message}.` });
      }
    };
    reader.onerror = () => onSaml({ ...saml, metadata: undefined, file: undefined, fileError: `${file.name} could not be read.` });
    reader.readAsText(file);
  };
  const fileError = saml.fileError ?? errorOf(fields, 'samlMetadata', 'metadata', 'saml.metadata');
  const e = (key) => errorOf(fields, `saml.${key}`, key);
  return html`
    <fieldset>
      <legend>Service provider metadata</legend>
      <div class=${`field${fileError ? ' invalid' : ''}`}>
        <label for="saml-metadata">Metadata file (XML)</label>
        <p class="hint" id="saml-metadata-hint">The SP's SAML 2.0 metadata (an EntityDescriptor). It fills the settings below; what you change there overrides it.</p>
        <input id="saml-metadata" type="file" accept=".xml,application/xml,text/xml,application/samlmetadata+xml" onChange=${upload}
          aria-describedby=${`saml-metadata-hint${fileError ? ' saml-metadata-error' : ''}`} aria-invalid=${fileError ? 'true' : undefined} />
        ${fileError && html`<p class="field-error" id="saml-metadata-error">${fileError}</p>`}
      </div>
      ${saml.metadata && html`<p role="status">Read from <strong>${saml.file}</strong>. <button type="button" class="link" onClick=${() => onSaml({ ...saml, metadata: undefined, file: undefined })}>Do not use the file</button></p>`}
    </fieldset>
    <fieldset>
      <legend>Settings</legend>
      <${Field} label="Entity ID" hint="The SP's SAML entity ID (its Issuer)" value=${saml.entityId} onValue=${set('entityId')} error=${e('entityId')} autocomplete="off" spellcheck=${false} />
      <${UrlList} legend="Assertion Consumer Service URLs" item="ACS URL" name="acs" values=${saml.acs} onValues=${set('acs')}
        fields=${Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/^saml\./, ''), v]))}
        hint="Where Caregate posts its responses (HTTP-POST); the first is the default." />
      <${Select} label="NameID format" value=${saml.nameIdFormat} onValue=${set('nameIdFormat')} error=${e('nameIdFormat')} options=${NAME_ID_FORMATS} />
      <${Checkbox} label="Encrypt assertions" hint="Needs the SP's encryption certificate" checked=${saml.encryptAssertion} onValue=${set('encryptAssertion')} />
      ${e('encryptAssertion') && html`<p class="field-error">${e('encryptAssertion')}</p>`}
      <${Checkbox} label="Require signed requests" hint="Refuse AuthnRequests and LogoutRequests that are not signed; needs a signing certificate" checked=${saml.requireSignedRequests} onValue=${set('requireSignedRequests')} />
      ${e('requireSignedRequests') && html`<p class="field-error">${e('requireSignedRequests')}</p>`}
      <${TextArea} id="saml-encryption-cert" label="Encryption certificate" hint="PEM or base64; empty for none" value=${saml.encryptionCertificate} onValue=${set('encryptionCertificate')} error=${e('encryptionCertificate')} />
      <${TextArea} id="saml-signing-certs" label="Signing certificates" hint="PEM or base64, several separated by a blank line; the SP signs its requests with them" value=${saml.signingCertificates}
        onValue=${set('signingCertificates')} error=${errorOf(fields, 'saml.signingCertificates', 'signingCertificates', 'saml.signingCertificates.0', 'signingCertificates.0')} />
    </fieldset>`;
}

/** A form's failure that names no field shown, under its buttons. */
const formError = (state) => state.error && !Object.keys(state.fields).length && html`<p class="field-error" role="alert">${state.error.message}</p>`;

// --- the list --------------------------------------------------------------------------------
function ApplicationList() {
  const me = useMe();
  const list = useLoad(() => api.get('/applications'), []);
  const apps = list.data ?? [];
  const mayCreate = can(me, 'caregate.applications:create', { tenantWide: true });
  const register = mayCreate && html`<${Link} class="button" href="/applications/new">Register an application<//>`;
  return html`<${Page} title="Applications" subtitle=${list.data ? `${apps.length} ${apps.length === 1 ? 'application' : 'applications'}` : undefined} actions=${register}>
    ${loadState(list, 'applications')}
    ${list.data && apps.length === 0 && html`<${Empty} title="No applications yet" action=${mayCreate && html`<${Link} class="button" href="/applications/new">Register your first application<//>`}>
      Register each application people sign in to: an OpenID Connect client (its redirect URIs and permissions) or a SAML service provider (from its metadata file).<//>`}
    ${apps.length > 0 && html`<${Table} caption="Applications" hideCaption head=${['Name', 'Kind', 'Client ID', 'Redirect URI or SAML entity ID', 'Registered']}>
      ${apps.map((a) => html`<tr>
        <td><${Link} href=${path`/applications/${a.clientId}`}>${a.name}<//>${a.builtin ? html` <span class="badge">built-in</span>` : ''}${a.adminApi ? html` <span class="badge">admin API</span>` : ''}</td>
        <td>${kindOf(a)}<br /><span class="hint">${clientType(a)}</span></td>
        <td><code>${a.clientId}</code></td>
        <td class="wrap">${a.saml ? a.saml.entityId : a.redirectUris[0] ?? (a.grantTypes.includes('client_credentials') ? 'Acts as itself (no sign-in)' : '—')}${a.redirectUris.length > 1 ? ` and ${a.redirectUris.length - 1} more` : ''}</td>
        <td>${formatTime(a.createdAt)}</td>
      </tr>`)}
    <//>`}
  <//>`;
}

/** Roles for the service-role choice: only for someone who may use it, and only if readable. */
const useServiceRoleChoices = (me) => useLoad(() => (me.allAdminPermissions && can(me, 'caregate.roles:read') ? api.get('/roles').catch(() => []) : Promise.resolve([])), []);

// --- register ------------------------------------------------------------------------------------
function RegisterApplication() {
  const me = useMe();
  const roles = useServiceRoleChoices(me).data ?? [];
  const [kind, setKind] = useState('oidc');
  const [form, setForm] = useState(oidcForm());
  const [saml, setSaml] = useState(samlForm());
  const [created, setCreated] = useState(undefined);
  const set = (key, also = {}) => (value) => setForm({ ...form, ...also, [key]: value });
  const [submit, state] = useSubmit(async () => {
    const lists = { redirectUris: clean(form.redirectUris), postLogoutRedirectUris: clean(form.postLogoutRedirectUris) };
    setForm({ ...form, ...lists });
    setSaml({ ...saml, acs: clean(saml.acs) });
    let body;
    if (kind === 'oidc') {
      body = {
        name: form.name, ...lists, public: form.public, requireConsent: form.requireConsent, grantTypes: form.grantTypes, permissions: form.permissions,
        resource: form.resource.trim() || undefined, backchannelLogoutUri: form.backchannelLogoutUri.trim() || undefined,
        ...(me.allAdminPermissions ? { adminApi: form.adminApi, serviceRoles: form.grantTypes.includes('client_credentials') ? form.serviceRoles : [] } : {}),
      };
    } else {
      const { metadata, settings } = samlRequest(saml);
      body = { name: form.name, permissions: form.permissions, saml: settings, ...(metadata ? { samlMetadata: metadata } : {}) };
    }
    const app = await api.post('/applications', body);
    setCreated(app);
    return app;
  }, { success: (a) => `${a.name} was registered.` });
  const open = () => navigate(path`/applications/${created.clientId}`);
  const f = state.fields;
  return html`<${Page} title="Register an application" back=${{ href: '/applications', label: 'Applications' }}>
    <form onSubmit=${submit} novalidate>
      <fieldset><legend>Kind</legend>
        ${[['oidc', 'OpenID Connect application (web, mobile, or a service)'], ['saml', 'SAML service provider']].map(([value, text]) => html`<div class="check">
          <input type="radio" name="kind" id=${`kind-${value}`} checked=${kind === value} onChange=${() => setKind(value)} /><label for=${`kind-${value}`}>${text}</label></div>`)}
      </fieldset>
      <${Field} label="Name" required hint="As people will see it, e.g. HRA North" value=${form.name} onValue=${set('name')} error=${f.name} autocomplete="off" />
      ${kind === 'oidc' ? html`<${OidcFields} form=${form} set=${set} fields=${f} me=${me} roles=${roles} isNew />` : html`<${SamlFields} saml=${saml} onSaml=${setSaml} fields=${f} />`}
      <${PermissionEditor} values=${form.permissions} onValues=${set('permissions')} fields=${f} />
      ${formError(state)}
      <div class="form-actions"><button type="submit" disabled=${state.busy || Boolean(created)}>${state.busy ? 'Registering…' : 'Register application'}</button> <${Link} class="button secondary" href="/applications">Cancel<//></div>
    </form>
    ${created && html`<${SecretDialog} title=${created.client_secret ? `${created.name}: client secret — shown once` : `${created.name} is registered`}
      clientId=${created.clientId} secret=${created.client_secret} onClose=${open} />`}
  <//>`;
}

// --- an application's page ----------------------------------------------------------------------------
const TABS = [['settings', 'Settings'], ['saml', 'SAML'], ['credentials', 'Client ID and secret']];

function ApplicationPage({ clientId }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(path`/applications/${clientId}`), [clientId]);
  const [tab, setTab] = useState(queryOf().tab ?? 'settings');
  const [action, setAction] = useState(undefined);
  const app = loaded.data;
  if (!app) return html`<${Page} title="Application" back=${{ href: '/applications', label: 'Applications' }}>${loadState(loaded, 'this application')}<//>`;
  const choose = (key) => {
    setTab(key);
    setQuery({ tab: key === 'settings' ? undefined : key });
  };
  const mayEdit = can(me, 'caregate.applications:edit');
  const actions = [
    mayEdit && isOidc(app) && !app.public && html`<button type="button" class="secondary" onClick=${() => setAction('rotate')}>Rotate secret</button>`,
    can(me, 'caregate.applications:delete', { tenantWide: true }) && !app.builtin && html`<button type="button" class="danger" onClick=${() => setAction('delete')}>Delete</button>`,
  ].filter(Boolean);
  const panels = { settings: SettingsTab, saml: SamlTab, credentials: CredentialsTab };
  const Panel = panels[tab] ?? SettingsTab;
  return html`<${Page} title=${app.name} subtitle=${`${kindOf(app)} · ${clientType(app)}${app.builtin ? ' · built-in' : ''}`} back=${{ href: '/applications', label: 'Applications' }}
    actions=${actions.length ? html`<div class="toolbar">${actions}</div>` : undefined}>
    <${Tabs} label="About this application" tabs=${TABS} current=${tab} onChange=${choose}>
      <${Panel} key=${`${tab}-${app.updatedAt}`} app=${app} me=${me} reload=${loaded.reload} mayEdit=${mayEdit} />
    <//>
    ${action === 'rotate' && html`<${RotateSecret} app=${app} onClose=${() => setAction(undefined)} onDone=${loaded.reload} />`}
    ${action === 'delete' && html`<${Confirm} title="Delete this application?" confirmText="Delete application" typeToConfirm=${app.name}
      message=${`This deletes ${app.name}: its tokens stop working, its service account goes, and the roles people hold for it end. It cannot be undone.`}
      onConfirm=${async () => {
        try {
          await api.del(path`/applications/${app.clientId}`);
          notify('success', `${app.name} was deleted.`);
          navigate('/applications');
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setAction(undefined)} />`}
  <//>`;
}

function SettingsTab({ app, me, reload, mayEdit }) {
  const roles = useServiceRoleChoices(me).data ?? [];
  const credentials = app.grantTypes.includes('client_credentials');
  const service = useLoad(() => (credentials && me.allAdminPermissions && can(me, 'caregate.users:read') ? api.get(path`/users/svc-${app.clientId}`).catch(() => undefined) : Promise.resolve(undefined)), [app.clientId]);
  const heldRoles = (service.data?.assignments ?? []).filter((a) => a.scope?.type === 'tenant' || !a.scope).map((a) => a.role);
  const [form, setForm] = useState(oidcForm(app));
  const [rolesTouched, setRolesTouched] = useState(false);
  const set = (key, also = {}) => (value) => {
    if (key === 'serviceRoles') setRolesTouched(true);
    setForm({ ...form, ...also, [key]: value });
  };
  const shown = rolesTouched ? form : { ...form, serviceRoles: heldRoles };
  const [submit, state] = useSubmit(async () => {
    const lists = { redirectUris: clean(form.redirectUris), postLogoutRedirectUris: clean(form.postLogoutRedirectUris) };
    setForm({ ...shown, ...lists });
    const patch = {
      name: form.name, permissions: form.permissions,
      ...(isOidc(app) ? {
        ...lists, grantTypes: form.grantTypes, requireConsent: form.requireConsent, backchannelLogoutUri: form.backchannelLogoutUri.trim() || null,
        ...(form.resource.trim() !== app.resource ? { resource: form.resource.trim() } : {}),
      } : {}),
      ...(me.allAdminPermissions && form.adminApi !== app.adminApi ? { adminApi: form.adminApi } : {}),
      ...(me.allAdminPermissions && rolesTouched && form.grantTypes.includes('client_credentials') ? { serviceRoles: form.serviceRoles } : {}),
    };
    const updated = await api.patch(path`/applications/${app.clientId}`, patch);
    setRolesTouched(false);
    reload();
    return updated;
  }, { success: 'Saved. The change applies from the next sign-in.' });
  const f = state.fields;
  if (!mayEdit) return html`<${Summary} app=${app} />`;
  return html`<form onSubmit=${submit} novalidate>
    <${Field} label="Name" required value=${form.name} onValue=${set('name')} error=${f.name} autocomplete="off" />
    ${isOidc(app) ? html`<${OidcFields} form=${shown} set=${set} fields=${f} me=${me} roles=${roles} />`
      : html`<p>A SAML-only application: its service provider settings are on the SAML tab.</p>`}
    <${PermissionEditor} values=${form.permissions} onValues=${set('permissions')} fields=${f} />
    ${formError(state)}
    <div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : 'Save settings'}</button></div>
  </form>`;
}

/** What someone who may not edit reads. */
function Summary({ app }) {
  const list = (values) => (values.length ? values.join(', ') : 'none');
  return html`<dl class="facts">
    <dt>Redirect URIs</dt><dd>${list(app.redirectUris)}</dd>
    <dt>Post-logout redirect URIs</dt><dd>${list(app.postLogoutRedirectUris)}</dd>
    <dt>Grants</dt><dd>${list(app.grantTypes)}</dd>
    <dt>Resource</dt><dd>${app.resource}</dd>
    <dt>Permission catalogue</dt><dd>${list(app.permissions)}</dd>
    <dt>Require consent</dt><dd>${app.requireConsent ? 'yes' : 'no'}</dd>
    <dt>Back-channel logout URI</dt><dd>${app.backchannelLogoutUri ?? 'none'}</dd>
    <dt>Admin API</dt><dd>${app.adminApi ? 'yes' : 'no'}</dd>
  </dl>`;
}

function SamlTab({ app, reload, mayEdit }) {
  const [saml, setSaml] = useState(samlForm(app.saml ?? undefined));
  const [adding, setAdding] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [submit, state] = useSubmit(async () => {
    setSaml({ ...saml, acs: clean(saml.acs) });
    const { metadata, settings } = samlRequest(saml);
    const updated = await api.put(path`/applications/${app.clientId}/saml`, { ...settings, ...(metadata ? { metadata } : {}) });
    reload();
    return updated;
  }, { success: 'SAML settings saved.' });
  if (!app.saml && !adding) {
    return html`<div><p>${app.name} is not a SAML service provider.</p>
      ${mayEdit && html`<button type="button" class="secondary" onClick=${() => setAdding(true)}>Add SAML settings</button>`}</div>`;
  }
  if (!mayEdit) {
    return html`<dl class="facts"><dt>Entity ID</dt><dd>${app.saml.entityId}</dd><dt>ACS URLs</dt><dd>${app.saml.acs.map((a) => a.url).join(', ')}</dd>
      <dt>NameID format</dt><dd>${app.saml.nameIdFormat}</dd><dt>Encrypt assertions</dt><dd>${app.saml.encryptAssertion ? 'yes' : 'no'}</dd>
      <dt>Require signed requests</dt><dd>${app.saml.requireSignedRequests ? 'yes' : 'no'}</dd></dl>`;
  }
  return html`<form onSubmit=${submit} novalidate>
    <${SamlFields} saml=${saml} onSaml=${setSaml} fields=${state.fields} />
    ${formError(state)}
    <div class="form-actions">
      <button type="submit" disabled=${state.busy}>${state.busy ? 'Saving…' : 'Save SAML settings'}</button>
      ${app.saml && isOidc(app) && html`<button type="button" class="danger" onClick=${() => setRemoving(true)}>Remove SAML</button>`}
    </div>
    ${app.saml && !isOidc(app) && html`<p class="hint">A SAML-only application: to stop it, delete the application.</p>`}
    ${removing && html`<${Confirm} title="Remove SAML from this application?" confirmText="Remove SAML"
      message=${`${app.saml.entityId} can no longer sign people in through SAML; ${app.name} keeps its OpenID Connect settings.`}
      onConfirm=${async () => {
        try {
          await api.del(path`/applications/${app.clientId}/saml`);
          notify('success', 'SAML settings removed.');
          reload();
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setRemoving(false)} />`}
  </form>`;
}

function CredentialsTab({ app, mayEdit }) {
  const overlap = app.previousSecretExpiresAt && new Date(app.previousSecretExpiresAt) > new Date();
  return html`<div>
    <dl class="facts">
      <dt>Client ID</dt><dd><code>${app.clientId}</code></dd>
      <dt>Client type</dt><dd>${clientType(app)}</dd>
      ${isOidc(app) && !app.public && html`<dt>Client secret</dt><dd>Kept sealed; never shown again after registration or rotation.</dd>
        <dt>Previous secret</dt><dd>${overlap ? `Still works until ${formatTime(app.previousSecretExpiresAt, { withZone: true })}` : 'None working'}</dd>`}
      <dt>Registered</dt><dd>${formatTime(app.createdAt, { withZone: true })}</dd>
      <dt>Last changed</dt><dd>${formatTime(app.updatedAt, { withZone: true })}</dd>
    </dl>
    <div class="form-actions"><${CopyButton} text=${app.clientId} label="Client ID" /></div>
    ${mayEdit && isOidc(app) && !app.public && html`<p class="hint">To issue a new secret, use Rotate secret at the top of the page.</p>`}
  </div>`;
}

function RotateSecret({ app, onClose, onDone }) {
  const [overlap, setOverlap] = useState('60');
  const [rotated, setRotated] = useState(undefined);
  const [submit, state] = useSubmit(async () => {
    const result = await api.post(path`/applications/${app.clientId}/secret`, { overlapMinutes: Number(overlap) });
    setRotated(result);
    onDone();
    return result;
  }, { success: 'A new client secret was issued.' });
  if (rotated) {
    return html`<${SecretDialog} title="New client secret — shown once" clientId=${rotated.client_id} secret=${rotated.client_secret} previousUntil=${rotated.previousSecretExpiresAt} rotated onClose=${onClose} />`;
  }
  return html`<${Dialog} title="Rotate the client secret?" onClose=${onClose}>
    <form onSubmit=${submit}>
      <p>${app.name} gets a new secret, shown once. The current one keeps working for the overlap you choose, so its servers can move to the new one.</p>
      <${Select} label="Overlap" value=${overlap} onValue=${setOverlap} options=${OVERLAPS} error=${state.fields.overlapMinutes} />
      ${formError(state)}
      <div class="dialog-actions"><button type="button" class="secondary" onClick=${onClose}>Cancel</button><button type="submit" disabled=${state.busy}>${state.busy ? 'Rotating…' : 'Rotate secret'}</button></div>
    </form>
  <//>`;
}

export const nav = { label: 'Applications', path: '/applications', permission: 'caregate.applications:read' };
export const routes = [
  { path: '/applications', view: ApplicationList },
  { path: '/applications/new', view: RegisterApplication },
  { path: '/applications/:clientId', view: ApplicationPage },
];
