// The tenant's signing keys as oidc-provider's ExternalSigningKey (its supported way to hand it a
// signer): every JWT it issues — access tokens for an API, ID tokens, logout tokens — is signed
// here with node:crypto instead of through jose's WebCrypto.
//
// Why: WebCrypto signs every ES256 JWT as an asynchronous job on libuv's thread pool, so each
// signature is a hand-over to a pool thread and back — where argon2 also runs — for about 30 µs of
// arithmetic. Measured on one core (20,000 signatures of an access token): 65–77 µs of CPU each
// through jose, 29–31 µs with `crypto.sign`. An ES256 signature is now done where it is asked for.
// RS256 (2048-bit, about 1 ms) still goes to the pool, through `crypto.sign`'s callback form, so a
// client that asks for RS256 ID tokens does not hold up the event loop.
import { createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';

export type PrivateJwk = JsonWebKey & { kid: string; alg: string };

/** The JWS algorithms Caregate signs with: node:crypto's digest and signature encoding, and whether to leave the event loop. */
const SIGNERS: Record<string, { digest: string; dsaEncoding?: 'ieee-p1363'; onPool: boolean }> = {
  ES256: { digest: 'sha256', dsaEncoding: 'ieee-p1363', onPool: false },
  RS256: { digest: 'sha256', onPool: true },
};

export class LocalSigningKey extends ExternalSigningKey {
  readonly #kid: string;
  readonly #alg: string;
  readonly #digest: string;
  readonly #onPool: boolean;
  /** The private key with its signature encoding, as sign() takes it. */
  readonly #signingKey: SignKeyObjectInput;
  readonly #publicKey: KeyObject;

  constructor(jwk: PrivateJwk) {
    super();
    const signer = SIGNERS[jwk.alg];
    if (!signer) throw new Error(`signing key ${jwk.kid}: algorithm ${jwk.alg} is not one Caregate signs with`);
    this.#kid = jwk.kid;
    this.#alg = jwk.alg;
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    this.#digest = signer.digest;
    this.#onPool = signer.onPool;
    this.#signingKey = signer.dsaEncoding ? { key: privateKey, dsaEncoding: signer.dsaEncoding } : { key: privateKey };
    this.#publicKey = createPublicKey(privateKey);
  }

  override get kid(): string {
    return this.#kid;
  }

  override get alg(): string {
    return this.#alg;
  }

  /** The public half: what oidc-provider publishes (kty, crv, x, y, n, e) and verifies with. */
  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  override sign(data: Buffer): Buffer | Promise<Buffer> {
    if (!this.#onPool) return sign(this.#digest, data, this.#signingKey);
    return new Promise((resolve, reject) => sign(this.#digest, data, this.#signingKey, (error, signature) => (error ? reject(error) : resolve(signature))));
  }
}

/** oidc-provider's `jwks`: one signer per private JWK, in the order given (current keys first). */
export function localSigningKeys(jwks: readonly PrivateJwk[]): ExternalSigningKey[] {
  return jwks.map((jwk) => new LocalSigningKey(jwk));
}
