// SAML Single Logout against a running Caregate, node-saml playing every service provider: a
// logout started by one SAML SP (Redirect or POST) ends the sign-on session — OIDC applications
// of the session get a back-channel logout and lose their refresh tokens — then visits the other
// SAML SP with a LogoutRequest it validates, and ends with a LogoutResponse the initiator
// validates; a logout started by an OIDC application runs the same chain and ends at its
// post-logout redirect. Misrouted and forged logout messages are refused and audited.
import * as oidc from 'openid-client';
import { ValidateInResponseTo, type Profile, type SAML } from '@node-saml/node-saml';
import { decodeJwt } from 'jose';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { startBackchannelReceiver, type BackchannelReceiver } from '../support/backchannel-receiver.ts';
import { createAgent, formOf, signIn, type Agent, type Page } from '../support/browser-agent.ts';
import {
  asksForPassword, auditOf, cli, idOf, logoutRequestXml, NAME_ID, nodeSamlSp, postedForm, postedXml, postMessage, redirectContainer, redirectXml, signedRedirectQuery, signEnveloped,
  throughSignIn, type SpOptions,
} from '../support/saml-sp.ts';
import { selfSignedCertificate, type SelfSignedCertificate } from '../support/self-signed-certificate.ts';

const PASSWORD = 'second-long-password-of-tests';
// Chart takes logout messages over HTTP-Redirect, Labs over HTTP-POST; both sign theirs.
const CHART = { entityId: 'https://chart.example/saml', acs: 'https://chart.example/saml/acs', slo: 'https://chart.example/saml/slo' };
const LABS = { entityId: 'https://labs.example/saml', acs: 'https://labs.example/saml/acs', slo: 'https://labs.example/saml/slo' };
// Kiosk gets a transient NameID and takes logout messages over Redirect, unsigned.
const KIOSK = { entityId: 'https://kiosk.example/saml', acs: 'https://kiosk.example/saml/acs', slo: 'https://kiosk.example/saml/slo' };
const RECORDS_REDIRECT = 'https://records.example/cb';
const RECORDS_BYE = 'https://records.example/bye';

let cg: TestCaregate;
let chartKeys: SelfSignedCertificate;
let labsKeys: SelfSignedCertificate;
let records: { client_id: string; client_secret?: string };
let receiver: BackchannelReceiver;

beforeAll(async () => {
  cg = await startTestCaregate();
  [chartKeys, labsKeys] = await Promise.all([selfSignedCertificate('chart-signing'), selfSignedCertificate('labs-signing')]);
  receiver = await startBackchannelReceiver();
  const a = cg.runtime.accounts;
  await a.applications.create('demo', { name: 'Chart', saml: { entityId: CHART.entityId, acs: [{ url: CHART.acs, index: 0 }], slo: { url: CHART.slo, binding: 'redirect' }, signingCertificates: [chartKeys.cert] } }, cli);
  await a.applications.create('demo', { name: 'Labs', saml: { entityId: LABS.entityId, acs: [{ url: LABS.acs, index: 0 }], slo: { url: LABS.slo, binding: 'post' }, signingCertificates: [labsKeys.cert] } }, cli);
  await a.applications.create('demo', { name: 'Kiosk', saml: { entityId: KIOSK.entityId, acs: [{ url: KIOSK.acs, index: 0 }], slo: { url: KIOSK.slo, binding: 'redirect' }, nameIdFormat: 'transient' } }, cli);
  records = await a.applications.create('demo', {
    name: 'Records', redirectUris: [RECORDS_REDIRECT], postLogoutRedirectUris: [RECORDS_BYE], backchannelLogoutUri: receiver.url,
  }, cli);
  await a.users.create('demo', { username: 'carol', email: 'carol@clinic.example', password: PASSWORD }, [], cli);
});

afterAll(async () => {
  receiver?.close();
  await cg?.close();
});

