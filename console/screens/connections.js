// Identity providers: federation connections (/connections) — the list; adding one from a preset
// (Okta, Microsoft Entra ID, Google Workspace, any OpenID Connect provider, or SAML 2.0 from the IdP's
// metadata file, read in the browser and sent as XML); a connection's page with the URLs to register
// at the provider, Test (each check's result), enable / disable, its settings (Save sends only what
// changed) and delete (typed confirmation). Secrets are write-only: the API never returns them, and
// the form only offers to replace one.
import { api, path } from '../api.js';
import { navigate, queryOf } from '../router.js';
import { Checkbox, Confirm, Empty, Field, Link, Page, Select, Status, Table, can, formatTime, html, loadState, notify, useLoad, useMe, useState } from '../ui.js';
import { keyFrom } from './keyed.js';
import { CopyValue, FileText, MappingRules, SettingsSection, TestResults, TextArea, deleteThen, errorOf, otherError, ruleToRow, rowToRule, splitList, useSave, useTest } from './upstream.js';

const KINDS = [
  ['okta', 'Okta', 'OpenID Connect, with groups from Okta'],
  ['entra', 'Microsoft Entra ID', 'OpenID Connect; one directory, or several named ones'],
  ['google', 'Google Workspace', 'OpenID Connect, limited to your Workspace domains'],
  ['generic', 'Another OpenID Connect provider', 'Any provider with discovery (/.well-known/openid-configuration)'],
  ['saml', 'SAML 2.0', "From the provider's metadata file (AD FS, Shibboleth, PingFederate, Okta or Entra SAML apps)"],
];
const KIND_NAME = Object.fromEntries(KINDS.map(([k, n]) => [k, n]));
const kindOf = (c) => (c.type === 'saml' ? 'saml' : c.preset);
const ISSUER_HINTS = {
  okta: 'Your Okta domain or authorization server, e.g. https://northwell.okta.com/oauth2/default',
  entra: 'Optional: left empty, it follows from the directory ID',
  google: 'https://accounts.google.com',
  generic: 'The provider\'s issuer URL; Caregate reads {issuer}/.well-known/openid-configuration',
};
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';

/** What an IdP metadata file says, read in the browser to show it (the API reads it again, strictly). */
function readIdpMetadata(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return { problem: 'it is not well-formed XML' };
  const entity = doc.getElementsByTagNameNS(MD, 'EntityDescriptor')[0];
  const idp = doc.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  if (!entity || !idp) return { problem: "it is not an identity provider's SAML metadata (no EntityDescriptor with an IDPSSODescriptor)" };
  const sso = [...idp.getElementsByTagNameNS(MD, 'SingleSignOnService')].find((s) => /HTTP-Redirect$/.test(s.getAttribute('Binding') ?? ''));
  const certificates = idp.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate').length;
  return { entityId: entity.getAttribute('entityID'), ssoUrl: sso?.getAttribute('Location'), certificates };
}

/** The form's state for a new connection of `kind`, or for a stored one. */
function formOf(kind, c) {
  return {
    kind, name: c?.name ?? '', key: c?.key ?? '', keyTouched: Boolean(c),
    issuer: c?.issuer ?? (kind === 'google' ? 'https://accounts.google.com' : ''), clientId: c?.clientId ?? '', clientSecret: '', clientAuth: c?.clientAuth ?? 'client_secret_basic',
    scopes: (c?.scopes ?? []).join(' '), groupsClaim: c?.groupsClaim ?? 'groups', usernameClaim: c?.usernameClaim ?? 'preferred_username',
    entraTenant: c?.entraTenant ?? '', allowedTenants: (c?.allowedTenants ?? []).join('\n'), hostedDomains: (c?.hostedDomains ?? []).join('\n'),
    idpMetadata: undefined, metadataInfo: undefined, idpEntityId: c?.idpEntityId ?? '', ssoUrl: c?.ssoUrl ?? '', idpCertificates: (c?.idpCertificates ?? []).join('\n\n'),
    signRequests: c?.signRequests ?? true, nameIdFormat: c?.nameIdFormat ?? 'persistent',
    domains: (c?.domains ?? []).join('\n'), button: c?.button ?? true, jit: c?.jit ?? true, linkByEmail: c?.linkByEmail ?? false,
    requireVerifiedEmail: c?.requireVerifiedEmail ?? true, federatedOnly: c?.federatedOnly ?? false, trustUpstreamMfa: c?.trustUpstreamMfa ?? false, enabled: c?.enabled ?? true,
    rules: (c?.mappings ?? []).map(ruleToRow),
  };
}

