import { EntitySchema } from 'typeorm';

export type MfaFactorType = 'totp' | 'webauthn' | 'email' | 'sms';

/** A second factor a user enrolled. TOTP secrets are sealed; passkeys keep their public key in data. */
export interface MfaFactor {
  id: string;
  tenantId: string;
  userId: string;
  type: MfaFactorType;
  name: string;
  secretSealed: string | null;
  credentialId: string | null;
  data: Record<string, any>;
  /** Null until the user proved the factor works (first TOTP code, a completed registration). */
  confirmedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
}

export const MfaFactorEntity = new EntitySchema<MfaFactor>({
  name: 'MfaFactor',
  tableName: 'mfa_factors',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    type: { type: 'text' },
    name: { type: 'text' },
    secretSealed: { name: 'secret_sealed', type: 'text', nullable: true },
    credentialId: { name: 'credential_id', type: 'text', nullable: true },
    data: { type: 'jsonb', default: {} },
    confirmedAt: { name: 'confirmed_at', type: 'timestamptz', nullable: true },
    lastUsedAt: { name: 'last_used_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

/** One recovery code, stored as an HMAC; used at most once. */
export interface RecoveryCode {
  id: string;
  tenantId: string;
  userId: string;
  codeHash: string;
  usedAt: Date | null;
  createdAt: Date;
}

export const RecoveryCodeEntity = new EntitySchema<RecoveryCode>({
  name: 'RecoveryCode',
  tableName: 'recovery_codes',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    codeHash: { name: 'code_hash', type: 'text' },
    usedAt: { name: 'used_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

export type ActionPurpose = 'reset' | 'invite';

/** A single-use link (password reset, invitation); only the token's hash is stored. */
export interface ActionToken {
  id: string;
  tenantId: string;
  userId: string;
  purpose: ActionPurpose;
  tokenHash: string;
  expiresAt: Date;
  usedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
}

export const ActionTokenEntity = new EntitySchema<ActionToken>({
  name: 'ActionToken',
  tableName: 'action_tokens',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    purpose: { type: 'text' },
    tokenHash: { name: 'token_hash', type: 'text' },
    expiresAt: { name: 'expires_at', type: 'timestamptz' },
    usedAt: { name: 'used_at', type: 'timestamptz', nullable: true },
    createdBy: { name: 'created_by', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

/** Earlier password hashes, so a tenant can refuse the reuse of the last N. */
export interface PasswordHistory {
  id: string;
  tenantId: string;
  userId: string;
  passwordHash: string;
  createdAt: Date;
}

export const PasswordHistoryEntity = new EntitySchema<PasswordHistory>({
  name: 'PasswordHistory',
  tableName: 'password_history',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    passwordHash: { name: 'password_hash', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
