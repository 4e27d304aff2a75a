// SP metadata import: what an independent SP library (node-saml) publishes is read into settings the
// schema accepts, hand-written federation metadata is read by the rules of SAML Metadata §2.4, and
// every document Caregate cannot use is refused with a 400 naming why.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { SAML } from '@node-saml/node-saml';
import { selfSignedCertificate, type SelfSignedCertificate } from '../../test/support/self-signed-certificate.ts';
import { ValidationError } from '../errors.ts';
import { samlSettingsSchema } from './settings.ts';
import { parseSpMetadata } from './sp-metadata.ts';
import { BINDING, MAX_XML_BYTES } from './xml.ts';

let signing: SelfSignedCertificate;
let encryption: SelfSignedCertificate;

beforeAll(async () => {
  [signing, encryption] = await Promise.all([selfSignedCertificate('sp-signing'), selfSignedCertificate('sp-encryption')]);
});

/** Parses `xml`, which must be refused, and returns the ValidationError. */
function refusal(xml: string): ValidationError {
  try {
    parseSpMetadata(xml);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).status).toBe(400);
    return error as ValidationError;
  }
  throw new Error('the metadata was accepted');
}

const md = (body: string, attrs = '') =>
  `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example/saml" ${attrs}>${body}</md:EntityDescriptor>`;
const spDescriptor = (body: string, attrs = '') =>
  `<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" ${attrs}>${body}</md:SPSSODescriptor>`;
const postAcs = '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="0"/>';
const keyDescriptor = (body: string, use?: string) =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

