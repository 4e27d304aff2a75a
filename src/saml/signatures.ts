// XML signatures for SAML: exclusive c14n, RSA-SHA256, SHA-256 digests, enveloped. Verification
// resists signature wrapping: exactly one Signature, a direct child of the message's root, whose
// single Reference points at that root's ID with only the enveloped and exclusive-c14n transforms;
// the caller then reads only the XML that the signature covered (`signedXml`), never the original.
import { createPublicKey, createSign, createVerify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Document } from '@xmldom/xmldom';
import type { SignedXml as SignedXmlClass } from 'xml-crypto';
import { attr, children, NS, parseXml, SamlError } from './xml.ts';

export const ALG = {
  rsaSha256: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  rsaSha512: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha512: 'http://www.w3.org/2001/04/xmlenc#sha512',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  enveloped: 'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
} as const;

// What Caregate accepts from service providers. SHA-1 is refused: collisions are practical.
const SIGNATURE_ALGS = new Set<string>([ALG.rsaSha256, ALG.rsaSha512]);
const DIGEST_ALGS = new Set<string>([ALG.sha256, ALG.sha512]);
const TRANSFORMS = new Set<string>([ALG.enveloped, ALG.excC14n]);
const REDIRECT_HASH: Record<string, string> = { [ALG.rsaSha256]: 'RSA-SHA256', [ALG.rsaSha512]: 'RSA-SHA512' };
/**
 * Most elements and attributes, together, a signed message may have. xml-crypto's cost grows with
 * them — seconds of CPU for a 256 KiB message, for each certificate tried — while a signed
 * AuthnRequest or logout message has under a hundred, so a larger one is refused before any
 * verification work.
 */
const MAX_SIGNED_NODES = 1000;

function nodeCount(doc: Document): number {
  let count = 0;
  for (const el of Array.from(doc.getElementsByTagName('*'))) count += 1 + el.attributes.length;
  return count;
}

// xml-crypto loads with the first signature made or checked, not at import: a process that only
// validates SAML settings (a CLI command) never pays for it.
let xmlCrypto: typeof import('xml-crypto') | undefined;
const newSignedXml = (options: ConstructorParameters<typeof SignedXmlClass>[0]): SignedXmlClass =>
  new (xmlCrypto ??= createRequire(import.meta.url)('xml-crypto') as typeof import('xml-crypto')).SignedXml(options);

export const pem = (certificate: string) => `-----BEGIN CERTIFICATE-----\n${certificate.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export interface SigningMaterial {
  privateKey: KeyObject;
  /** Base64 DER certificate of the key, put in KeyInfo. */
  certificate: string;
}

/** An IdP's keys: the one it signs with, and the certificates its metadata publishes. */
export interface IdpKeys {
  signing: SigningMaterial;
  /** Base64 DER certificates to publish: current first, then next. */
  published: string[];
}

/**
 * Signs the element with `ID="{id}"` (enveloped), putting the Signature right after its Issuer as
 * the SAML schema requires (or first, for metadata, which has no Issuer).
 */
export function signElement(xml: string, id: string, localName: string, key: SigningMaterial, place: 'after-issuer' | 'prepend' = 'after-issuer'): string {
  const sig = newSignedXml({
    privateKey: key.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicCert: pem(key.certificate),
    signatureAlgorithm: ALG.rsaSha256,
    canonicalizationAlgorithm: ALG.excC14n,
  });
  const at = `//*[local-name(.)='${localName}' and @ID='${id}']`;
  sig.addReference({ xpath: at, transforms: [ALG.enveloped, ALG.excC14n], digestAlgorithm: ALG.sha256 });
  const location = place === 'prepend' ? { reference: at, action: 'prepend' as const } : { reference: `${at}/*[local-name(.)='Issuer']`, action: 'after' as const };
  sig.computeSignature(xml, { prefix: 'ds', location });
  return sig.getSignedXml();
}

/**
 * Checks the enveloped signature on a message's root element against any of `certificates`.
 * Returns the XML the signature covers, or undefined when the message carries no signature.
 * Throws SamlError('bad_signature') for any signature that does not verify or is shaped oddly.
 */
