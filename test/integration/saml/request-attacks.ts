// Attacks on a signed AuthnRequest (HTTP-POST binding, enveloped signature), each named after what
// it does, as node-saml names its fixtures in test/static/signatures/invalid/. Each takes the
// genuine signed XML and returns what an attacker who captured it would send instead.
const EVIL_ACS = 'https://evil.example/acs';

const signatureOf = (signed: string) => /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
const withoutSignature = (signed: string) => signed.replace(signatureOf(signed), '');
const rootAttributes = (xml: string) => /^<samlp:AuthnRequest([^>]*)>/.exec(xml)![1]!;
const issuerOf = (xml: string) => /<saml:Issuer>[^<]*<\/saml:Issuer>/.exec(xml)![0];

/** An evil root request with the attacker's ACS; `body` follows its Issuer. */
function evilRequest(signed: string, { id = '_evil', body }: { id?: string; body: string }): string {
  const attrs = rootAttributes(signed).replace(/ ID="[^"]+"/, ` ID="${id}"`).replace(/AssertionConsumerServiceURL="[^"]+"/, `AssertionConsumerServiceURL="${EVIL_ACS}"`);
  return `<samlp:AuthnRequest${attrs}>${issuerOf(signed)}${body}</samlp:AuthnRequest>`;
}

export const requestAttacks = {
  /** The ACS URL changed after signing: the digest no longer matches. */
  'acs-url-altered-after-signing': (signed: string) => signed.replace(/AssertionConsumerServiceURL="[^"]+"/, `AssertionConsumerServiceURL="${EVIL_ACS}"`),

  /** The request ID changed after signing (to slip past replay detection): the reference points nowhere. */
  'id-altered-after-signing': (signed: string) => signed.replace(/ ID="([^"]+)"/, ' ID="$1-again"'),

  /** XSW: an unsigned evil request wraps the genuine signed one in its Extensions. */
  'xsw-evil-request-wraps-signed': (signed: string) => evilRequest(signed, { body: `<samlp:Extensions>${signed}</samlp:Extensions>` }),

  /** XSW: the genuine signature moved onto an evil request, still referencing the genuine one hidden in Extensions. */
  'xsw-signature-references-hidden-original': (signed: string) =>
    evilRequest(signed, { body: `${signatureOf(signed)}<samlp:Extensions>${withoutSignature(signed)}</samlp:Extensions>` }),

  /** XSW: the evil request takes the genuine one's ID and signature; the genuine one hides in Extensions. */
  'xsw-evil-request-takes-signed-id': (signed: string) =>
    evilRequest(signed, { id: /ID="([^"]+)"/.exec(signed)![1]!, body: `${signatureOf(signed)}<samlp:Extensions>${withoutSignature(signed)}</samlp:Extensions>` }),

  /** A second copy of the signature, so a lax verifier might check one and trust the other. */
  'signature-duplicated': (signed: string) => signed.replace(signatureOf(signed), signatureOf(signed).repeat(2)),
};