const chartSp = (options: Partial<SpOptions> = {}) => nodeSamlSp(cg, { ...CHART, privateKey: chartKeys.key, validateInResponseTo: ValidateInResponseTo.always, ...options });
const labsSp = (options: Partial<SpOptions> = {}) => nodeSamlSp(cg, { ...LABS, privateKey: labsKeys.key, validateInResponseTo: ValidateInResponseTo.always, ...options });

async function recordsConfig() {
  return oidc.discovery(new URL(cg.issuer()), records.client_id, records.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** Signs in to Records over OIDC (typing the password): the browser's sign-on session begins. */
async function signInToRecords(agent: Agent) {
  const config = await recordsConfig();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: RECORDS_REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
  const back = await signIn(agent, url.href, 'carol', PASSWORD, RECORDS_REDIRECT);
  return oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' });
}

/** Signs in to a SAML SP in the browser's session; returns the profile node-saml accepted. */
async function signInToSp(agent: Agent, saml: SAML): Promise<Profile> {
  const { page } = await throughSignIn(agent, await agent.get(await saml.getAuthorizeUrlAsync('', undefined, {})), 'carol', PASSWORD);
  return (await saml.validatePostResponseAsync({ SAMLResponse: postedForm(page).fields.SAMLResponse! })).profile!;
}

/** The sids of the back-channel logout tokens Caregate sends from the server. */
async function backchannelSids(count: number): Promise<string[]> {
  return (await receiver.waitFor(count)).map((t) => decodeJwt(t).sid as string);
}

/** After logout: the next AuthnRequest must ask for the password. */
async function expectSignedOut(agent: Agent) {
  const page = await agent.follow(await agent.get(await (await chartSp()).getAuthorizeUrlAsync('', undefined, {})));
  expect(asksForPassword(page)).toBe(true);
}

describe('logout started by a SAML SP', () => {
  it('over HTTP-Redirect: ends the session, logs the other SP out over POST, OIDC gets a back-channel logout, the initiator a LogoutResponse', async () => {
    receiver.tokens.length = 0;
    const agent = createAgent();
    const tokens = await signInToRecords(agent);
    const chart = await chartSp();
    const labs = await labsSp();
    const chartProfile = await signInToSp(agent, chart);
    const labsProfile = await signInToSp(agent, labs);

    // Chart asks Caregate to log out.
    const logoutUrl = await chart.getLogoutUrlAsync(chartProfile, 'chart-after-logout', {});
    const chartRequestId = idOf(redirectXml(logoutUrl));
    const toLabs = await agent.get(logoutUrl);

    // Labs receives a signed LogoutRequest over POST for its own NameID and SessionIndex.
    const { action, fields } = postedForm(toLabs);
    expect(action).toBe(LABS.slo);
    const xml = postedXml(toLabs, 'SAMLRequest');
    expect(xml).toContain(`Destination="${LABS.slo}"`);
    const { profile: asked, loggedOut } = await labs.validatePostRequestAsync({ SAMLRequest: fields.SAMLRequest! });
    expect(loggedOut).toBe(true);
    expect(asked).toMatchObject({ issuer: cg.issuer(), nameID: labsProfile.nameID, nameIDFormat: labsProfile.nameIDFormat, sessionIndex: labsProfile.sessionIndex });

    // Labs answers over Redirect; Caregate sends Chart its LogoutResponse over Redirect.
    const toChart = await agent.get(await labs.getLogoutResponseUrlAsync(asked!, fields.RelayState!, {}, true));
    expect(toChart.status).toBe(303);
    expect(toChart.location!.startsWith(`${CHART.slo}?`)).toBe(true);
    const [container, query] = redirectContainer(toChart.location!);
    expect(container.Signature).toBeDefined();
    expect(container.RelayState).toBe('chart-after-logout');
    expect(await chart.validateRedirectAsync(container, query)).toMatchObject({ loggedOut: true });
    const response = redirectXml(toChart.location!);
    expect(response).toContain(`InResponseTo="${chartRequestId}"`);
    expect(response).toContain('urn:oasis:names:tc:SAML:2.0:status:Success');

    // The session is over everywhere.
    expect(await backchannelSids(1)).toEqual([tokens.claims()!.sid]);
    await expect(oidc.refreshTokenGrant(await recordsConfig(), tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expectSignedOut(agent);
    expect((await auditOf(cg, 'saml.logout')).at(-1)!.details).toMatchObject({ initiator: CHART.entityId });
  });

  it('over HTTP-POST: a signed LogoutRequest from Labs logs Chart out over Redirect and Labs gets its LogoutResponse by POST', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const labs = await labsSp();
    const chartProfile = await signInToSp(agent, chart);
    const labsProfile = await signInToSp(agent, labs);

    // node-saml writes logout requests for the Redirect binding only: the same XML, signed enveloped.
    const request = redirectXml(await labs.getLogoutUrlAsync(labsProfile, '', {}));
    const toChart = await postMessage(agent, `${cg.issuer()}/saml/slo`, 'SAMLRequest', signEnveloped(request, labsKeys), 'labs-after-logout');

    expect(toChart.status).toBe(303);
    const [container, query] = redirectContainer(toChart.location!);
    expect(container.Signature).toBeDefined();
    const { profile: asked } = await chart.validateRedirectAsync(container, query);
    expect(asked).toMatchObject({ nameID: chartProfile.nameID, sessionIndex: chartProfile.sessionIndex });

    const toLabs = await agent.get(await chart.getLogoutResponseUrlAsync(asked!, container.RelayState!, {}, true));
    const { action, fields } = postedForm(toLabs);
    expect(action).toBe(LABS.slo);
    expect(fields.RelayState).toBe('labs-after-logout');
    // node-saml takes a POSTed LogoutResponse only with a valid signature; it looks for InResponseTo
    // on Response elements only, so that is checked by hand.
    const labsReading = await labsSp({ validateInResponseTo: ValidateInResponseTo.never });
    expect(await labsReading.validatePostResponseAsync({ SAMLResponse: fields.SAMLResponse! })).toEqual({ profile: null, loggedOut: true });
    expect(postedXml(toLabs)).toContain(`InResponseTo="${idOf(request)}"`);
    await expectSignedOut(agent);
  });

  it('still answers the initiator with Success when the other SP reports a failure, with the PartialLogout second-level status', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const labs = await labsSp();
    await signInToSp(agent, labs);
    const chartProfile = await signInToSp(agent, chart);
    const toLabs = await agent.get(await chart.getLogoutUrlAsync(chartProfile, '', {}));
    const { fields } = postedForm(toLabs);
    const { profile: asked } = await labs.validatePostRequestAsync({ SAMLRequest: fields.SAMLRequest! });
    const toChart = await agent.get(await labs.getLogoutResponseUrlAsync(asked!, fields.RelayState!, {}, false));
    expect(toChart.location!.startsWith(`${CHART.slo}?`)).toBe(true);
    const response = redirectXml(toChart.location!);
    // Caregate's own logout succeeded (top level); a second-level code says not everyone was reached.
    expect(response).toMatch(/<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success">\s*<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:PartialLogout"\/>/);
    expect(response).toContain('Some applications could not be signed out.');
    await expectSignedOut(agent);
  });

  it("answers Success without ending anything when the browser carrying the request has no session with that SP", async () => {
    const alices = createAgent();
    const chart = await chartSp();
    const profile = await signInToSp(alices, chart);
    // The same request arriving in another browser (a link, a forgery) ends nobody's session.
    const stranger = createAgent();
    const page = await stranger.get(await chart.getLogoutUrlAsync(profile, '', {}));
    expect(page.location!.startsWith(`${CHART.slo}?`)).toBe(true);
    expect((await auditOf(cg, 'saml.logout')).at(-1)!.details).toMatchObject({ noSession: true });
    const again = await throughSignIn(alices, await alices.get(await chart.getAuthorizeUrlAsync('', undefined, {})), 'carol', PASSWORD);
    expect(again.askedPassword).toBe(false);
  });

  it('asks an SP with a transient NameID to log out once, for the name it was last given, however often it signed in', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const kiosk = await nodeSamlSp(cg, { ...KIOSK, identifierFormat: NAME_ID.transient });
    const chartProfile = await signInToSp(agent, chart);
    const first = await signInToSp(agent, kiosk);
    const second = await signInToSp(agent, kiosk);
    expect(second.nameID).toBe(first.nameID);
    expect(second.sessionIndex).toBe(first.sessionIndex);

    const toKiosk = await agent.get(await chart.getLogoutUrlAsync(chartProfile, '', {}));
    expect(toKiosk.location!.startsWith(`${KIOSK.slo}?`)).toBe(true);
    const [container, query] = redirectContainer(toKiosk.location!);
    const { profile: asked } = await kiosk.validateRedirectAsync(container, query);
    expect(asked).toMatchObject({ nameID: second.nameID, sessionIndex: second.sessionIndex });
    const next = await agent.get(await kiosk.getLogoutResponseUrlAsync(asked!, container.RelayState!, {}, true));
    expect(next.location!.startsWith(`${CHART.slo}?`)).toBe(true);
  });
});

describe('logout started by an OIDC application', () => {
  it("ends the session, logs the SAML SP out, and returns to the application's post-logout redirect with its state", async () => {
    receiver.tokens.length = 0;
    const agent = createAgent();
    const tokens = await signInToRecords(agent);
    const chart = await chartSp();
    const chartProfile = await signInToSp(agent, chart);

    const config = await recordsConfig();
    const confirm = await agent.follow(await agent.get(oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: RECORDS_BYE, state: 'bye-42' }).href));
    const samlLogout = /formaction="([^"]+)"/.exec(confirm.html)?.[1];
    expect(samlLogout).toBe(`${cg.issuer()}/saml/logout`);
    const { fields } = formOf(confirm);
    const toChart = await agent.postForm(samlLogout!, { ...fields, logout: 'yes' });

    const [container, query] = redirectContainer(toChart.location!);
    expect(toChart.location!.startsWith(`${CHART.slo}?`)).toBe(true);
    const { profile: asked } = await chart.validateRedirectAsync(container, query);
    expect(asked).toMatchObject({ nameID: chartProfile.nameID, sessionIndex: chartProfile.sessionIndex });

    const done = await agent.get(await chart.getLogoutResponseUrlAsync(asked!, container.RelayState!, {}, true));
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${RECORDS_BYE}?state=bye-42`);
    expect(await backchannelSids(1)).toEqual([tokens.claims()!.sid]);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expectSignedOut(agent);
  });

  it('shows the plain OIDC logout button when no SAML SP shares the session', async () => {
    const agent = createAgent();
    const tokens = await signInToRecords(agent);
    const confirm = await agent.follow(await agent.get(oidc.buildEndSessionUrl(await recordsConfig(), { id_token_hint: tokens.id_token! }).href));
    expect(confirm.html).toContain('Yes, sign me out');
    expect(confirm.html).not.toContain('formaction=');
  });
});

describe('refused logout messages', () => {
  /** A refusal: a 4xx page without a stack trace, nothing redirected, the reason audited. */
  async function expectRefused(page: Page, status: number, reason: string) {
    expect(page.status).toBe(status);
    expect(page.location).toBeUndefined();
    expect(page.html).toContain('role="alert"');
    expect(page.html).not.toMatch(/at .*\.ts:\d+/);
    expect((await auditOf(cg, 'saml.logout_rejected')).at(-1)!.details).toMatchObject({ reason });
  }

  it('refuses an unsigned LogoutRequest from an SP that has a signing certificate, leaving the session alone', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const profile = await signInToSp(agent, chart);
    const unsigned = await chartSp({ privateKey: undefined });
    await expectRefused(await agent.get(await unsigned.getLogoutUrlAsync(profile, '', {})), 400, 'unsigned');
    expect((await auditOf(cg, 'saml.logout_rejected')).at(-1)!.details).toMatchObject({ entityId: CHART.entityId, binding: 'redirect', field: 'SAMLRequest' });
    expect((await throughSignIn(agent, await agent.get(await chart.getAuthorizeUrlAsync('', undefined, {})), 'carol', PASSWORD)).askedPassword).toBe(false);
  });

  it('refuses a signed LogoutRequest that names no Destination, leaving the session alone', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const profile = await signInToSp(agent, chart);
    const request = logoutRequestXml({ issuer: CHART.entityId, nameId: profile.nameID, sessionIndex: profile.sessionIndex! });
    await expectRefused(await agent.get(`${cg.issuer()}/saml/slo?${signedRedirectQuery(request, chartKeys)}`), 400, 'wrong_destination');
    expect((await throughSignIn(agent, await agent.get(await chart.getAuthorizeUrlAsync('', undefined, {})), 'carol', PASSWORD)).askedPassword).toBe(false);
  });

  it('refuses a LogoutRequest whose NotOnOrAfter is not a date (it would never expire)', async () => {
    const agent = createAgent();
    const profile = await signInToSp(agent, await chartSp());
    const request = logoutRequestXml({ issuer: CHART.entityId, nameId: profile.nameID, destination: `${cg.issuer()}/saml/slo`, notOnOrAfter: 'the-end-of-time' });
    await expectRefused(await agent.get(`${cg.issuer()}/saml/slo?${signedRedirectQuery(request, chartKeys)}`), 400, 'malformed');
  });

  it('refuses a replayed LogoutRequest', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const url = await chart.getLogoutUrlAsync(await signInToSp(agent, chart), '', {});
    expect((await agent.get(url)).status).toBe(303);
    await expectRefused(await agent.get(url), 400, 'replayed');
  });

  it('refuses a LogoutResponse when no logout is under way', async () => {
    const chart = await chartSp();
    const url = await chart.getLogoutResponseUrlAsync({ ID: '_not-a-request-of-ours' } as never, 'AAAAAAAAAAAAAAAAAAAAAAAA', {}, true);
    await expectRefused(await createAgent().get(url), 400, 'no_pending_logout');
  });

  it('refuses a LogoutResponse that does not answer the LogoutRequest Caregate sent', async () => {
    const agent = createAgent();
    const chart = await chartSp();
    const labs = await labsSp();
    await signInToSp(agent, labs);
    const toLabs = await agent.get(await chart.getLogoutUrlAsync(await signInToSp(agent, chart), '', {}));
    const chain = postedForm(toLabs).fields.RelayState!;
    await expectRefused(await agent.get(await labs.getLogoutResponseUrlAsync({ ID: '_some-other-request' } as never, chain, {}, true)), 400, 'unexpected_response');
    // Chart is not the SP Caregate is waiting for, whatever it answers.
    const { profile: asked } = await labs.validatePostRequestAsync({ SAMLRequest: postedForm(toLabs).fields.SAMLRequest! });
    await expectRefused(await agent.get(await chart.getLogoutResponseUrlAsync(asked!, chain, {}, true)), 400, 'unexpected_response');
  });

  it('refuses the SAML logout button posted without the logout form secret', async () => {
    const agent = createAgent();
    await signInToSp(agent, await chartSp());
    await expectRefused(await agent.postForm(`${cg.issuer()}/saml/logout`, { xsrf: 'guessed', logout: 'yes' }), 403, 'bad_logout_form');
    expect((await throughSignIn(agent, await agent.get(await (await chartSp()).getAuthorizeUrlAsync('', undefined, {})), 'carol', PASSWORD)).askedPassword).toBe(false);
  });
});