const certificatesIn = (text) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? splitList(text, /\n\s*\n/);

/** The request the form describes (for a new connection, with its key, type and preset). */
function requestOf(f, isNew) {
  const body = {
    name: f.name.trim(), domains: splitList(f.domains, /[\s,]+/), button: f.button, jit: f.jit, linkByEmail: f.linkByEmail, requireVerifiedEmail: f.requireVerifiedEmail,
    federatedOnly: f.federatedOnly, trustUpstreamMfa: f.trustUpstreamMfa, enabled: f.enabled, mappings: f.rules.map(rowToRule),
  };
  if (isNew) Object.assign(body, { key: f.keyTouched ? f.key : keyFrom(f.name), type: f.kind === 'saml' ? 'saml' : 'oidc', ...(f.kind === 'saml' ? {} : { preset: f.kind }) });
  if (f.kind === 'saml') {
    if (f.idpMetadata) body.idpMetadata = f.idpMetadata;
    if (f.idpEntityId.trim() || !f.idpMetadata) body.idpEntityId = f.idpEntityId.trim();
    if (f.ssoUrl.trim() || !f.idpMetadata) body.ssoUrl = f.ssoUrl.trim();
    if (f.idpCertificates.trim() || !f.idpMetadata) body.idpCertificates = certificatesIn(f.idpCertificates);
    Object.assign(body, { signRequests: f.signRequests, nameIdFormat: f.nameIdFormat });
    return body;
  }
  Object.assign(body, { clientId: f.clientId.trim(), clientAuth: f.clientAuth, groupsClaim: f.groupsClaim.trim(), usernameClaim: f.usernameClaim.trim() });
  if (f.issuer.trim() || f.kind !== 'entra') body.issuer = f.issuer.trim();
  if (f.clientSecret) body.clientSecret = f.clientSecret;
  if (f.scopes.trim()) body.scopes = splitList(f.scopes, /[\s,]+/);
  if (f.kind === 'entra') Object.assign(body, { entraTenant: f.entraTenant.trim() || undefined, allowedTenants: splitList(f.allowedTenants, /[\s,]+/) });
  if (f.kind === 'google') body.hostedDomains = splitList(f.hostedDomains, /[\s,]+/);
  return body;
}

/** Only what differs from the stored connection (PATCH validates the result whole). */
function changed(f, stored) {
  const now = requestOf(f, false);
  const before = requestOf(formOf(f.kind, stored), false);
  return Object.fromEntries(Object.entries(now).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k])));
}

