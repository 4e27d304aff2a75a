import { EntitySchema } from 'typeorm';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  /** Security policy overrides (see src/accounts/tenant-policy.ts for the shape and defaults). */
  policy: Record<string, any>;
  /** The tenant's user types and custom profile attributes (src/accounts/user-profile.ts). */
  userProfile?: Record<string, any>;
  createdAt: Date;
}

export const TenantEntity = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenants',
  columns: {
    id: { type: 'uuid', primary: true },
    slug: { type: 'text', unique: true },
    name: { type: 'text' },
    policy: { type: 'jsonb', default: {} },
    userProfile: { name: 'user_profile', type: 'jsonb', default: {} },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
