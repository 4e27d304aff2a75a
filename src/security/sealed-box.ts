// Encryption at rest for secrets in the database (signing keys, client secrets): AES-256-GCM
// under a key derived from the master key per purpose, serialised as "v1.<iv>.<tag>.<ciphertext>".
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface SealedBox {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  /** A stable 32-byte secret for `purpose` (cookie keys), identical on every node. */
  derive(purpose: string): Buffer;
}

export function createSealedBox(masterKey: Buffer): SealedBox {
  if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
  // Derived keys are asked for on hot paths (cookie and CSRF keys per request): derive each once.
  const derived = new Map<string, Buffer>();
  const derive = (purpose: string) => {
    let key = derived.get(purpose);
    if (!key) derived.set(purpose, (key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `caregate:${purpose}`, 32))));
    return key;
  };
  const sealKey = derive('seal:v1');

  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', sealKey, iv);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('unrecognised sealed value');
      const decipher = createDecipheriv('aes-256-gcm', sealKey, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
    derive,
  };
}
