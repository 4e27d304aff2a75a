// A self-signed RSA certificate and its private key, as a SAML service provider's operator makes
// them: for SP metadata, signed AuthnRequests and encrypted assertions in tests. @peculiar/x509 on
// Node's WebCrypto, so no openssl binary is needed.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

export interface SelfSignedCertificate {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
  /** Base64 DER, as metadata carries it (and as Caregate stores it). */
  body: string;
}

export async function selfSignedCertificate(commonName: string): Promise<SelfSignedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: `CN=${commonName}`, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), signingAlgorithm: RSA, keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key, body: cert.toString('base64') };
}