// --- the list ----------------------------------------------------------------------------------
function ConnectionList() {
  const me = useMe();
  const list = useLoad(() => api.get('/connections'), []);
  const rows = list.data ?? [];
  const add = can(me, 'caregate.connections:create') && html`<${Link} class="button" href="/identity-providers/new">Add identity provider<//>`;
  return html`<${Page} title="Identity providers" subtitle="Let people sign in with their organisation's account (Okta, Microsoft Entra ID, Google Workspace, SAML)." actions=${rows.length > 0 && add}>
    ${loadState(list, 'the identity providers')}
    ${list.data && rows.length === 0 && html`<${Empty} title="No identity providers yet" action=${add}>
      Connect the identity provider your staff already use, so they sign in with that account: their groups can give them roles, and leavers lose access when the provider disables them.<//>`}
    ${rows.length > 0 && html`<${Table} caption="Identity providers" hideCaption head=${['Name', 'Kind', 'Email domains', 'Status', 'Changed']}>
      ${rows.map((c) => html`<tr>
        <td><${Link} href=${path`/identity-providers/${c.key}`}>${c.name}<//><br /><span class="hint">${c.key}</span></td>
        <td>${KIND_NAME[kindOf(c)]}</td>
        <td class="wrap">${c.domains.length ? c.domains.join(', ') : '—'}</td>
        <td><${Status} status=${c.enabled ? 'active' : 'disabled'} /></td>
        <td>${formatTime(c.updatedAt)}</td>
      </tr>`)}
    <//>`}
  <//>`;
}