export function verifyRootSignature(xml: string, certificates: string[]): string | undefined {
  const doc = parseXml(xml);
  const root = doc.documentElement!;
  const all = doc.getElementsByTagNameNS(NS.dsig, 'Signature');
  if (all.length === 0) return undefined;
  const bad = (why: string) => new SamlError('bad_signature', `The message's signature is not valid: ${why}.`);
  if (nodeCount(doc) > MAX_SIGNED_NODES) throw bad(`a signed message may have at most ${MAX_SIGNED_NODES} elements and attributes`);
  const sigs = children(root, NS.dsig, 'Signature');
  if (all.length !== 1 || sigs.length !== 1) throw bad('exactly one signature, on the message itself, is accepted');
  const id = attr(root, 'ID');
  if (!id) throw bad('the message has no ID');
  const signature = sigs[0]!;
  // xml-crypto finds these by local name anywhere in the Signature, so each must occur exactly once
  // and in the XML-DSig namespace: what is checked here is then what it uses (a decoy DigestMethod
  // in a ds:Object once let a SHA-1 digest through).
  const named = (local: string) => Array.from(signature.getElementsByTagName('*')).filter((e) => e.localName === local);
  const one = (local: string) => {
    const found = named(local);
    if (found.length !== 1 || found[0]!.namespaceURI !== NS.dsig) throw bad(`it must have exactly one ${local}`);
    return found[0]!;
  };
  one('SignedInfo');
  if (!SIGNATURE_ALGS.has(attr(one('SignatureMethod'), 'Algorithm') ?? '')) throw bad('the signature algorithm must be RSA-SHA256 or RSA-SHA512');
  if (attr(one('CanonicalizationMethod'), 'Algorithm') !== ALG.excC14n) throw bad('it must use exclusive canonicalization');
  if (attr(one('Reference'), 'URI') !== `#${id}`) throw bad('it must sign the whole message');
  for (const t of named('Transform')) {
    if (!TRANSFORMS.has(attr(t, 'Algorithm') ?? '')) throw bad('it uses a transform Caregate does not accept');
  }
  if (!DIGEST_ALGS.has(attr(one('DigestMethod'), 'Algorithm') ?? '')) throw bad('the digest must be SHA-256 or SHA-512');
  if (!certificates.length) throw new SamlError('unexpected_signature', 'The message is signed, but no certificate is registered for this service provider.');
  for (const certificate of certificates) {
    try {
      const verifier = newSignedXml({ publicCert: pem(certificate), getCertFromKeyInfo: () => null });
      verifier.loadSignature(signature.toString());
      if (verifier.checkSignature(xml)) {
        const signed = verifier.getSignedReferences();
        if (signed.length === 1) return signed[0];
      }
    } catch {
      // not this certificate (or not valid at all): try the next one, fail below
    }
  }
  throw bad('it does not verify with the service provider\'s certificate');
}

/** The octets the HTTP-Redirect binding signs: the parameters as they arrived, in this order. */
function redirectSignedOctets(rawQuery: string, kind: 'SAMLRequest' | 'SAMLResponse'): string | undefined {
  const params = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (params.has(name)) return undefined; // a repeated parameter is ambiguous: refuse
    params.set(name, part);
  }
  const take = (n: string) => params.get(n);
  const message = take(kind);
  const sigAlg = take('SigAlg');
  if (!message || !sigAlg) return undefined;
  return [message, take('RelayState'), sigAlg].filter(Boolean).join('&');
}

/**
 * Verifies an HTTP-Redirect binding signature (RFC-style detached signature over the raw query).
 * Returns false when the query carries no signature; throws when it carries a bad one.
 */
export function verifyRedirectSignature(rawQuery: string, query: Record<string, unknown>, kind: 'SAMLRequest' | 'SAMLResponse', certificates: string[]): boolean {
  if (query.Signature === undefined && query.SigAlg === undefined) return false;
  const bad = (why: string) => new SamlError('bad_signature', `The message's signature is not valid: ${why}.`);
  if (typeof query.Signature !== 'string' || typeof query.SigAlg !== 'string') throw bad('Signature and SigAlg must appear once each');
  const hash = REDIRECT_HASH[query.SigAlg];
  if (!hash) throw bad('the signature algorithm must be RSA-SHA256 or RSA-SHA512');
  const octets = redirectSignedOctets(rawQuery, kind);
  if (!octets) throw bad('the signed parameters are missing or repeated');
  if (!certificates.length) throw new SamlError('unexpected_signature', 'The message is signed, but no certificate is registered for this service provider.');
  const signature = Buffer.from(query.Signature, 'base64');
  for (const certificate of certificates) {
    try {
      if (createVerify(hash).update(octets).verify(createPublicKey(pem(certificate)), signature)) return true;
    } catch {
      // unreadable certificate or signature: try the next, fail below
    }
  }
  throw bad('it does not verify with the service provider\'s certificate');
}

/** Builds a signed HTTP-Redirect query for a deflated, base64 message Caregate sends. */
export function signRedirectQuery(kind: 'SAMLRequest' | 'SAMLResponse', encoded: string, relayState: string | undefined, key: SigningMaterial): string {
  let query = `${kind}=${encodeURIComponent(encoded)}`;
  if (relayState) query += `&RelayState=${encodeURIComponent(relayState)}`;
  query += `&SigAlg=${encodeURIComponent(ALG.rsaSha256)}`;
  const signature = createSign('RSA-SHA256').update(query).sign(key.privateKey).toString('base64');
  return `${query}&Signature=${encodeURIComponent(signature)}`;
}
