// The provider's signers: an ES256 or RS256 JWS they produce verifies against the public key they
// publish (checked by jose, an independent implementation); ES256 signs at once, RS256 on the pool;
// the published half holds no private material; an algorithm Caregate does not sign with is refused.
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { compactVerify, importJWK } from 'jose';
import { localSigningKeys, type PrivateJwk } from './local-signing-key.ts';

function privateJwk(alg: 'ES256' | 'RS256'): PrivateJwk {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...pair.privateKey.export({ format: 'jwk' }), kid: `kid-${alg}`, alg };
}

/** A compact JWS the way oidc-provider assembles one around an ExternalSigningKey. */
async function jws(key: ReturnType<typeof localSigningKeys>[number], payload: object): Promise<string> {
  const parts = [{ alg: key.alg, kid: key.kid }, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'));
  const signature = await key.sign(Buffer.from(parts.join('.')));
  return [...parts, Buffer.from(signature).toString('base64url')].join('.');
}

describe('local signing keys', () => {
  it.each(['ES256', 'RS256'] as const)('a %s signature verifies against the published public key', async (alg) => {
    const jwk = privateJwk(alg);
    const [key] = localSigningKeys([jwk]);
    const published = key!.keyObject() as import('node:crypto').KeyObject;
    expect(published.type).toBe('public');
    expect(published.export({ format: 'jwk' })).not.toHaveProperty('d');
    expect([key!.kid, key!.alg, key!.use]).toEqual([jwk.kid, alg, 'sig']);

    const token = await jws(key!, { sub: 'someone', aud: 'api' });
    const { payload } = await compactVerify(token, await importJWK(published.export({ format: 'jwk' }), alg));
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({ sub: 'someone', aud: 'api' });

    const forged = token.replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ sub: 'admin', aud: 'api' })).toString('base64url')}.`);
    await expect(compactVerify(forged, await importJWK(published.export({ format: 'jwk' }), alg))).rejects.toThrow();
  });

  it('signs ES256 in the calling thread and RS256 on the pool', async () => {
    const [es, rs] = localSigningKeys([privateJwk('ES256'), privateJwk('RS256')]);
    expect(Buffer.isBuffer(es!.sign(Buffer.from('a.b')))).toBe(true);
    const pending = rs!.sign(Buffer.from('a.b'));
    expect(pending).toBeInstanceOf(Promise);
    expect(Buffer.isBuffer(await pending)).toBe(true);
  });

  it('refuses a key of an algorithm Caregate does not sign with', () => {
    const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' }), kid: 'k', alg: 'ES384' };
    expect(() => localSigningKeys([jwk])).toThrow(/ES384 is not one Caregate signs with/);
  });
});