// --- the settings form (new and edit) --------------------------------------------------------------
function ConnectionFields({ form, setForm, fields, isNew, stored }) {
  const set = (key) => (value) => setForm((f) => ({ ...f, [key]: value }));
  const k = form.kind;
  const saml = k === 'saml';
  const shownKey = form.keyTouched ? form.key : keyFrom(form.name);
  return html`
    <fieldset><legend>About it</legend><div class="form-grid">
      <${Field} label="Name" required hint='On the sign-in button: "Sign in with …"' value=${form.name} onValue=${set('name')} error=${fields.name} autocomplete="off" />
      ${isNew ? html`<${Field} label="Key" required hint="In its URLs and in its users' source; it cannot change later" value=${shownKey} error=${fields.key} autocomplete="off" spellcheck="false"
        onValue=${(v) => setForm((f) => ({ ...f, key: v, keyTouched: true }))} />` : html`<p><strong>Key:</strong> <code>${stored.key}</code></p>`}
    </div></fieldset>

    ${!saml && html`<fieldset><legend>${KIND_NAME[k]} settings</legend><div class="form-grid">
      <${Field} label="Issuer URL" type="url" required=${k !== 'entra'} hint=${ISSUER_HINTS[k]} value=${form.issuer} onValue=${set('issuer')} error=${fields.issuer} autocomplete="off" spellcheck="false" />
      ${k === 'entra' && html`<${Field} label="Directory (tenant) ID" hint='The ID of your Entra directory, or "organizations" to accept several (then list them below)' value=${form.entraTenant} onValue=${set('entraTenant')} error=${fields.entraTenant} autocomplete="off" spellcheck="false" />`}
      <${Field} label="Client ID" required hint="From the application you registered at the provider" value=${form.clientId} onValue=${set('clientId')} error=${fields.clientId} autocomplete="off" spellcheck="false" />
      <${Field} label=${isNew ? 'Client secret' : 'New client secret'} type="password" autocomplete="new-password" required=${isNew && form.clientAuth !== 'private_key_jwt'}
        hint=${isNew ? 'Stored sealed; never shown again' : stored?.hasClientSecret ? 'A secret is stored (never shown). Enter a new one only to replace it.' : 'None stored'} value=${form.clientSecret} onValue=${set('clientSecret')} error=${fields.clientSecret} />
      <${Select} label="Client authentication" value=${form.clientAuth} onValue=${set('clientAuth')} error=${fields.clientAuth}
        options=${[['client_secret_basic', 'Client secret (HTTP Basic)'], ['client_secret_post', 'Client secret (in the request body)'], ['private_key_jwt', 'Private key JWT (Caregate publishes its key; no secret)']]} />
    </div>
    ${k === 'entra' && html`<${TextArea} label="Accepted directories" hint="With several directories: the tenant IDs whose users may sign in, one per line" value=${form.allowedTenants} onValue=${set('allowedTenants')} error=${errorOf(fields, 'allowedTenants')} />`}
    ${k === 'google' && html`<${TextArea} label="Workspace domains" hint="Only accounts of these domains may sign in, one per line, e.g. acmehealth.example" value=${form.hostedDomains} onValue=${set('hostedDomains')} error=${errorOf(fields, 'hostedDomains')} />`}
    <details class="more"><summary>Claims and scopes</summary><div class="form-grid">
      <${Field} label="Extra scopes" hint="Space-separated; openid, profile and email are always asked for" value=${form.scopes} onValue=${set('scopes')} error=${errorOf(fields, 'scopes')} autocomplete="off" spellcheck="false" />
      <${Field} label="Groups claim" value=${form.groupsClaim} onValue=${set('groupsClaim')} error=${fields.groupsClaim} autocomplete="off" spellcheck="false" />
      <${Field} label="Username claim" value=${form.usernameClaim} onValue=${set('usernameClaim')} error=${fields.usernameClaim} autocomplete="off" spellcheck="false" />
    </div></details>
    </fieldset>`}

    ${saml && html`<fieldset><legend>SAML 2.0 settings</legend>
      <${FileText} label=${isNew ? "The identity provider's metadata file" : 'Replace with a new metadata file'} accept=".xml,application/xml,application/samlmetadata+xml,text/xml"
        hint="The XML file the provider offers as its federation or SAML metadata. It fills in the fields below; what you type there wins."
        check=${(text) => readIdpMetadata(text).problem}
        onText=${(text, name) => { const info = readIdpMetadata(text); setForm((f) => ({ ...f, idpMetadata: text, metadataInfo: `${name}: entity ${info.entityId}, ${info.certificates} signing ${info.certificates === 1 ? 'certificate' : 'certificates'}${info.ssoUrl ? `, sign-in at ${info.ssoUrl}` : ''}` })); }}
        loaded=${form.metadataInfo && `Read ${form.metadataInfo}`} onClear=${() => setForm((f) => ({ ...f, idpMetadata: undefined, metadataInfo: undefined }))} error=${fields.idpMetadata} />
      <div class="form-grid">
        <${Field} label="IdP entity ID" hint=${form.idpMetadata ? 'Optional: from the metadata' : undefined} value=${form.idpEntityId} onValue=${set('idpEntityId')} error=${fields.idpEntityId} autocomplete="off" spellcheck="false" />
        <${Field} label="Single sign-on URL" type="url" hint=${form.idpMetadata ? 'Optional: from the metadata' : 'Its SingleSignOnService (HTTP-Redirect binding)'} value=${form.ssoUrl} onValue=${set('ssoUrl')} error=${fields.ssoUrl} autocomplete="off" spellcheck="false" />
        <${Select} label="Name ID format" value=${form.nameIdFormat} onValue=${set('nameIdFormat')} options=${[['persistent', 'Persistent'], ['email', 'Email address'], ['unspecified', 'Unspecified']]} />
      </div>
      <${TextArea} label="IdP signing certificates" mono rows="5" hint=${form.idpMetadata ? 'Optional: from the metadata' : 'PEM, one or more (during a rollover)'} value=${form.idpCertificates} onValue=${set('idpCertificates')} error=${errorOf(fields, 'idpCertificates')} />
      <${Checkbox} label="Sign sign-in requests" checked=${form.signRequests} onValue=${set('signRequests')} />
    </fieldset>`}

    <fieldset><legend>Sign-in</legend>
      <${TextArea} label="Email domains" hint="People whose email is at these domains are sent to this provider when they type it on the sign-in page; one per line" value=${form.domains} onValue=${set('domains')} error=${errorOf(fields, 'domains')} />
      <${Checkbox} label=${`Show a "Sign in with ${form.name || '…'}" button`} checked=${form.button} onValue=${set('button')} />
      <${Checkbox} label="Create the account at a person's first sign-in" checked=${form.jit} onValue=${set('jit')} />
      <${Checkbox} label="Link to an existing account with the same verified email" checked=${form.linkByEmail} onValue=${set('linkByEmail')} />
      <${Checkbox} label="Refuse people whose email the provider has not verified" checked=${form.requireVerifiedEmail} onValue=${set('requireVerifiedEmail')} />
      <${Checkbox} label="Its people may not sign in with a Caregate password" checked=${form.federatedOnly} onValue=${set('federatedOnly')} />
      <${Checkbox} label="Accept the provider's second step as Caregate's" checked=${form.trustUpstreamMfa} onValue=${set('trustUpstreamMfa')} />
      <${Checkbox} label="Enabled" hint="Off: nobody can sign in with it" checked=${form.enabled} onValue=${set('enabled')} />
    </fieldset>
    <${MappingRules} rows=${form.rules} onRows=${set('rules')} fields=${fields} claimHint=${saml ? 'SAML attribute' : 'claim'} />`;
}

