// Signing key rotation as a relying party sees it: the key published as `next` starts signing,
// a new `next` is published at once, and the retired key stays published until its retireAt (so
// tokens it signed keep verifying) and disappears after it.
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet } from 'jose';
import { jest } from '@jest/globals';
import { LocalSigningKey } from '../../../src/oidc/local-signing-key.ts';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createAgent, signIn, type Agent } from '../../support/browser-agent.ts';

const REDIRECT = 'https://chart.example/cb';
const RESOURCE = 'https://chart.example/api';
const PASSWORD = 'first-long-password-of-tests';
const cli = { type: 'cli' as const, id: 'test' };
/** CAREGATE_KEY_CHECK_INTERVAL for this suite: how soon the provider notices a key change, seconds. */
const KEY_CHECK_SECONDS = 1;

let cg: TestCaregate;
let tenantId: string;
let agent: Agent;
const apps = {} as Record<'ES256' | 'RS256', { client_id: string; client_secret?: string }>;

beforeAll(async () => {
  cg = await startTestCaregate({ overrides: { keyCheckInterval: KEY_CHECK_SECONDS } });
  tenantId = (await cg.runtime.accounts.tenants.findBySlug('demo'))!.id;
  const a = cg.runtime.accounts;
  apps.ES256 = await a.applications.create('demo', { name: 'Chart', redirectUris: [REDIRECT], resource: RESOURCE, permissions: ['reports:read'] }, cli);
  apps.RS256 = await a.applications.create('demo', { name: 'Records', redirectUris: [REDIRECT], idTokenSignedResponseAlg: 'RS256' }, cli);
  await a.users.create('demo', { username: 'alice', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
  agent = createAgent();
});

afterAll(async () => cg?.close());

type Jwks = JSONWebKeySet & { keys: Array<{ kid: string; alg: string }> };

async function publishedJwks(): Promise<Jwks> {
  const res = await fetch(`${cg.issuer()}/jwks`);
  expect(res.status).toBe(200);
  return (await res.json()) as Jwks;
}

/** A fresh ID token (and, for the ES256 app, a JWT access token) through the code flow. */
async function tokensFor(alg: 'ES256' | 'RS256') {
  const config = await oidc.discovery(new URL(cg.issuer()), apps[alg].client_id, apps[alg].client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const resource: Record<string, string> = alg === 'ES256' ? { resource: RESOURCE } : {};
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 's',
    ...resource,
  });
  const back = await signIn(agent, url.href, 'alice', PASSWORD, REDIRECT);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: 's' }, resource);
  return { idToken: tokens.id_token!, accessToken: tokens.access_token, clientId: apps[alg].client_id };
}

const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid!;
const kids = (jwks: Jwks, alg?: string) => jwks.keys.filter((k) => !alg || k.alg === alg).map((k) => k.kid).sort();

describe('the signer', () => {
  it('signs every ID token and JWT access token with the tenant\'s keys through node:crypto (LocalSigningKey), not jose\'s WebCrypto', async () => {
    const sign = jest.spyOn(LocalSigningKey.prototype, 'sign');
    try {
      const es = await tokensFor('ES256');
      const rs = await tokensFor('RS256');
      const signedBy = sign.mock.contexts.map((key) => (key as LocalSigningKey).kid);
      expect(signedBy).toEqual(expect.arrayContaining([kidOf(es.idToken), kidOf(es.accessToken), kidOf(rs.idToken)]));
    } finally {
      sign.mockRestore();
    }
  });
});

