// The tenant's IdP metadata at /t/{tenant}/saml/metadata: entity ID (the tenant's issuer), the
// SSO and SLO endpoints for both bindings, the NameID formats issued, and the signing
// certificates — current and next, so a rotation never surprises a service provider — signed
// with the current key. validUntil makes SPs that cache metadata come back for the next key.
import { newDocument, newId } from './messages.ts';
import { NAME_ID_FORMATS } from './settings.ts';
import { signElement, type IdpKeys } from './signatures.ts';
import { BINDING, NS } from './xml.ts';

/** How long SPs may cache the metadata before fetching it again. */
export const METADATA_VALIDITY_SECONDS = 7 * 24 * 3600;

export function buildIdpMetadata(entityId: string, endpoints: { sso: string; slo: string }, keys: IdpKeys, now = new Date()): string {
  const id = newId();
  const root = newDocument().ele(NS.metadata, 'md:EntityDescriptor', {
    'xmlns:ds': NS.dsig,
    ID: id,
    entityID: entityId,
    validUntil: new Date(now.getTime() + METADATA_VALIDITY_SECONDS * 1000).toISOString(),
  });
  // The signature goes after the Issuer in messages; metadata has none, so it goes first.
  const idp = root.ele(NS.metadata, 'md:IDPSSODescriptor', { WantAuthnRequestsSigned: 'false', protocolSupportEnumeration: NS.protocol });
  for (const certificate of keys.published) {
    idp.ele(NS.metadata, 'md:KeyDescriptor', { use: 'signing' }).ele(NS.dsig, 'ds:KeyInfo').ele(NS.dsig, 'ds:X509Data').ele(NS.dsig, 'ds:X509Certificate').txt(certificate);
  }
  for (const binding of [BINDING.redirect, BINDING.post]) idp.ele(NS.metadata, 'md:SingleLogoutService', { Binding: binding, Location: endpoints.slo });
  for (const format of Object.values(NAME_ID_FORMATS)) idp.ele(NS.metadata, 'md:NameIDFormat').txt(format);
  for (const binding of [BINDING.redirect, BINDING.post]) idp.ele(NS.metadata, 'md:SingleSignOnService', { Binding: binding, Location: endpoints.sso });
  const xml = root.end({ headless: true });
  return signElement(xml, id, 'EntityDescriptor', keys.signing, 'prepend');
}
