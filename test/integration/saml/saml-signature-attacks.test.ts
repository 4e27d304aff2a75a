// Signatures both ways. Requests: a signed AuthnRequest altered after signing, wrapped, re-pointed,
// signed with SHA-1, by an unknown key or with a transform outside the allow-list is refused as
// bad_signature over both bindings (and each genuine message is accepted, so the refusal is the
// attack's doing). Responses: node-saml, trusting Caregate's metadata certificate, rejects any
// assertion altered after Caregate signed it, whichever of response and assertion is signed.
import { ValidateInResponseTo } from '@node-saml/node-saml';
import { createAgent } from '../../support/browser-agent.ts';
import {
  authnRequestXml, cli, ENVELOPED, nodeSamlSp, postedForm, postMessage, redirectQuery, signedRedirectQuery, signEnveloped, throughSignIn,
} from '../../support/saml-sp.ts';
import { requestAttacks } from './request-attacks.ts';
import { expectRefusal, OPEN, PASSWORD, SIGNED, startSamlFixture, type SamlFixture } from './saml-fixture.ts';

const RESPONSE_ONLY = { entityId: 'https://response-only.example/saml', acs: 'https://response-only.example/saml/acs' };
const ASSERTION_ONLY = { entityId: 'https://assertion-only.example/saml', acs: 'https://assertion-only.example/saml/acs' };

let f: SamlFixture;
beforeAll(async () => {
  f = await startSamlFixture();
  const a = f.cg.runtime.accounts;
  await a.applications.create('demo', { name: 'Response only', saml: { entityId: RESPONSE_ONLY.entityId, acs: [{ url: RESPONSE_ONLY.acs, index: 0 }], signResponse: true, signAssertion: false } }, cli);
  await a.applications.create('demo', { name: 'Assertion only', saml: { entityId: ASSERTION_ONLY.entityId, acs: [{ url: ASSERTION_ONLY.acs, index: 0 }], signResponse: false, signAssertion: true } }, cli);
});
afterAll(async () => f?.cg.close());

const request = (fields: Partial<Parameters<typeof authnRequestXml>[0]> = {}) => authnRequestXml({ issuer: SIGNED.entityId, destination: f.sso, acsUrl: SIGNED.acs, ...fields });
const accepted = async (page: Promise<{ status: number; location?: string }>) => expect((await page).location).toMatch(new RegExp(`^${f.cg.issuer()}/auth\\?`));

describe('signed AuthnRequests over HTTP-POST (enveloped signature)', () => {
  it('accepts the genuine signed request (control)', async () => {
    const agent = createAgent();
    await accepted(postMessage(agent, f.sso, 'SAMLRequest', signEnveloped(request(), f.signedKeys)));
  });

  it.each(Object.keys(requestAttacks))('refuses %s as bad_signature', async (attack) => {
    const forged = requestAttacks[attack as keyof typeof requestAttacks](signEnveloped(request(), f.signedKeys));
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', forged), 'bad_signature');
  });

  it('refuses a request validly signed with RSA-SHA1 / SHA-1', async () => {
    const agent = createAgent();
    const page = await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', signEnveloped(request(), f.signedKeys, { alg: 'sha1' })), 'bad_signature');
    expect(page.html).toContain('RSA-SHA256 or RSA-SHA512');
  });

  it('refuses a request node-saml signed with its default, SHA-1', async () => {
    const sp = await nodeSamlSp(f.cg, { ...SIGNED, authnRequestBinding: 'HTTP-POST', skipRequestCompression: true, privateKey: f.signedKeys.key, signatureAlgorithm: 'sha1', digestAlgorithm: 'sha1' });
    const { fields } = postedForm({ status: 200, url: f.sso, html: await sp.getAuthorizeFormAsync('', undefined, {}) });
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.postForm(f.sso, fields), 'bad_signature');
  });

  it('refuses a SHA-1 digest, also behind a decoy SHA-256 DigestMethod placed before SignedInfo', async () => {
    const sha1Digest = signEnveloped(request(), f.signedKeys, { digest: 'sha1' });
    const decoy = sha1Digest.replace(/(<ds:Signature[^>]*>)/, '$1<ds:Object><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/></ds:Object>');
    for (const forged of [sha1Digest, decoy]) {
      const agent = createAgent();
      await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', forged), 'bad_signature');
    }
  });

  it('refuses a request padded with thousands of elements before spending any verification work on it', async () => {
    const padded = signEnveloped(request(), f.signedKeys).replace('</samlp:AuthnRequest>', `<samlp:Extensions>${'<x/>'.repeat(50_000)}</samlp:Extensions></samlp:AuthnRequest>`);
    const agent = createAgent();
    const page = await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', padded), 'bad_signature');
    expect(page.html).toContain('at most 1000 elements and attributes');
  });

  it('refuses a request signed by a key the SP never registered', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', signEnveloped(request(), f.strangerKeys)), 'bad_signature');
  });

  it('refuses a validly signed request whose transforms are outside the allow-list (inclusive c14n)', async () => {
    const agent = createAgent();
    const signed = signEnveloped(request(), f.signedKeys, { transforms: [ENVELOPED, 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315'] });
    await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', signed), 'bad_signature');
  });

  it('refuses a signed request that names no Destination', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => postMessage(agent, f.sso, 'SAMLRequest', signEnveloped(request({ destination: null }), f.signedKeys)), 'wrong_destination');
  });
});

