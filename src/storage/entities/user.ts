import { EntitySchema } from 'typeorm';

export type UserStatus = 'invited' | 'active' | 'disabled' | 'locked' | 'expired';

export interface User {
  id: string;
  tenantId: string;
  username: string;
  email: string | null;
  phone: string | null;
  displayName: string | null;
  status: UserStatus;
  kind: 'human' | 'service';
  phiAccess: boolean;
  outsideVendor: boolean;
  source: string;
  externalId: string | null;
  passwordHash: string | null;
  lastLoginAt: Date | null;
  mustChangePassword: boolean;
  passwordChangedAt: Date | null;
  lockedAt: Date | null;
  expiresAt: Date | null;
  /** When an admin last enabled the account: the inactivity period starts again from here. */
  reenabledAt: Date | null;
  /** The tenant's owner (one), a backup owner, or neither. */
  ownership?: 'owner' | 'backup' | null;
  givenName?: string | null;
  familyName?: string | null;
  /** One of the tenant's user types (physician, nurse, …). */
  userType?: string | null;
  /** Values of the tenant's declared custom profile attributes. */
  attributes?: Record<string, any>;
  /** Their manager (a user of the tenant), who may approve their elevation requests where the tenant's chain says so. */
  managerId?: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    username: { type: 'text' },
    email: { type: 'text', nullable: true },
    phone: { type: 'text', nullable: true },
    displayName: { name: 'display_name', type: 'text', nullable: true },
    status: { type: 'text' },
    kind: { type: 'text' },
    phiAccess: { name: 'phi_access', type: 'boolean' },
    outsideVendor: { name: 'outside_vendor', type: 'boolean' },
    source: { type: 'text' },
    externalId: { name: 'external_id', type: 'text', nullable: true },
    passwordHash: { name: 'password_hash', type: 'text', nullable: true },
    lastLoginAt: { name: 'last_login_at', type: 'timestamptz', nullable: true },
    mustChangePassword: { name: 'must_change_password', type: 'boolean', default: false },
    passwordChangedAt: { name: 'password_changed_at', type: 'timestamptz', nullable: true },
    lockedAt: { name: 'locked_at', type: 'timestamptz', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    reenabledAt: { name: 'reenabled_at', type: 'timestamptz', nullable: true },
    ownership: { type: 'text', nullable: true },
    givenName: { name: 'given_name', type: 'text', nullable: true },
    familyName: { name: 'family_name', type: 'text', nullable: true },
    userType: { name: 'user_type', type: 'text', nullable: true },
    attributes: { type: 'jsonb', default: {} },
    managerId: { name: 'manager_id', type: 'uuid', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

