// caregate/client: permission decisions from claims, and token verification against a live JWKS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { can, createVerifier, type CaregateClaims } from './client.ts';

const claims: CaregateClaims = {
  sub: 'user-1',
  tenant: 'acme',
  tenant_id: 'tenant-1',
  permissions: ['patients:read', 'notes:edit:own'],
  location_permissions: { 'loc-north': ['billing:charges:approve'], 'loc-south': ['schedule:create'] },
};

describe('can', () => {
  it('allows a permission held outright', () => {
    expect(can(claims, 'patients:read')).toBe(true);
  });

  it('refuses a permission not held', () => {
    expect(can(claims, 'patients:delete')).toBe(false);
  });

  it('refuses when the token has no permissions claim at all', () => {
    expect(can({ sub: 'user-1', tenant: 'acme', tenant_id: 't' }, 'patients:read')).toBe(false);
  });

  it('allows an ":own" permission when the record belongs to the subject', () => {
    expect(can(claims, 'notes:edit', { ownerId: 'user-1' })).toBe(true);
  });

  it("refuses an \":own\" permission on someone else's record", () => {
    expect(can(claims, 'notes:edit', { ownerId: 'user-2' })).toBe(false);
  });

  it('refuses an ":own" permission when no owner is given', () => {
    expect(can(claims, 'notes:edit')).toBe(false);
  });

  it('refuses an ":own" permission when the token has no subject', () => {
    const { sub: _ignored, ...anonymous } = claims;
    expect(can(anonymous, 'notes:edit', { ownerId: 'user-1' })).toBe(false);
  });

  it('allows a location permission only at that location', () => {
    expect(can(claims, 'billing:charges:approve', { location: 'loc-north' })).toBe(true);
    expect(can(claims, 'billing:charges:approve', { location: 'loc-south' })).toBe(false);
    expect(can(claims, 'billing:charges:approve')).toBe(false);
  });

  it('still allows tenant-wide permissions at any location', () => {
    expect(can(claims, 'patients:read', { location: 'loc-south' })).toBe(true);
  });

  it('applies the ":own" rule to a location permission too', () => {
    const located: CaregateClaims = { ...claims, permissions: [], location_permissions: { 'loc-north': ['notes:edit:own'] } };
    expect(can(located, 'notes:edit', { location: 'loc-north', ownerId: 'user-1' })).toBe(true);
    expect(can(located, 'notes:edit', { location: 'loc-north', ownerId: 'user-2' })).toBe(false);
    expect(can(located, 'notes:edit', { location: 'loc-south', ownerId: 'user-1' })).toBe(false);
  });
});

describe('createVerifier', () => {
  let server: Server;
  let issuer: string;
  let privateKey: CryptoKey;
  let jwksRequests = 0;
  const audience = 'https://ehr.example';
  const kid = 'key-1';

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url === '/t/acme/jwks') {
        jwksRequests += 1;
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/acme`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sign = (key: CryptoKey, init: { iss?: string; aud?: string; exp?: string | number; kid?: string } = {}) =>
    new SignJWT({ tenant: 'acme', tenant_id: 'tenant-1', permissions: ['patients:read'] })
      .setProtectedHeader({ alg: 'ES256', kid: init.kid ?? kid })
      .setSubject('user-1')
      .setIssuer(init.iss ?? issuer)
      .setAudience(init.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime(init.exp ?? '5m')
      .sign(key);

  it('verifies a token signed with a key from the issuer JWKS and returns its claims', async () => {
    const verify = createVerifier({ issuer, audience });
    const verified = await verify(await sign(privateKey));
    expect(verified.sub).toBe('user-1');
    expect(verified.tenant).toBe('acme');
    expect(can(verified, 'patients:read')).toBe(true);
  });

  it('fetches the JWKS once and reuses it for later tokens', async () => {
    const verify = createVerifier({ issuer, audience });
    const before = jwksRequests;
    await verify(await sign(privateKey));
    await verify(await sign(privateKey));
    await verify(await sign(privateKey));
    expect(jwksRequests - before).toBe(1);
  });

  it('rejects a token signed by a key the issuer did not publish', async () => {
    const verify = createVerifier({ issuer, audience });
    const stranger = await generateKeyPair('ES256');
    await expect(verify(await sign(stranger.privateKey))).rejects.toThrow();
  });

  it('rejects a token for another audience', async () => {
    const verify = createVerifier({ issuer, audience });
    await expect(verify(await sign(privateKey, { aud: 'https://other.example' }))).rejects.toThrow(/aud/);
  });

  it('rejects a token from another issuer', async () => {
    const verify = createVerifier({ issuer, audience });
    await expect(verify(await sign(privateKey, { iss: `${issuer}-evil` }))).rejects.toThrow(/iss/);
  });

  it('rejects an expired token', async () => {
    const verify = createVerifier({ issuer, audience });
    await expect(verify(await sign(privateKey, { exp: Math.floor(Date.now() / 1000) - 600 }))).rejects.toThrow(/exp/);
  });

  it('rejects a token whose signature was altered', async () => {
    const verify = createVerifier({ issuer, audience });
    const token = await sign(privateKey);
    const [header, payload] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), permissions: ['*'] }),
    ).toString('base64url');
    await expect(verify(`${header}.${forgedPayload}.${token.split('.')[2]}`)).rejects.toThrow();
  });
});