describe('signed AuthnRequests over HTTP-Redirect (query signature)', () => {
  it('accepts the genuine signed request (control)', async () => {
    await accepted(createAgent().get(`${f.sso}?${signedRedirectQuery(request(), f.signedKeys, 'rs-1')}`));
  });

  it('refuses a request whose SAMLRequest was swapped after signing (another ACS)', async () => {
    const signed = new URLSearchParams(signedRedirectQuery(request(), f.signedKeys));
    const swapped = new URLSearchParams(redirectQuery(request({ acsUrl: 'https://evil.example/acs' })));
    signed.set('SAMLRequest', swapped.get('SAMLRequest')!);
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${signed}`), 'bad_signature');
  });

  it('refuses a request whose ID was changed after signing', async () => {
    const original = request();
    const signed = new URLSearchParams(signedRedirectQuery(original, f.signedKeys));
    signed.set('SAMLRequest', new URLSearchParams(redirectQuery(requestAttacks['id-altered-after-signing'](original))).get('SAMLRequest')!);
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${signed}`), 'bad_signature');
  });

  it('refuses a request whose RelayState was changed or dropped after signing', async () => {
    const query = signedRedirectQuery(request(), f.signedKeys, 'rs-signed');
    for (const altered of [query.replace('RelayState=rs-signed', 'RelayState=rs-evil'), query.replace('&RelayState=rs-signed', '')]) {
      const agent = createAgent();
      await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${altered}`), 'bad_signature');
    }
  });

  it('refuses a request with a repeated signed parameter', async () => {
    const query = signedRedirectQuery(request(), f.signedKeys, 'rs-1');
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${query}&SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha512')}`), 'bad_signature');
  });

  it('refuses RSA-SHA1, a key the SP never registered, and a signature that is not base64 of anything', async () => {
    const queries = [
      signedRedirectQuery(request(), f.signedKeys, undefined, 'sha1'),
      signedRedirectQuery(request(), f.strangerKeys),
      signedRedirectQuery(request(), f.signedKeys).replace(/Signature=[^&]+$/, 'Signature=bm90IGEgc2lnbmF0dXJl'),
    ];
    for (const query of queries) {
      const agent = createAgent();
      await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${query}`), 'bad_signature');
    }
  });

  it('refuses a signed request that names no Destination (SAML Bindings §3.4.5.2)', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${signedRedirectQuery(request({ destination: null }), f.signedKeys)}`), 'wrong_destination');
  });
});

describe('responses altered after Caregate signed them', () => {
  /** Signs in through `sp` and returns the SAMLResponse XML Caregate posted to its ACS. */
  async function responseFor(target: { entityId: string; acs: string }) {
    const agent = createAgent();
    const query = redirectQuery(authnRequestXml({ issuer: target.entityId, destination: f.sso, acsUrl: target.acs }));
    const { page } = await throughSignIn(agent, await agent.get(`${f.sso}?${query}`), 'dana', PASSWORD);
    return Buffer.from(postedForm(page).fields.SAMLResponse!, 'base64').toString('utf8');
  }
  const encode = (xml: string) => ({ SAMLResponse: Buffer.from(xml).toString('base64') });
  const tampering = {
    'a role value': (xml: string) => xml.replace('<saml:AttributeValue>report_viewer</saml:AttributeValue>', '<saml:AttributeValue>admin</saml:AttributeValue>'),
    'an added role': (xml: string) => xml.replace('<saml:AttributeValue>report_viewer</saml:AttributeValue>', '<saml:AttributeValue>report_viewer</saml:AttributeValue><saml:AttributeValue>admin</saml:AttributeValue>'),
    'the NameID': (xml: string) => xml.replace(/(<saml:NameID[^>]*>)[^<]+/, '$1someone-else'),
    'the audience': (xml: string) => xml.replace(/<saml:Audience>[^<]+/, '<saml:Audience>https://evil.example/saml'),
  };

  describe.each([
    ['response and assertion signed (default)', OPEN, { wantAuthnResponseSigned: true, wantAssertionsSigned: true }],
    ['only the response signed', RESPONSE_ONLY, { wantAuthnResponseSigned: true, wantAssertionsSigned: false }],
    ['only the assertion signed', ASSERTION_ONLY, { wantAuthnResponseSigned: false, wantAssertionsSigned: true }],
  ] as const)('%s', (_name, target, wants) => {
    const sp = () => nodeSamlSp(f.cg, { ...target, ...wants, validateInResponseTo: ValidateInResponseTo.never });

    it('node-saml accepts the response as sent (control)', async () => {
      const { profile } = await (await sp()).validatePostResponseAsync(encode(await responseFor(target)));
      expect(profile!.attributes).toMatchObject({ username: 'dana', roles: 'report_viewer' });
    });

    it.each(Object.keys(tampering))('node-saml rejects it with %s changed', async (what) => {
      const xml = await responseFor(target);
      const altered = tampering[what as keyof typeof tampering](xml);
      expect(altered).not.toBe(xml);
      await expect((await sp()).validatePostResponseAsync(encode(altered))).rejects.toThrow(/signature/i);
    });
  });
});
