import { EntitySchema } from 'typeorm';

/**
 * A tenant signing key. Lifecycle: `next` (published, not signing) → `current` (signing) →
 * `retired` (published until `retireAt`, so tokens it signed still verify) → deleted.
 */
export interface SigningKey {
  kid: string;
  tenantId: string;
  alg: string;
  status: 'next' | 'current' | 'retired';
  privateJwkSealed: string;
  publicJwk: Record<string, string>;
  createdAt: Date;
  retireAt: Date | null;
  /** Self-signed X.509 certificate of the public key, published in SAML metadata (null until made). */
  certificate: string | null;
}

export const SigningKeyEntity = new EntitySchema<SigningKey>({
  name: 'SigningKey',
  tableName: 'signing_keys',
  columns: {
    kid: { type: 'text', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    alg: { type: 'text' },
    status: { type: 'text' },
    privateJwkSealed: { name: 'private_jwk_sealed', type: 'text' },
    publicJwk: { name: 'public_jwk', type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    retireAt: { name: 'retire_at', type: 'timestamptz', nullable: true },
    certificate: { type: 'text', nullable: true },
  },
});