const KNOWN = ['name', 'key', 'issuer', 'entraTenant', 'clientId', 'clientSecret', 'clientAuth', 'allowedTenants', 'hostedDomains', 'scopes', 'groupsClaim', 'usernameClaim', 'idpMetadata', 'idpEntityId', 'ssoUrl', 'idpCertificates', 'domains', 'mappings'];

function NewConnection() {
  const [form, setForm] = useState(() => formOf(queryOf().kind && KIND_NAME[queryOf().kind] ? queryOf().kind : 'okta'));
  const [submit, state] = useSave(async () => {
    const created = await api.post('/connections', requestOf(form, true));
    notify('success', `${created.name} was added. Register the URLs below at the provider, then run Test.`);
    navigate(path`/identity-providers/${created.key}`);
  });
  const other = otherError(state, KNOWN);
  return html`<${Page} title="Add identity provider" back=${{ href: '/identity-providers', label: 'Identity providers' }}>
    <form onSubmit=${submit} novalidate>
      <fieldset><legend>Kind of provider</legend>
        ${KINDS.map(([value, text, hint]) => html`<div class="check">
          <input type="radio" name="kind" id=${`kind-${value}`} checked=${form.kind === value} aria-describedby=${`kind-${value}-hint`}
            onChange=${() => setForm((f) => ({ ...formOf(value), name: f.name, key: f.key, keyTouched: f.keyTouched, domains: f.domains, rules: f.rules }))} />
          <label for=${`kind-${value}`}>${text}</label><span class="hint" id=${`kind-${value}-hint`}>${hint}</span></div>`)}
      </fieldset>
      <${ConnectionFields} form=${form} setForm=${setForm} fields=${state.fields} isNew />
      ${other && html`<p class="field-error" role="alert">${other}</p>`}
      <div class="form-actions"><button type="submit" disabled=${state.busy}>${state.busy ? 'Adding…' : 'Add identity provider'}</button>
        <${Link} class="button secondary" href="/identity-providers">Cancel<//></div>
    </form>
  <//>`;
}

