// createVerifier: a Caregate access token verified against a live JWKS, and the failures a forger
// or a stale client would meet; failures that are not the token's fault are told apart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { can } from './can.ts';
import { createVerifier } from './create-verifier.ts';
import { InvalidTokenError } from './invalid-token-error.ts';

describe('createVerifier', () => {
  let server: Server;
  let issuer: string;
  let privateKey: CryptoKey;
  let psKey: CryptoKey;
  let jwksRequests = 0;
  const audience = 'https://ehr.example';

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    const ps = await generateKeyPair('PS256');
    privateKey = pair.privateKey;
    psKey = ps.privateKey;
    const keys: JWK[] = [
      { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(ps.publicKey)), kid: 'key-ps', alg: 'PS256', use: 'sig' },
    ];
    server = createServer((req, res) => {
      if (req.url === '/t/acme/jwks') {
        jwksRequests += 1;
        res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
        res.end(JSON.stringify({ keys }));
      } else {
        res.writeHead(500).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/acme`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sign = (key: CryptoKey, init: { iss?: string; aud?: string; exp?: string | number; kid?: string; typ?: string; alg?: string } = {}) =>
    new SignJWT({ tenant: 'acme', tenant_id: 'tenant-1', permissions: ['patients:read'] })
      .setProtectedHeader({ alg: init.alg ?? 'ES256', kid: init.kid ?? 'key-1', typ: init.typ ?? 'at+jwt' })
      .setSubject('user-1')
      .setIssuer(init.iss ?? issuer)
      .setAudience(init.aud ?? audience)
      .setIssuedAt()
      .setExpirationTime(init.exp ?? '5m')
      .sign(key);

  const rejection = async (promise: Promise<unknown>) => promise.then(() => { throw new Error('the token was accepted'); }, (error: unknown) => error);

  it('verifies a token signed with a key from the issuer JWKS and returns its claims', async () => {
    const verify = createVerifier({ issuer, audience });
    const verified = await verify(await sign(privateKey));
    expect(verified.sub).toBe('user-1');
    expect(verified.tenant).toBe('acme');
    expect(can(verified, 'patients:read')).toBe(true);
    expect([verify.issuer, verify.audience]).toEqual([issuer, audience]);
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
    const error = await rejection(verify(await sign(stranger.privateKey)));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as InvalidTokenError).reason).toBe('invalid');
  });

  it('rejects a token for another audience', async () => {
    const verify = createVerifier({ issuer, audience });
    const error = await rejection(verify(await sign(privateKey, { aud: 'https://other.example' })));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(String((error as Error).cause)).toMatch(/aud/);
  });

  it('rejects a token from another issuer', async () => {
    const verify = createVerifier({ issuer, audience });
    const error = await rejection(verify(await sign(privateKey, { iss: `${issuer}-evil` })));
    expect(String((error as Error).cause)).toMatch(/iss/);
  });

  it('rejects an expired token, saying it expired', async () => {
    const verify = createVerifier({ issuer, audience });
    const error = await rejection(verify(await sign(privateKey, { exp: Math.floor(Date.now() / 1000) - 600 })));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as InvalidTokenError).reason).toBe('expired');
  });

  it('accepts a just-expired token within the configured clock tolerance', async () => {
    const verify = createVerifier({ issuer, audience, clockTolerance: 120 });
    await expect(verify(await sign(privateKey, { exp: Math.floor(Date.now() / 1000) - 30 }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('rejects an ID token or any JWT of the issuer that is not typed as an access token (RFC 9068)', async () => {
    const verify = createVerifier({ issuer, audience });
    for (const typ of ['JWT', 'id_token+jwt']) {
      expect(await rejection(verify(await sign(privateKey, { typ })))).toBeInstanceOf(InvalidTokenError);
    }
    await expect(verify(await sign(privateKey, { typ: 'application/at+jwt' }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('rejects an algorithm Caregate does not sign with, even with its key in the JWKS', async () => {
    const verify = createVerifier({ issuer, audience });
    expect(await rejection(verify(await sign(psKey, { alg: 'PS256', kid: 'key-ps' })))).toBeInstanceOf(InvalidTokenError);
  });

  it('rejects a token whose payload was altered', async () => {
    const verify = createVerifier({ issuer, audience });
    const token = await sign(privateKey);
    const [header, payload, signature] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), permissions: ['*'] }),
    ).toString('base64url');
    expect(await rejection(verify(`${header}.${forgedPayload}.${signature}`))).toBeInstanceOf(InvalidTokenError);
  });

  it('rejects an unsigned token (alg "none")', async () => {
    const verify = createVerifier({ issuer, audience });
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ iss: issuer, aud: audience, sub: 'user-1', exp: now + 300 })}.`;
    expect(await rejection(verify(unsigned))).toBeInstanceOf(InvalidTokenError);
  });

  it('rejects something that is not a JWT at all', async () => {
    const verify = createVerifier({ issuer, audience });
    expect(await rejection(verify('not-a-token'))).toBeInstanceOf(InvalidTokenError);
  });

  it('fails with something other than InvalidTokenError when the JWKS cannot be had, so a good token is not called bad', async () => {
    const broken = createVerifier({ issuer: issuer.replace('/t/acme', '/t/broken'), audience });
    const error = await rejection(broken(await sign(privateKey)));
    expect(error).not.toBeInstanceOf(InvalidTokenError);
    expect(String(error)).toMatch(/200 OK/);
  });
});
