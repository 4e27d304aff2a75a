// Reads a service provider's SAML 2.0 metadata (OASIS SAML Metadata §2.4.4, SPSSODescriptor) into
// SP settings. Only the facts are read here; samlSettingsSchema validates them afterwards (URLs,
// sizes, consistency). The metadata's own signature is not checked: an admin uploads it, and whoever
// may register an application may say what it is.
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { ValidationError } from '../errors.ts';
import { NAME_ID_FORMATS, type NameIdFormat, type SamlSettingsInput } from './settings.ts';
import { attr, BINDING, children, isElement, NS, parseXml, SamlError, text } from './xml.ts';

const invalid = (why: string) => new ValidationError(`samlMetadata: ${why}`);

/** xs:boolean: "true" or "1". */
const isTrue = (value: string | undefined) => value === 'true' || value === '1';

/** SP settings from an EntityDescriptor, or the first SAML 2.0 SP in an EntitiesDescriptor. */
export function parseSpMetadata(xml: string): SamlSettingsInput {
  const { entityId, sp } = findServiceProvider(readMetadata(xml));
  const { signingCertificates, encryptionCertificate } = readCertificates(sp);
  const nameIdFormat = readNameIdFormat(sp);
  return {
    entityId,
    acs: readAssertionConsumers(sp),
    slo: readSingleLogout(sp),
    signingCertificates,
    encryptionCertificate,
    ...(nameIdFormat ? { nameIdFormat } : {}),
    ...(isTrue(attr(sp, 'AuthnRequestsSigned')) ? { requireSignedRequests: true } : {}),
    ...(isTrue(attr(sp, 'WantAssertionsSigned')) ? { signAssertion: true } : {}),
  };
}

/**
 * The root element of metadata, parsed through the safe XML intake (size limit, no DOCTYPE or
 * entities); SP and IdP metadata alike, `field` naming the input in the error.
 */
export function metadataRoot(xml: string, field = 'samlMetadata'): Element {
  try {
    return parseXml(xml).documentElement!;
  } catch (error) {
    if (error instanceof SamlError) throw new ValidationError(`${field}: ${error.message}`);
    throw error;
  }
}

/** The metadata's root, which must be an EntityDescriptor or EntitiesDescriptor. */
function readMetadata(xml: string): Element {
  const root = metadataRoot(xml);
  const isMetadata = root.namespaceURI === NS.metadata && ['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName ?? '');
  if (!isMetadata) throw invalid(`not SAML metadata: the document is <${root.tagName}>, not an md:EntityDescriptor or md:EntitiesDescriptor`);
  return root;
}

const supportsSaml2 = (descriptor: Element) => (attr(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(NS.protocol);

/** Walks nested EntitiesDescriptors in document order (with a list, not recursion: nesting is unbounded). */
function findServiceProvider(root: Element): { entityId: string; sp: Element } {
  const pending = [root];
  while (pending.length) {
    const node = pending.shift()!;
    if (node.localName === 'EntitiesDescriptor') {
      pending.unshift(...entries(node));
      continue;
    }
    const sp = children(node, NS.metadata, 'SPSSODescriptor').find(supportsSaml2);
    if (!sp) continue;
    const entityId = attr(node, 'entityID');
    if (!entityId) throw invalid('the EntityDescriptor has no entityID');
    return { entityId, sp };
  }
  throw invalid('it describes no SAML 2.0 service provider (no SPSSODescriptor for urn:oasis:names:tc:SAML:2.0:protocol)');
}

/** The EntityDescriptor and EntitiesDescriptor children of an EntitiesDescriptor, in order. */
function entries(group: Element): Element[] {
  const out: Element[] = [];
  for (let n = group.firstChild; n; n = n.nextSibling) {
    if (isElement(n) && n.namespaceURI === NS.metadata && (n.localName === 'EntityDescriptor' || n.localName === 'EntitiesDescriptor')) out.push(n);
  }
  return out;
}

/** HTTP-POST endpoints only: Caregate sends responses by the Web SSO profile's POST binding. */
function readAssertionConsumers(sp: Element): SamlSettingsInput['acs'] {
  const posts = children(sp, NS.metadata, 'AssertionConsumerService').filter((e) => attr(e, 'Binding') === BINDING.post);
  if (!posts.length) throw invalid('the service provider has no AssertionConsumerService with the HTTP-POST binding, the only one Caregate answers with');
  return posts.map((e, position) => {
    const url = attr(e, 'Location');
    if (!url) throw invalid('an AssertionConsumerService has no Location');
    const index = attr(e, 'index') ?? String(position);
    if (!/^\d{1,5}$/.test(index)) throw invalid(`AssertionConsumerService index "${index}" is not a number`);
    return { url, index: Number(index), isDefault: isTrue(attr(e, 'isDefault')) };
  });
}

/** HTTP-Redirect preferred (what browsers follow most simply), else HTTP-POST; others ignored. */
function readSingleLogout(sp: Element): SamlSettingsInput['slo'] {
  const services = children(sp, NS.metadata, 'SingleLogoutService');
  const chosen = services.find((e) => attr(e, 'Binding') === BINDING.redirect) ?? services.find((e) => attr(e, 'Binding') === BINDING.post);
  if (!chosen) return null;
  const url = attr(chosen, 'Location');
  if (!url) throw invalid('a SingleLogoutService has no Location');
  const responseUrl = attr(chosen, 'ResponseLocation');
  return { url, binding: attr(chosen, 'Binding') === BINDING.redirect ? 'redirect' : 'post', ...(responseUrl ? { responseUrl } : {}) };
}

/** A KeyDescriptor without `use` serves both signing and encryption (Metadata §2.4.1.1). */
function readCertificates(sp: Element): { signingCertificates: string[]; encryptionCertificate: string | null } {
  const signing = new Set<string>();
  let encryption: string | null = null;
  for (const descriptor of children(sp, NS.metadata, 'KeyDescriptor')) {
    const use = attr(descriptor, 'use');
    for (const certificate of keyCertificates(descriptor)) {
      if (use === undefined || use === 'signing') signing.add(certificate);
      if (use === undefined || use === 'encryption') encryption ??= certificate;
    }
  }
  return { signingCertificates: [...signing], encryptionCertificate: encryption };
}

/**
 * The base64 bodies of ds:KeyInfo/ds:X509Data/ds:X509Certificate, each checked to be a certificate
 * (SP and IdP metadata alike; `field` names the input in the error).
 */
export function keyCertificates(descriptor: Element, field = 'samlMetadata'): string[] {
  const found = children(descriptor, NS.dsig, 'KeyInfo')
    .flatMap((info) => children(info, NS.dsig, 'X509Data'))
    .flatMap((data) => children(data, NS.dsig, 'X509Certificate'));
  return found.map((element) => {
    const body = (text(element) ?? '').replace(/\s+/g, '');
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error('not base64');
      new X509Certificate(Buffer.from(body, 'base64'));
    } catch {
      throw new ValidationError(`${field}: a KeyDescriptor holds an X509Certificate that is not a valid X.509 certificate`);
    }
    return body;
  });
}

/** The first NameIDFormat Caregate can issue; none leaves the default. */
function readNameIdFormat(sp: Element): NameIdFormat | undefined {
  const byUri = new Map(Object.entries(NAME_ID_FORMATS).map(([name, uri]) => [uri as string, name as NameIdFormat]));
  return children(sp, NS.metadata, 'NameIDFormat')
    .map((e) => byUri.get(text(e) ?? ''))
    .find((format) => format !== undefined);
}
