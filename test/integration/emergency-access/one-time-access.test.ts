// One-time access, end to end against real stores: an elevation approved with oneTime is carried by
// the first token response that would carry it (its access token and ID token), which consumes it —
// the request is stamped, the assignment removed, elevation.consume audited with the client — and
// by nothing after: not a second sign-in, not a refresh of the very token that consumed it, not
// userinfo. Two code exchanges racing for it (on one node, and on two nodes sharing PostgreSQL and
// Redis) consume it once.
import '../../support/raw-sql.ts';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as oidc from 'openid-client';
import { createClaimsSource } from '../../../src/oidc/index.ts';
import { describeWithSharedStores, startSecondNode, startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { appTokens, claimsOf, type AppClient } from '../../support/app-tokens.ts';
import { createAgent, formOf, signIn } from '../../support/browser-agent.ts';
import { setUpRota } from './fixtures.ts';
import { nodeSamlSp, postedForm, throughSignIn } from '../../support/saml-sp.ts';

const cli = { type: 'cli' as const, id: 'test' };
const PASSWORD = 'a-long-enough-password';
const SCOPE = 'openid roles locations offline_access';

let cg: TestCaregate;
let rota: AppClient;
const ids: Record<string, string> = {};
const user = (name: string) => ({ type: 'user' as const, id: ids[name]! });

/** A one-time charge nurse grant at North for nina, approved by alice. */
async function oneTimeGrant(): Promise<string> {
  const request = await cg.runtime.elevations.request('demo', { role: 'charge_nurse', minutes: 30, reason: 'one medication reconciliation', oneTime: true, scope: { type: 'location', key: 'north' } }, user('nina'));
  expect(await cg.runtime.elevations.approve('demo', request.id, {}, user('alice'))).toMatchObject({ status: 'granted', oneTime: true });
  return request.id;
}

const holdsGrant = (claims: Record<string, any>) => Boolean(claims.locations?.north?.includes('charge_nurse'));
const requestRow = async (id: string) =>
  (await cg.runtime.storage.query<{ consumed_at: Date | null; assignment_id: string | null; status: string }>(`SELECT consumed_at, assignment_id, status FROM access_requests WHERE id = $1`, [id]))[0]!;
const consumeEvents = (id: string) =>
  cg.runtime.storage.query<{ details: { client: string; protocol: string } }>(`SELECT details FROM audit_events WHERE action = 'elevation.consume' AND target_id = $1`, [id]);

/** Signs nina in through the authorization endpoint and stops at the code: the exchange is the caller's. */
async function authorizationCode(issuer: string) {
  const config = await oidc.discovery(new URL(issuer), rota.client_id, rota.client_secret!, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: rota.redirect, scope: SCOPE, prompt: 'consent', state: 's', resource: rota.resource,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  const agent = createAgent();
  let back = await signIn(agent, url.href, 'nina', PASSWORD, rota.redirect);
  if (!back.location?.startsWith(rota.redirect)) {
    const form = formOf(back);
    back = await agent.follow(await agent.postForm(form.action, form.fields), rota.redirect);
  }
  return { code: new URL(back.location!).searchParams.get('code')!, verifier, tokenEndpoint: config.serverMetadata().token_endpoint! };
}

/** The code exchange an application makes, at `tokenEndpoint` (another node's, in the two-node case). */
async function exchange(tokenEndpoint: string, { code, verifier }: { code: string; verifier: string }) {
  const reply = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${rota.client_id}:${rota.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: rota.redirect, code_verifier: verifier, resource: rota.resource }),
  });
  expect(reply.status).toBe(200);
  return (await reply.json()) as { access_token: string; id_token: string };
}

beforeAll(async () => {
  cg = await startTestCaregate();
  rota = await setUpRota(cg);
  const { accounts } = cg.runtime;
  await accounts.roles.create('demo', { key: 'approver', name: 'Access approver', permissions: ['caregate.access:approve', 'rota:read', 'rota:edit'] }, cli);
  const north = { type: 'location', key: 'north' } as const;
  ids.nina = (await accounts.users.create('demo', { username: 'nina', password: PASSWORD, email: 'nina@clinic.example' }, [{ role: 'nurse', scope: north }], cli)).id;
  ids.alice = (await accounts.users.create('demo', { username: 'alice', password: PASSWORD, email: 'alice@clinic.example' }, [{ role: 'approver', scope: north }], cli)).id;
});

afterAll(async () => {
  await cg?.close();
});

