// The key a SAML connection signs its AuthnRequests with, and the self-signed certificate that
// carries its public half in Caregate's SP metadata. One pair per connection, so rotating or
// revoking one IdP's trust touches no other. Self-signed is what SAML expects here: the IdP pins
// the certificate from metadata, it does not walk a chain.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const CERT_YEARS = 10;

export interface SpKeys {
  /** PKCS#8 PEM private key (sealed with the connection's secrets). */
  spKeyPem: string;
  /** Base64 DER certificate, as metadata carries it. */
  spCertificate: string;
}

/** A fresh RSA 2048 key and a ten-year self-signed certificate whose subject is `CN=<name>, O=Caregate`. */
export async function createSpKeys(name: string): Promise<SpKeys> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  // A minute in the past, so an IdP whose clock runs slightly behind accepts it at once.
  const notBefore = new Date(Date.now() - 60_000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: [{ CN: [name.slice(0, 64)] }, { O: ['Caregate'] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + CERT_YEARS * 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: RSA,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return {
    spKeyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`,
    spCertificate: cert.toString('base64'),
  };
}