describe('parseSpMetadata', () => {
  it('reads the metadata node-saml generates for a signing, encrypting SP into settings the schema accepts', () => {
    const sp = new SAML({
      issuer: 'https://chart.example/saml/metadata',
      callbackUrl: 'https://chart.example/saml/acs',
      logoutCallbackUrl: 'https://chart.example/saml/slo',
      idpCert: signing.cert,
      privateKey: signing.key,
      decryptionPvk: encryption.key,
      identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
      wantAssertionsSigned: true,
    });
    const settings = parseSpMetadata(sp.generateServiceProviderMetadata(encryption.cert, signing.cert));

    expect(settings).toEqual({
      entityId: 'https://chart.example/saml/metadata',
      acs: [{ url: 'https://chart.example/saml/acs', index: 1, isDefault: true }],
      slo: { url: 'https://chart.example/saml/slo', binding: 'post' },
      signingCertificates: [signing.body],
      encryptionCertificate: encryption.body,
      nameIdFormat: 'persistent',
      requireSignedRequests: true,
      signAssertion: true,
    });
    expect(samlSettingsSchema.safeParse(settings).success).toBe(true);
  });

  it('reads node-saml metadata without keys: no certificates, unsigned requests allowed, email NameID', () => {
    const sp = new SAML({ issuer: 'urn:example:sp', callbackUrl: 'https://sp.example/acs', idpCert: signing.cert, wantAssertionsSigned: false });
    const settings = parseSpMetadata(sp.generateServiceProviderMetadata(null));
    expect(settings).toEqual({
      entityId: 'urn:example:sp',
      acs: [{ url: 'https://sp.example/acs', index: 1, isDefault: true }],
      slo: null,
      signingCertificates: [],
      encryptionCertificate: null,
      nameIdFormat: 'email',
    });
  });

  it('takes the first SAML 2.0 SP of an EntitiesDescriptor, skipping IdPs and SAML 1.1 SPs, and reads it by the metadata rules', () => {
    const idp = `<md:EntityDescriptor entityID="https://idp.example"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></md:EntityDescriptor>`;
    const saml11 = `<md:EntityDescriptor entityID="https://old.example"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">${postAcs}</md:SPSSODescriptor></md:EntityDescriptor>`;
    const sp = `<md:EntityDescriptor entityID="https://lab.example/sp">${spDescriptor(`
      ${keyDescriptor(signing.body.replace(/(.{64})/g, '$1\n'))}
      ${keyDescriptor(encryption.body, 'signing')}
      <md:SingleLogoutService Binding="${BINDING.post}" Location="https://lab.example/slo/post"/>
      <md:SingleLogoutService Binding="${BINDING.redirect}" Location="https://lab.example/slo" ResponseLocation="https://lab.example/slo/done"/>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos</md:NameIDFormat>
      <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
      <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://lab.example/artifact" index="0"/>
      <md:AssertionConsumerService Binding="${BINDING.post}" Location="https://lab.example/acs" index="3"/>
      <md:AssertionConsumerService Binding="${BINDING.post}" Location="https://lab.example/acs2" index="4" isDefault="1"/>
    `, 'AuthnRequestsSigned="false" WantAssertionsSigned="false"')}</md:EntityDescriptor>`;
    const doc = `<?xml version="1.0" encoding="UTF-8"?>
      <md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        ${idp}<md:EntitiesDescriptor>${saml11}${sp}</md:EntitiesDescriptor>
        <md:EntityDescriptor entityID="https://second.example/sp">${spDescriptor(postAcs)}</md:EntityDescriptor>
      </md:EntitiesDescriptor>`;

    expect(parseSpMetadata(doc)).toEqual({
      entityId: 'https://lab.example/sp',
      // The artifact endpoint is skipped: responses go by HTTP-POST only.
      acs: [{ url: 'https://lab.example/acs', index: 3, isDefault: false }, { url: 'https://lab.example/acs2', index: 4, isDefault: true }],
      slo: { url: 'https://lab.example/slo', binding: 'redirect', responseUrl: 'https://lab.example/slo/done' },
      // A KeyDescriptor without `use` is for signing and encryption; line breaks in the base64 are dropped.
      signingCertificates: [signing.body, encryption.body],
      encryptionCertificate: signing.body,
      nameIdFormat: 'transient',
    });
  });

  it('leaves the NameID format to its default when the SP lists none Caregate issues', () => {
    const settings = parseSpMetadata(md(spDescriptor(`${postAcs}<md:NameIDFormat>urn:example:custom</md:NameIDFormat>`)));
    expect(settings).not.toHaveProperty('nameIdFormat');
    expect(samlSettingsSchema.parse(settings).nameIdFormat).toBe('persistent');
  });

  describe('refuses, with a 400 saying why', () => {
    it('a document that is not SAML metadata', () => {
      expect(refusal('<html><body>metadata</body></html>').message).toBe('samlMetadata: not SAML metadata: the document is <html>, not an md:EntityDescriptor or md:EntitiesDescriptor');
      expect(refusal('<EntityDescriptor entityID="x"/>').message).toContain('not SAML metadata');
    });

    it('text that is not well-formed XML', () => {
      expect(refusal(md(spDescriptor(postAcs)).slice(0, -5)).message).toContain('not well-formed XML');
    });

    it('metadata of an identity provider only (no SP descriptor)', () => {
      const idpOnly = md('<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>');
      expect(refusal(idpOnly).message).toBe('samlMetadata: it describes no SAML 2.0 service provider (no SPSSODescriptor for urn:oasis:names:tc:SAML:2.0:protocol)');
    });

    it('an SP without an entityID', () => {
      expect(refusal(md(spDescriptor(postAcs)).replace('entityID="https://sp.example/saml"', '')).message).toBe('samlMetadata: the EntityDescriptor has no entityID');
    });

    it('an SP whose assertion consumers all use bindings other than HTTP-POST', () => {
      const artifactOnly = md(spDescriptor('<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://sp.example/art" index="0"/>'));
      expect(refusal(artifactOnly).message).toContain('no AssertionConsumerService with the HTTP-POST binding');
    });

    it('an assertion consumer without a Location or with an index that is not a number', () => {
      expect(refusal(md(spDescriptor(`<md:AssertionConsumerService Binding="${BINDING.post}" index="0"/>`))).message).toBe('samlMetadata: an AssertionConsumerService has no Location');
      expect(refusal(md(spDescriptor(postAcs.replace('index="0"', 'index="first"')))).message).toBe('samlMetadata: AssertionConsumerService index "first" is not a number');
    });

    it('a KeyDescriptor whose certificate is not an X.509 certificate (base64 of something else, or not base64)', () => {
      const notACert = Buffer.from('x'.repeat(300)).toString('base64');
      for (const body of [notACert, 'not base64 at all!', signing.body.slice(0, 200)]) {
        expect(refusal(md(spDescriptor(keyDescriptor(body, 'signing') + postAcs))).message).toBe('samlMetadata: a KeyDescriptor holds an X509Certificate that is not a valid X.509 certificate');
      }
    });

    it('xxe-external-entity: a DOCTYPE declaring an external entity, before anything is resolved', () => {
      const xxe = `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${md(spDescriptor(postAcs.replace('https://sp.example/acs', 'https://sp.example/&xxe;')))}`;
      expect(refusal(xxe).message).toBe('samlMetadata: The SAML message could not be read: document type declarations are not allowed.');
    });

    it('billion-laughs: internal entities expanding each other', () => {
      const laughs = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>${md(spDescriptor(postAcs), 'xml:lang="&lol2;"')}`;
      expect(refusal(laughs).message).toContain('document type declarations are not allowed');
    });

    it('a document larger than the XML size limit', () => {
      const padding = `<md:Extensions>${'<x:pad xmlns:x="urn:pad"/>'.repeat(Math.ceil(MAX_XML_BYTES / 20))}</md:Extensions>`;
      expect(refusal(md(spDescriptor(postAcs) + padding)).message).toContain(`larger than ${MAX_XML_BYTES / 1024} KiB`);
    });
  });
});
