import { EntitySchema } from 'typeorm';

/** An upstream identity provider a tenant federates with (OIDC or SAML). */
export interface Connection {
  id: string;
  tenantId: string;
  /** Stable name within the tenant: in URLs and in users' source (`federation:<key>`). */
  key: string;
  name: string;
  type: 'oidc' | 'saml';
  preset: string;
  /** Validated by src/federation/connection-settings.ts on every write. */
  settings: Record<string, unknown>;
  secretsSealed: string | null;
  /** Email domains this connection claims for home-realm discovery (lowercase). */
  domains: string[];
  /** Mapping rules, in order (src/upstream/mapping-rules.ts). */
  mappings: unknown[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** Which upstream subject is which user. */
export interface UserIdentity {
  id: string;
  tenantId: string;
  userId: string;
  /** `federation:<connection key>` or `ldap:<source key>`. */
  upstream: string;
  subject: string;
  email: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
  /** When the upstream (a directory sync) disabled the user; only such users does it re-enable. */
  disabledAt?: Date | null;
  /** Directory profile: employee id, department, title, manager, given and family name. */
  profile?: Record<string, string> | null;
  /** Digest of what a sync last applied: an entry that has not changed is skipped. */
  syncDigest?: string | null;
}

export const ConnectionEntity = new EntitySchema<Connection>({
  name: 'Connection',
  tableName: 'connections',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    key: { type: 'text' },
    name: { type: 'text' },
    type: { type: 'text' },
    preset: { type: 'text' },
    settings: { type: 'jsonb' },
    secretsSealed: { name: 'secrets_sealed', type: 'text', nullable: true },
    domains: { type: 'jsonb' },
    mappings: { type: 'jsonb' },
    enabled: { type: 'boolean' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

export const UserIdentityEntity = new EntitySchema<UserIdentity>({
  name: 'UserIdentity',
  tableName: 'user_identities',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    upstream: { type: 'text' },
    subject: { type: 'text' },
    email: { type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    lastLoginAt: { name: 'last_login_at', type: 'timestamptz', nullable: true },
    disabledAt: { name: 'disabled_at', type: 'timestamptz', nullable: true },
    profile: { type: 'jsonb', nullable: true },
    syncDigest: { name: 'sync_digest', type: 'text', nullable: true },
  },
});