describe('a one-time grant', () => {
  let first: Awaited<ReturnType<typeof appTokens>>;
  let requestId: string;

  it('is carried by the first token response — access token and ID token — which consumes it, audited with the client', async () => {
    requestId = await oneTimeGrant();
    first = await appTokens(cg, rota, 'nina', PASSWORD);
    expect(holdsGrant(claimsOf(first.tokens.access_token))).toBe(true);
    expect(holdsGrant(claimsOf(first.tokens.id_token!))).toBe(true);
    const row = await requestRow(requestId);
    expect(row.consumed_at).not.toBeNull();
    expect(row.assignment_id).toBeNull();
    expect(await cg.runtime.storage.assignments.findBy({ userId: ids.nina!, origin: 'elevation' })).toHaveLength(0);
    const events = await consumeEvents(requestId);
    expect(events).toHaveLength(1);
    expect(events[0]!.details).toMatchObject({ client: rota.client_id, protocol: 'oidc' });
  });

  it('is not carried by a refresh of the token that consumed it', async () => {
    const refreshed = await first.refresh();
    expect(holdsGrant(claimsOf(refreshed.access_token))).toBe(false);
    expect(claimsOf(refreshed.access_token).locations?.north ?? []).toContain('nurse');
  });

  it('is not carried by a second sign-in, and was consumed once', async () => {
    const second = await appTokens(cg, rota, 'nina', PASSWORD);
    expect(holdsGrant(claimsOf(second.tokens.access_token))).toBe(false);
    expect(holdsGrant(claimsOf(second.tokens.id_token!))).toBe(false);
    expect(await consumeEvents(requestId)).toHaveLength(1);
  });

  it('goes to exactly one of two code exchanges racing for it', async () => {
    const id = await oneTimeGrant();
    const codes = [await authorizationCode(cg.issuer()), await authorizationCode(cg.issuer())];
    const replies = await Promise.all(codes.map((c) => exchange(c.tokenEndpoint, c)));
    expect(replies.map((r) => holdsGrant(claimsOf(r.access_token))).filter(Boolean)).toHaveLength(1);
    // Each response is whole: the ID token carries it exactly where the access token does.
    for (const r of replies) expect(holdsGrant(claimsOf(r.id_token))).toBe(holdsGrant(claimsOf(r.access_token)));
    expect(await consumeEvents(id)).toHaveLength(1);
  });

  it('is neither shown nor consumed by a read of claims that issues nothing (userinfo, the decision endpoint); the next token takes it', async () => {
    const id = await oneTimeGrant();
    // The decision endpoint and userinfo read claims without issuing: the grant stays unconsumed.
    const tenant = (await cg.runtime.storage.tenants.findOneBy({ slug: 'demo' }))!;
    const nina = (await cg.runtime.storage.users.findOneBy({ id: ids.nina! }))!;
    const app = (await cg.runtime.storage.applications.findOneBy({ clientId: rota.client_id }))!;
    const claims = await createClaimsSource(cg.runtime.storage, tenant, cg.runtime.claimsCache, cg.runtime.audit).forUser(nina, { applicationId: app.id, catalogue: app.permissions });
    expect(holdsGrant(claims)).toBe(false);
    expect((await requestRow(id)).consumed_at).toBeNull();
    // The next issuance takes it.
    expect(holdsGrant(claimsOf((await appTokens(cg, rota, 'nina', PASSWORD)).tokens.access_token))).toBe(true);
    expect((await requestRow(id)).consumed_at).not.toBeNull();
  });
});

describe('a one-time grant and SAML', () => {
  const ROTA_SP = { entityId: 'https://rota.example/saml', acs: 'https://rota.example/saml/acs' };

  it('is carried by the first SAML assertion, which consumes it (audited as saml), and by no assertion after', async () => {
    await cg.runtime.accounts.applications.create('demo', { name: 'Rota SAML', permissions: ['rota:read', 'rota:edit'], saml: { entityId: ROTA_SP.entityId, acs: [{ url: ROTA_SP.acs, index: 0, isDefault: true }] } }, cli);
    const sp = await nodeSamlSp(cg, ROTA_SP);
    const assertion = async () => {
      const agent = createAgent();
      const { page } = await throughSignIn(agent, await agent.get(await sp.getAuthorizeUrlAsync('', undefined, {})), 'nina', PASSWORD);
      const { fields } = postedForm(page);
      return (await sp.validatePostResponseAsync({ SAMLResponse: fields.SAMLResponse! })).profile!.attributes as Record<string, unknown>;
    };
    const id = await oneTimeGrant();
    const first = await assertion();
    expect([first.location_roles].flat()).toContain('north:charge_nurse');
    expect((await requestRow(id)).consumed_at).not.toBeNull();
    expect((await consumeEvents(id)).map((e) => e.details.protocol)).toEqual(['saml']);
    const second = await assertion();
    expect([second.location_roles].flat()).toEqual(['north:nurse']);
  });
});

// Two nodes on one PostgreSQL and one Redis (production mode only: see describeWithSharedStores).
describeWithSharedStores('on two nodes', () => {
  let nodeB: TestCaregate;
  beforeAll(async () => {
    nodeB = await startSecondNode(cg);
  });
  afterAll(async () => nodeB?.close());

  it('two code exchanges racing on two nodes consume the grant once', async () => {
    const id = await oneTimeGrant();
    const codes = [await authorizationCode(cg.issuer()), await authorizationCode(cg.issuer())];
    // The same token endpoint path on node B's address.
    const onB = (endpoint: string) => `${nodeB.baseUrl}${new URL(endpoint).pathname}`;
    const replies = await Promise.all([exchange(codes[0]!.tokenEndpoint, codes[0]!), exchange(onB(codes[1]!.tokenEndpoint), codes[1]!)]);
    expect(replies.map((r) => holdsGrant(claimsOf(r.access_token))).filter(Boolean)).toHaveLength(1);
    expect(await consumeEvents(id)).toHaveLength(1);
  });
});
