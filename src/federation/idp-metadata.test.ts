// IdP metadata import: documents shaped like those Okta, Entra ID and Google Workspace publish are
// read into connection settings the schema accepts; anything Caregate cannot use (no SSO endpoint,
// POST-only SSO, no signing certificate, aggregates, DOCTYPE) is refused with a 400 naming why.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { selfSignedCertificate, type SelfSignedCertificate } from '../../test/support/self-signed-certificate.ts';
import { ValidationError } from '../errors.ts';
import { samlSettings } from './connection-settings.ts';
import { parseIdpMetadata } from './idp-metadata.ts';

const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const SAML2 = 'urn:oasis:names:tc:SAML:2.0:protocol';

let current: SelfSignedCertificate;
let next: SelfSignedCertificate;

beforeAll(async () => {
  [current, next] = await Promise.all([selfSignedCertificate('idp-current'), selfSignedCertificate('idp-next')]);
});

/** Metadata wraps certificates at 64 or 76 columns; the reader must not care. */
const wrapped = (body: string) => `\n          ${body.match(/.{1,64}/g)!.join('\n          ')}\n        `;

function refusal(xml: string): string {
  try {
    parseIdpMetadata(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
    return (error as ValidationError).message;
  }
  throw new Error('the metadata was accepted');
}

// Okta: md: prefix, POST listed before Redirect, NameIDFormats, no XML signature.
const okta = () => `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/exk1clinic0abc">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML2}">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${wrapped(current.body)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="${POST}" Location="https://clinic.okta.com/app/clinic_caregate_1/exk1clinic0abc/sso/saml/post"/>
    <md:SingleSignOnService Binding="${REDIRECT}" Location="https://clinic.okta.com/app/clinic_caregate_1/exk1clinic0abc/sso/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

// Entra ID: default namespace, an enveloped signature, WS-Federation RoleDescriptors before the
// IDPSSODescriptor, and two signing certificates during a rollover.
const TID = '0b2e8c4e-5d3a-4b1f-9c77-2f1de0a1b2c3';
const entra = () => `<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_6c4f0a9e-1d2b-4c3d-8e5f-0123456789ab" entityID="https://sts.windows.net/${TID}/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></SignedInfo><SignatureValue>AAAA</SignatureValue></Signature><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${current.body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:PassiveRequestorEndpoint><EndpointReference xmlns="http://www.w3.org/2005/08/addressing"><Address>https://login.microsoftonline.com/${TID}/wsfed</Address></EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><IDPSSODescriptor protocolSupportEnumeration="${SAML2}"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${current.body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${next.body}</X509Certificate></X509Data></KeyInfo></KeyDescriptor><SingleLogoutService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/${TID}/saml2"/><SingleSignOnService Binding="${REDIRECT}" Location="https://login.microsoftonline.com/${TID}/saml2"/><SingleSignOnService Binding="${POST}" Location="https://login.microsoftonline.com/${TID}/saml2"/></IDPSSODescriptor></EntityDescriptor>`;

// Google Workspace: standalone declaration, validUntil, certificate wrapped over lines.
const google = () => `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://accounts.google.com/o/saml2?idpid=C01clinic" validUntil="2031-05-01T00:00:00.000Z">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${SAML2}">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>${wrapped(current.body)}</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="${REDIRECT}" Location="https://accounts.google.com/o/saml2/idp?idpid=C01clinic"/>
    <md:SingleSignOnService Binding="${POST}" Location="https://accounts.google.com/o/saml2/idp?idpid=C01clinic"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;

/** A minimal IdP for the refusal cases: `keys` and `sso` replace the defaults. */
const idp = ({ keys, sso, protocol = SAML2 }: { keys?: string; sso?: string; protocol?: string } = {}) => `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example/saml">
  <md:IDPSSODescriptor protocolSupportEnumeration="${protocol}">
    ${keys ?? keyDescriptor(current.body, 'signing')}
    ${sso ?? `<md:SingleSignOnService Binding="${REDIRECT}" Location="https://idp.example/sso"/>`}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
const keyDescriptor = (body: string, use?: string) =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

describe('parseIdpMetadata', () => {
  it('reads Okta metadata, choosing the HTTP-Redirect endpoint although POST is listed first', () => {
    expect(parseIdpMetadata(okta())).toEqual({
      idpEntityId: 'http://www.okta.com/exk1clinic0abc',
      ssoUrl: 'https://clinic.okta.com/app/clinic_caregate_1/exk1clinic0abc/sso/saml',
      idpCertificates: [current.body],
    });
  });

  it('reads Entra ID metadata: default namespace, signature and WS-Fed roles ignored, both rollover certificates kept', () => {
    const parsed = parseIdpMetadata(entra());
    expect(parsed).toEqual({ idpEntityId: `https://sts.windows.net/${TID}/`, ssoUrl: `https://login.microsoftonline.com/${TID}/saml2`, idpCertificates: [current.body, next.body] });
  });

  it('reads Google Workspace metadata into settings the connection schema accepts', () => {
    const parsed = parseIdpMetadata(google());
    expect(parsed.idpEntityId).toBe('https://accounts.google.com/o/saml2?idpid=C01clinic');
    expect(parsed.ssoUrl).toBe('https://accounts.google.com/o/saml2/idp?idpid=C01clinic');
    expect(parsed.idpCertificates).toEqual([current.body]);
    const settings = samlSettings.parse({ key: 'google', name: 'Google Workspace', type: 'saml', preset: 'google', ...parsed });
    expect(settings.idpCertificates).toEqual([current.body]);
  });

  it('takes a KeyDescriptor without use as a signing key, and skips encryption-only keys', () => {
    const keys = keyDescriptor(next.body, 'encryption') + keyDescriptor(current.body);
    expect(parseIdpMetadata(idp({ keys })).idpCertificates).toEqual([current.body]);
  });

  it('refuses an IdP with no SingleSignOnService', () => {
    expect(refusal(idp({ sso: '' }))).toMatch(/no SingleSignOnService with the HTTP-Redirect binding/);
  });

  it('refuses an IdP that offers SSO only over HTTP-POST, saying Caregate needs HTTP-Redirect', () => {
    const message = refusal(idp({ sso: `<md:SingleSignOnService Binding="${POST}" Location="https://idp.example/sso"/>` }));
    expect(message).toMatch(/only with the HTTP-POST binding/);
    expect(message).toMatch(/HTTP-Redirect/);
  });

  it('refuses a Redirect endpoint without a Location', () => {
    expect(refusal(idp({ sso: `<md:SingleSignOnService Binding="${REDIRECT}"/>` }))).toMatch(/has no Location/);
  });

  it('refuses an IdP without a signing certificate', () => {
    expect(refusal(idp({ keys: keyDescriptor(current.body, 'encryption') }))).toMatch(/no signing certificate/);
  });

  it('refuses a KeyDescriptor whose certificate is not X.509', () => {
    expect(refusal(idp({ keys: keyDescriptor(Buffer.from('not a certificate at all').toString('base64'), 'signing') }))).toMatch(/not a valid X.509 certificate/);
  });

  it('refuses metadata without a SAML 2.0 IDPSSODescriptor (an SP, or SAML 1.1 only)', () => {
    expect(refusal(idp({ protocol: 'urn:oasis:names:tc:SAML:1.1:protocol' }))).toMatch(/no SAML 2.0 identity provider/);
  });

  it('refuses an EntityDescriptor without entityID', () => {
    expect(refusal(idp().replace(' entityID="https://idp.example/saml"', ''))).toMatch(/no entityID/);
  });

  it('refuses an EntitiesDescriptor aggregate rather than trusting whichever IdP comes first', () => {
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${idp()}</md:EntitiesDescriptor>`;
    expect(refusal(aggregate)).toMatch(/EntitiesDescriptor.*one identity provider/);
  });

  it('refuses a document that is not SAML metadata', () => {
    expect(refusal('<html><body>Sign in</body></html>')).toMatch(/not SAML metadata/);
  });

  it('refuses a DOCTYPE (billion laughs, external entities) before parsing anything', () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE md:EntityDescriptor [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>${idp().replace('https://idp.example/saml', '&lol2;')}`;
    expect(refusal(laughs)).toMatch(/document type declarations are not allowed/);
  });

  it('refuses XML that is not well-formed', () => {
    expect(refusal(okta().slice(0, -30))).toMatch(/not well-formed/);
  });
});
