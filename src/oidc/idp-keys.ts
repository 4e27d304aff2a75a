// The tenant's SAML signing key is its RS256 OIDC signing key, so one rotation (`caregate keys
// rotate`) rolls both protocols: each RS256 key gets a self-signed X.509 certificate (SAML
// metadata carries certificates, not JWKs), created once and stored beside the key. Metadata
// publishes the current and the next certificate, so service providers that refresh metadata
// already trust the next key when a rotation makes it current.
import { createPrivateKey, webcrypto, type JsonWebKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { IsNull, type Storage, type Tenant } from '../storage/index.ts';
import type { IdpKeys } from '../saml/index.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CERT_YEARS = 10;

type Jwk = JsonWebKey & { kid: string; alg?: string };

async function selfSigned(tenant: Tenant, jwk: Jwk): Promise<string> {
  const { kid, alg, use, key_ops, ...material } = jwk as Jwk & { use?: string; key_ops?: string[] };
  const privateKey = await webcrypto.subtle.importKey('jwk', material, RSA, false, ['sign']);
  const { n, e, kty } = material;
  const publicKey = await webcrypto.subtle.importKey('jwk', { n, e, kty }, RSA, true, ['verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(kid.replace(/-/g, ''), 'hex').toString('hex').slice(0, 32) || '01',
    name: [{ CN: [tenant.slug] }, { O: ['Caregate'] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + CERT_YEARS * 365 * 24 * 3600 * 1000),
    keys: { privateKey, publicKey },
    signingAlgorithm: RSA,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return Buffer.from(cert.rawData).toString('base64');
}

/**
 * The tenant's SAML keys from its loaded JWKS (current keys first, as the provider registry
 * loads them). Certificates missing for current or next RS256 keys are made here; when two nodes
 * race, the first stored certificate wins and both use it.
 */
export async function loadIdpKeys(storage: Storage, tenant: Tenant, jwks: Jwk[]): Promise<IdpKeys> {
  const rows = await storage.signingKeys.findBy({ tenantId: tenant.id, alg: 'RS256' });
  for (const row of rows.filter((r) => r.status !== 'retired' && !r.certificate)) {
    const jwk = jwks.find((k) => k.kid === row.kid);
    if (!jwk) continue;
    await storage.signingKeys.update({ kid: row.kid, certificate: IsNull() }, { certificate: await selfSigned(tenant, jwk) });
  }
  const stored = new Map((await storage.signingKeys.findBy({ tenantId: tenant.id, alg: 'RS256' })).map((r) => [r.kid, r]));
  const current = jwks.find((k) => k.alg === 'RS256' && stored.get(k.kid)?.status === 'current');
  const currentRow = current && stored.get(current.kid);
  if (!current || !currentRow?.certificate) throw new Error(`tenant ${tenant.slug} has no current RS256 key with a certificate`);
  const next = [...stored.values()].filter((r) => r.status === 'next' && r.certificate).map((r) => r.certificate!);
  return {
    signing: { privateKey: createPrivateKey({ key: current as JsonWebKey, format: 'jwk' }), certificate: currentRow.certificate },
    published: [currentRow.certificate, ...next],
  };
}
