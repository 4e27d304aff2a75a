// Every AuthnRequest Caregate must not act on, over both bindings: unreadable, hostile XML,
// unknown or misaddressed, stale, replayed, asking for an unregistered ACS or binding. Each is
// answered with a 4xx page (no stack trace), one audit event with its reason, and nothing begun.
import { deflateRawSync } from 'node:zlib';
import { createAgent } from '../../support/browser-agent.ts';
import { auditOf, authnRequestXml, logoutRequestXml, newRequestId, postedForm, postMessage, redirectQuery, throughSignIn } from '../../support/saml-sp.ts';
import { BARE, expectRefusal, OPEN, PASSWORD, SIGNED, startSamlFixture, type SamlFixture } from './saml-fixture.ts';

let f: SamlFixture;
beforeAll(async () => (f = await startSamlFixture()));
afterAll(async () => f?.cg.close());

const open = (fields: Partial<Parameters<typeof authnRequestXml>[0]> = {}) => authnRequestXml({ issuer: OPEN.entityId, destination: f.sso, acsUrl: OPEN.acs, ...fields });

/** Sends over Redirect (query string) or POST (form), from a fresh browser; checks the refusal. */
async function refusedOverBoth(message: { redirect: string; post: string }, reason: string, status = 400) {
  for (const binding of ['redirect', 'post'] as const) {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => (binding === 'redirect' ? agent.get(`${f.sso}?${message.redirect}`) : agent.postForm(f.sso, { SAMLRequest: message.post })), reason, { status });
    expect((await auditOf(f.cg, 'saml.sso_rejected')).at(-1)!.details).toMatchObject({ binding });
  }
}

/**
 * The XML encoded for each binding — deflated + base64 for Redirect, base64 for POST — with its
 * own request ID for each, so the second is not refused as a replay of the first.
 */