describe('after a rotation with a retention period', () => {
  let before: { jwks: Jwks; es: Awaited<ReturnType<typeof tokensFor>>; rs: Awaited<ReturnType<typeof tokensFor>> };
  let rotated: { current: string[]; next: string[]; retired: string[] };
  /** The key of each algorithm that was published, not signing, before the rotation. */
  const nextBefore = {} as Record<'ES256' | 'RS256', string>;

  beforeAll(async () => {
    before = { jwks: await publishedJwks(), es: await tokensFor('ES256'), rs: await tokensFor('RS256') };
    nextBefore.ES256 = kids(before.jwks, 'ES256').find((kid) => kid !== kidOf(before.es.idToken))!;
    nextBefore.RS256 = kids(before.jwks, 'RS256').find((kid) => kid !== kidOf(before.rs.idToken))!;
    rotated = await cg.runtime.providers.keys.rotate(tenantId, 600);
    cg.runtime.providers.invalidate('demo');
  });

  it('still verifies tokens signed before the rotation: the retired keys stay published', async () => {
    const jwks = await publishedJwks();
    expect(rotated.retired.sort()).toEqual([kidOf(before.es.idToken), kidOf(before.rs.idToken)].sort());
    expect(kids(jwks)).toEqual(expect.arrayContaining(rotated.retired));
    const local = createLocalJWKSet(jwks);
    await expect(jwtVerify(before.es.idToken, local, { issuer: cg.issuer(), audience: before.es.clientId })).resolves.toBeDefined();
    await expect(jwtVerify(before.es.accessToken, local, { issuer: cg.issuer(), audience: RESOURCE })).resolves.toBeDefined();
    await expect(jwtVerify(before.rs.idToken, local, { issuer: cg.issuer(), audience: before.rs.clientId })).resolves.toBeDefined();
  });

  it('signs new tokens with the key that was published as next before the rotation', async () => {
    expect(rotated.current.sort()).toEqual([nextBefore.ES256, nextBefore.RS256].sort());
    const es = await tokensFor('ES256');
    const rs = await tokensFor('RS256');
    expect(kidOf(es.idToken)).toBe(nextBefore.ES256);
    expect(kidOf(es.accessToken)).toBe(nextBefore.ES256);
    expect(kidOf(rs.idToken)).toBe(nextBefore.RS256);
    const local = createLocalJWKSet(await publishedJwks());
    await expect(jwtVerify(es.idToken, local, { issuer: cg.issuer(), audience: es.clientId })).resolves.toBeDefined();
  });

  it('publishes a new next key for each algorithm at once, before it signs anything', async () => {
    const jwks = await publishedJwks();
    expect(rotated.next).toHaveLength(2);
    for (const kid of rotated.next) expect(kids(before.jwks)).not.toContain(kid);
    expect(kids(jwks)).toEqual([...rotated.retired, ...rotated.current, ...rotated.next].sort());
    expect(jwks.keys.every((k) => (k as { d?: string }).d === undefined)).toBe(true);
  });
});

describe('once a retired key\'s retireAt has passed', () => {
  it('drops it from the JWKS within the key check interval, so its tokens stop verifying, and keeps retirees still within their period', async () => {
    const retainedLong = (await cg.runtime.providers.keys.rotate(tenantId, 600)).retired;
    cg.runtime.providers.invalidate('demo');
    const es = await tokensFor('ES256');
    const rs = await tokensFor('RS256');
    const shortLived = [kidOf(es.idToken), kidOf(rs.idToken)].sort();
    const rotated = await cg.runtime.providers.keys.rotate(tenantId, 1);
    cg.runtime.providers.invalidate('demo');
    expect(rotated.retired.sort()).toEqual([...retainedLong, ...shortLived].sort());
    expect(kids(await publishedJwks())).toEqual(expect.arrayContaining(shortLived));

    // No invalidate() from here on: the provider has to notice the expiry by itself.
    const deadline = Date.now() + (1 + KEY_CHECK_SECONDS) * 1000 + 5000;
    let jwks = await publishedJwks();
    while (shortLived.some((kid) => kids(jwks).includes(kid)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      jwks = await publishedJwks();
    }
    expect(kids(jwks)).toEqual([...retainedLong, ...rotated.current, ...rotated.next].sort());
    await expect(jwtVerify(es.idToken, createLocalJWKSet(jwks), { issuer: cg.issuer() })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(jwtVerify(rs.idToken, createLocalJWKSet(jwks), { issuer: cg.issuer() })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });
});