// --- a connection's page -------------------------------------------------------------------------
function ConnectionPage({ connection: ref }) {
  const me = useMe();
  const loaded = useLoad(() => api.get(path`/connections/${ref}`), [ref]);
  const [confirm, setConfirm] = useState(undefined);
  const [runTest, test] = useTest(path`/connections/${ref}`);
  const c = loaded.data;
  const back = { href: '/identity-providers', label: 'Identity providers' };
  if (!c) return html`<${Page} title=${ref} back=${back}>${loadState(loaded, 'this identity provider')}<//>`;
  const mayEdit = can(me, 'caregate.connections:edit');
  const toggle = async () => {
    try {
      await api.patch(path`/connections/${c.key}`, { enabled: !c.enabled });
      notify('success', `${c.name} is ${c.enabled ? 'disabled: nobody can sign in with it' : 'enabled'}.`);
      loaded.reload();
    } catch (error) {
      notify('error', error.message);
    }
  };
  const u = c.urls;
  return html`<${Page} title=${c.name} subtitle=${html`${KIND_NAME[kindOf(c)]} · <${Status} status=${c.enabled ? 'active' : 'disabled'} />`} back=${back}
    actions=${html`
      <button type="button" onClick=${runTest} disabled=${test.busy}>${test.busy ? 'Testing…' : 'Test'}</button>
      ${mayEdit && html`<button type="button" class="secondary" onClick=${() => setConfirm('toggle')}>${c.enabled ? 'Disable' : 'Enable'}</button>`}
      ${can(me, 'caregate.connections:delete') && html`<button type="button" class="danger" onClick=${() => setConfirm('delete')}>Delete</button>`}`}>
    ${test.busy && html`<p class="loading" role="status">Testing against the live provider…</p>`}
    <${TestResults} result=${test.result} />
    <section class="card" aria-labelledby="register-title">
      <h2 id="register-title">Register these at the provider</h2>
      ${c.type === 'oidc' ? html`<p>In the application you registered at ${KIND_NAME[kindOf(c)]}, allow this redirect (sign-in) URI${u.jwks ? ', and give it Caregate\'s key set for private key JWT' : ''}.</p>
        <dl class="facts">
          <${CopyValue} label="Redirect URI" value=${u.redirectUri} />
          ${u.jwks && html`<${CopyValue} label="Key set (JWKS) URL" value=${u.jwks} />`}
        </dl>` : html`<p>Give the provider Caregate's service provider metadata (download it from the URL), or these values.</p>
        <dl class="facts">
          <${CopyValue} label="Assertion consumer service (ACS) URL" value=${u.acs} />
          <${CopyValue} label="Service provider entity ID" value=${u.spEntityId} />
          <${CopyValue} label="Service provider metadata" value=${u.spMetadata} />
        </dl>
        <p><a href=${u.spMetadata} download=${`caregate-${c.key}-metadata.xml`}>Download the service provider metadata</a></p>`}
    </section>
    <${EditConnection} c=${c} editable=${mayEdit} onSaved=${loaded.reload} />
    ${confirm === 'delete' && html`<${Confirm} title=${`Delete ${c.name}?`} confirmText="Delete identity provider" typeToConfirm=${c.key} onClose=${() => setConfirm(undefined)}
      message=${`People can no longer sign in with ${c.name}, and the roles and team memberships its mapping rules gave are removed. The accounts it created stay. This cannot be undone.`}
      onConfirm=${deleteThen(path`/connections/${c.key}`, c.name, '/identity-providers')} />`}
    ${confirm === 'toggle' && html`<${Confirm} title=${c.enabled ? `Disable ${c.name}?` : `Enable ${c.name}?`} danger=${c.enabled} confirmText=${c.enabled ? 'Disable' : 'Enable'} onClose=${() => setConfirm(undefined)}
      message=${c.enabled ? 'Nobody can sign in with it until it is enabled again; its people keep their accounts.' : 'People can sign in with it again.'} onConfirm=${toggle} />`}
  <//>`;
}

function EditConnection({ c, editable, onSaved }) {
  const [form, setForm] = useState(() => formOf(kindOf(c), c));
  const saved = () => {
    setForm((f) => ({ ...f, clientSecret: '', idpMetadata: undefined, metadataInfo: undefined }));
    onSaved();
  };
  return html`<${SettingsSection} url=${path`/connections/${c.key}`} patch=${() => changed(form, c)} name=${form.name || c.name} editable=${editable} known=${KNOWN} onSaved=${saved}>
    ${(fields) => html`<${ConnectionFields} form=${form} setForm=${setForm} fields=${fields} stored=${c} />`}
  <//>`;
}

export const nav = { label: 'Identity providers', path: '/identity-providers', permission: 'caregate.connections:read' };
export const routes = [
  { path: '/identity-providers', view: ConnectionList },
  { path: '/identity-providers/new', view: NewConnection },
  { path: '/identity-providers/:connection', view: ConnectionPage },
];