const encoded = (xml: string) => ({ redirect: redirectQuery(xml), post: Buffer.from(xml.replace(/ ID="[^"]+"/, ` ID="${newRequestId()}"`)).toString('base64') });

describe('unreadable messages', () => {
  it('refuses XML that is not well-formed (a request cut short)', async () => {
    const xml = open();
    await refusedOverBoth(encoded(xml.slice(0, xml.length - 30)), 'malformed');
  });

  it('refuses markup the parser would have to repair (an unquoted attribute value)', async () => {
    await refusedOverBoth(encoded(open().replace(/ Version="2\.0"/, ' Version=2.0')), 'malformed');
  });

  it('refuses a message that is not base64', async () => {
    await refusedOverBoth({ redirect: 'SAMLRequest=%25%25not*base64%25%25', post: '%%not*base64%%' }, 'malformed');
  });

  it('refuses a missing SAMLRequest', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(f.sso), 'malformed');
  });

  it('refuses a deflate bomb: 300 bytes that inflate past 256 KiB are cut off at the limit', async () => {
    const bomb = deflateRawSync(Buffer.from(open().replace('</samlp:AuthnRequest>', `<!--${' '.repeat(512 * 1024)}--></samlp:AuthnRequest>`)));
    expect(bomb.length).toBeLessThan(1024);
    const agent = createAgent();
    const page = await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?SAMLRequest=${encodeURIComponent(bomb.toString('base64'))}`), 'malformed');
    expect(page.html).toContain('inflates past the size limit');
  });

  it('refuses a POSTed message larger than 256 KiB', async () => {
    const big = open({ inner: `<samlp:Extensions>${'<x/>'.repeat(70_000)}</samlp:Extensions>` });
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.postForm(f.sso, { SAMLRequest: Buffer.from(big).toString('base64') }), 'malformed');
  });

  it('refuses a LogoutRequest sent to the sign-in endpoint', async () => {
    await refusedOverBoth(encoded(logoutRequestXml({ issuer: OPEN.entityId, nameId: 'x' })), 'malformed');
  });
});

describe('hostile XML', () => {
  const inIssuer = (doctype: string, issuer: string) => `${doctype}${open().replace(`<saml:Issuer>${OPEN.entityId}</saml:Issuer>`, `<saml:Issuer>${issuer}</saml:Issuer>`)}`;

  it('refuses an external entity (XXE) reading a local file', async () => {
    const xml = inIssuer('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;');
    await refusedOverBoth(encoded(xml), 'malformed');
  });

  it('refuses nested internal entities (billion laughs)', async () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join('');
    const xml = inIssuer(`<!DOCTYPE r [<!ENTITY l0 "lol">${entities}]>`, '&l9;');
    await refusedOverBoth(encoded(xml), 'malformed');
  });

  it('refuses a parameter entity pulling in an external DTD', async () => {
    const xml = inIssuer('<!DOCTYPE r [<!ENTITY % dtd SYSTEM "http://127.0.0.1:1/evil.dtd"> %dtd;]>', OPEN.entityId);
    await refusedOverBoth(encoded(xml), 'malformed');
  });

  it('refuses a DOCTYPE even without entities, and a processing instruction', async () => {
    await refusedOverBoth(encoded(`<!DOCTYPE samlp:AuthnRequest>${open()}`), 'malformed');
    await refusedOverBoth(encoded(`<?xml-stylesheet type="text/xsl" href="http://127.0.0.1:1/x.xsl"?>${open()}`), 'malformed');
  });
});

describe('who sent it, to where, and when', () => {
  it('refuses an unknown SP', async () => {
    await refusedOverBoth(encoded(authnRequestXml({ issuer: 'https://stranger.example/saml', destination: f.sso, acsUrl: 'https://stranger.example/acs' })), 'unknown_sp');
  });

  it('refuses an SP name with control characters (a NUL byte, which PostgreSQL refuses): as unknown inside a message, as malformed in the address', async () => {
    await refusedOverBoth(encoded(authnRequestXml({ issuer: `${OPEN.entityId}\u0000`, destination: f.sso, acsUrl: OPEN.acs })), 'unknown_sp');
    // In the address itself a NUL is refused before routing (400), so no SAML endpoint sees it.
    const page = await createAgent().get(`${f.cg.issuer()}/saml/init?sp=${encodeURIComponent(`${OPEN.entityId}\u0000`)}`);
    expect({ status: page.status, location: page.location }).toEqual({ status: 400, location: undefined });
    expect(page.html).toContain('NUL character');
  });

  it('refuses an unsigned request from an SP that must sign', async () => {
    await refusedOverBoth(encoded(authnRequestXml({ issuer: SIGNED.entityId, destination: f.sso, acsUrl: SIGNED.acs })), 'unsigned');
    expect((await auditOf(f.cg, 'saml.sso_rejected')).at(-1)!.details).toMatchObject({ entityId: SIGNED.entityId });
  });

  it('refuses a request addressed to another endpoint (wrong Destination)', async () => {
    await refusedOverBoth(encoded(open({ destination: 'https://other-idp.example/saml/sso' })), 'wrong_destination');
    await refusedOverBoth(encoded(open({ destination: `${f.cg.issuer('other-clinic')}/saml/sso` })), 'wrong_destination');
  });

  it('refuses an expired request (IssueInstant older than 10 minutes plus the clock skew)', async () => {
    await refusedOverBoth(encoded(open({ issueInstant: new Date(Date.now() - 12 * 60_000) })), 'expired');
  });

  it('refuses a request from the future (IssueInstant beyond the clock skew)', async () => {
    await refusedOverBoth(encoded(open({ issueInstant: new Date(Date.now() + 2 * 60_000) })), 'not_yet_valid');
  });

  it('refuses the same request ID a second time (replay), over either binding', async () => {
    const xml = open({ id: '_replayed-request-1' });
    const first = createAgent();
    expect((await first.get(`${f.sso}?${redirectQuery(xml)}`)).status).toBe(303);
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${redirectQuery(xml)}`), 'replayed');
    const again = createAgent();
    await expectRefusal(f.cg, again, () => postMessage(again, f.sso, 'SAMLRequest', xml), 'replayed');
  });

  it('refuses an ACS URL or index the SP did not register', async () => {
    await refusedOverBoth(encoded(open({ acsUrl: 'https://evil.example/acs' })), 'unknown_acs');
    await refusedOverBoth(encoded(open({ acsUrl: `${OPEN.acs}/../steal` })), 'unknown_acs');
    await refusedOverBoth(encoded(open({ acsUrl: undefined, acsIndex: 7 })), 'unknown_acs');
  });

  it('refuses a response binding other than HTTP-POST', async () => {
    await refusedOverBoth(encoded(open({ protocolBinding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact' })), 'unsupported_binding');
  });

  it('refuses a RelayState longer than the 80 bytes SAML allows', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${redirectQuery(open(), { RelayState: 'r'.repeat(81) })}`), 'malformed');
  });

  it('refuses a signed request from an SP with no certificate registered', async () => {
    const agent = createAgent();
    const query = `${redirectQuery(authnRequestXml({ issuer: BARE.entityId, destination: f.sso, acsUrl: BARE.acs }))}&SigAlg=${encodeURIComponent('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')}&Signature=AAAA`;
    await expectRefusal(f.cg, agent, () => agent.get(`${f.sso}?${query}`), 'unexpected_signature');
  });

  it('accepts the same request well-formed and fresh, answering with the sign-in (control)', async () => {
    const agent = createAgent();
    const page = await agent.get(`${f.sso}?${redirectQuery(open({ acsUrl: undefined, acsIndex: 1 }))}`);
    expect(page.status).toBe(303);
    expect(page.location).toMatch(new RegExp(`^${f.cg.issuer()}/auth\\?`));
    expect(agent.jar.size).toBe(1);
  });
});

describe('IdP-initiated sign-in', () => {
  it('refuses an unknown SP and a missing one', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(`${f.cg.issuer()}/saml/init?sp=${encodeURIComponent('https://stranger.example/saml')}`), 'unknown_sp');
    await expectRefusal(f.cg, agent, () => agent.get(`${f.cg.issuer()}/saml/init`), 'malformed');
  });

});

describe('finishing a sign-in at /saml/continue', () => {
  const continueUrl = (query: Record<string, string>) => `${f.cg.issuer()}/saml/continue?${new URLSearchParams(query)}`;
  const asksForMfa = '<samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>https://refeds.org/profile/mfa</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>';

  /** A browser signed in with a password through Open. */
  async function signedIn() {
    const agent = createAgent();
    const { page } = await throughSignIn(agent, await agent.get(`${f.sso}?${redirectQuery(open())}`), 'dana', PASSWORD);
    expect(postedForm(page).action).toBe(OPEN.acs);
    return agent;
  }

  it('refuses a sign-in that was never started in this browser', async () => {
    const agent = createAgent();
    await expectRefusal(f.cg, agent, () => agent.get(continueUrl({ state: 'made-up', code: 'x' })), 'no_pending_request');
  });

  it('refuses to answer when the browser skips /auth and its step-up (a second factor requested) with an older session', async () => {
    const agent = await signedIn();
    const toAuth = await agent.get(`${f.sso}?${redirectQuery(open({ inner: asksForMfa }))}`);
    const auth = new URL(toAuth.location!);
    expect(auth.searchParams.get('acr_values')).toBe('urn:caregate:acr:mfa');
    await expectRefusal(f.cg, agent, () => agent.get(continueUrl({ state: auth.searchParams.get('state')! })), 'sign_in_failed');
  });

  it("refuses a code issued for another of the browser's sign-ins", async () => {
    const agent = await signedIn();
    const plain = new URL((await agent.get(`${f.sso}?${redirectQuery(open())}`)).location!);
    const stepUp = new URL((await agent.get(`${f.sso}?${redirectQuery(open({ inner: asksForMfa }))}`)).location!);
    // The plain sign-in needs no interaction: /auth answers with its code at once.
    const code = new URL((await agent.get(plain.href)).location!).searchParams.get('code')!;
    await expectRefusal(f.cg, agent, () => agent.get(continueUrl({ state: stepUp.searchParams.get('state')!, code })), 'sign_in_failed');
  });

  it('refuses to finish the same sign-in twice', async () => {
    const agent = await signedIn();
    const back = await agent.follow(await agent.get(`${f.sso}?${redirectQuery(open())}`), `${f.cg.issuer()}/saml/continue`);
    expect((await agent.get(back.location!)).status).toBe(200);
    await expectRefusal(f.cg, agent, () => agent.get(back.location!), 'no_pending_request');
  });
});
