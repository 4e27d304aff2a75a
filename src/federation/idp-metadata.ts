// Reads an upstream identity provider's SAML 2.0 metadata (OASIS SAML Metadata §2.4.3,
// IDPSSODescriptor) into the facts a SAML connection needs: entity ID, SSO endpoint, signing
// certificates. connection-settings.ts validates them afterwards (URLs, counts). The metadata's own
// signature is not checked: an admin uploads it, as they could type the same facts by hand.
import type { Element } from '@xmldom/xmldom';
import { ValidationError } from '../errors.ts';
import { attr, BINDING, children, keyCertificates, metadataRoot, NS } from '../saml/index.ts';

export interface IdpMetadata {
  idpEntityId: string;
  ssoUrl: string;
  /** Base64 DER bodies, as connection settings store them. */
  idpCertificates: string[];
}

const invalid = (why: string) => new ValidationError(`idpMetadata: ${why}`);

/** The identity provider described by one md:EntityDescriptor. */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const entity = readEntityDescriptor(xml);
  const idpEntityId = attr(entity, 'entityID')?.trim();
  if (!idpEntityId) throw invalid('the EntityDescriptor has no entityID');
  const idp = children(entity, NS.metadata, 'IDPSSODescriptor').find(supportsSaml2);
  if (!idp) throw invalid('it describes no SAML 2.0 identity provider (no IDPSSODescriptor for urn:oasis:names:tc:SAML:2.0:protocol)');
  return { idpEntityId, ssoUrl: readSingleSignOn(idp), idpCertificates: readSigningCertificates(idp) };
}

/** The metadata's root, which must be the one EntityDescriptor. */
function readEntityDescriptor(xml: string): Element {
  const root = metadataRoot(xml, 'idpMetadata');
  // An aggregate (a federation's feed, or Entra's multi-entity download) names many IdPs: picking
  // the first would silently trust whichever entity happens to come first.
  if (root.namespaceURI === NS.metadata && root.localName === 'EntitiesDescriptor') {
    throw invalid('it is an md:EntitiesDescriptor (several entities); give the metadata of the one identity provider, its md:EntityDescriptor');
  }
  if (root.namespaceURI !== NS.metadata || root.localName !== 'EntityDescriptor') {
    throw invalid(`not SAML metadata: the document is <${root.tagName}>, not an md:EntityDescriptor`);
  }
  return root;
}

const supportsSaml2 = (descriptor: Element) => (attr(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol);

/** Caregate sends its AuthnRequests over HTTP-Redirect, so that endpoint is the one it needs. */
function readSingleSignOn(idp: Element): string {
  const services = children(idp, NS.metadata, 'SingleSignOnService');
  const redirect = services.find((e) => attr(e, 'Binding') === BINDING.redirect);
  if (!redirect) {
    if (services.some((e) => attr(e, 'Binding') === BINDING.post)) {
      throw invalid('the identity provider offers SingleSignOnService only with the HTTP-POST binding; Caregate sends AuthnRequests with HTTP-Redirect, which the identity provider must offer');
    }
    throw invalid('the identity provider has no SingleSignOnService with the HTTP-Redirect binding');
  }
  const location = attr(redirect, 'Location')?.trim();
  if (!location) throw invalid('the HTTP-Redirect SingleSignOnService has no Location');
  return location;
}

/** A KeyDescriptor without `use` serves both signing and encryption (Metadata §2.4.1.1). */
function readSigningCertificates(idp: Element): string[] {
  const found = new Set<string>();
  for (const descriptor of children(idp, NS.metadata, 'KeyDescriptor')) {
    const use = attr(descriptor, 'use');
    if (use !== undefined && use !== 'signing') continue;
    for (const body of keyCertificates(descriptor, 'idpMetadata')) found.add(body);
  }
  if (!found.size) throw invalid('the identity provider has no signing certificate (no KeyDescriptor with use="signing" or without use, holding an X509Certificate)');
  return [...found];
}
