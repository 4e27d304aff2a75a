import { EntitySchema } from 'typeorm';

/** One permission of one application granted to, or denied from, one user on top of their roles (deny wins). */
export interface PermissionOverride {
  id: string;
  tenantId: string;
  userId: string;
  applicationId: string;
  permission: string;
  effect: 'grant' | 'deny';
  createdAt: Date;
}

export const PermissionOverrideEntity = new EntitySchema<PermissionOverride>({
  name: 'PermissionOverride',
  tableName: 'permission_overrides',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid' },
    applicationId: { name: 'application_id', type: 'uuid' },
    permission: { type: 'text' },
    effect: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});

/** Holders of a role, or of a permission, at a scope also hold `targetRoleId` there — derived at token time, never stored per user. */
export interface DerivedRole {
  id: string;
  tenantId: string;
  sourceRoleId: string | null;
  sourcePermission: string | null;
  targetRoleId: string;
  createdAt: Date;
}

export const DerivedRoleEntity = new EntitySchema<DerivedRole>({
  name: 'DerivedRole',
  tableName: 'derived_roles',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    sourceRoleId: { name: 'source_role_id', type: 'uuid', nullable: true },
    sourcePermission: { name: 'source_permission', type: 'text', nullable: true },
    targetRoleId: { name: 'target_role_id', type: 'uuid' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
