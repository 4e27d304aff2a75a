import { EntitySchema } from 'typeorm';

/**
 * A named set of permissions ("feature:action" or "feature:action:own"). A role with a parent
 * inherits the parent's permissions, adds `permissions` and drops `removedPermissions`.
 */
export interface Role {
  id: string;
  tenantId: string;
  key: string;
  name: string;
  description: string | null;
  parentId: string | null;
  permissions: string[];
  removedPermissions: string[];
  requiresPhi: boolean;
  /** Permission → limits on it ({"billing:charges:approve": {"maxAmount": 500}}); tokens carry them as `constraints`. */
  constraints: Record<string, { maxAmount?: number }>;
  builtin: boolean;
  createdAt: Date;
}

export const RoleEntity = new EntitySchema<Role>({
  name: 'Role',
  tableName: 'roles',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    key: { type: 'text' },
    name: { type: 'text' },
    description: { type: 'text', nullable: true },
    parentId: { name: 'parent_id', type: 'uuid', nullable: true },
    permissions: { type: 'jsonb' },
    removedPermissions: { name: 'removed_permissions', type: 'jsonb' },
    requiresPhi: { name: 'requires_phi', type: 'boolean' },
    constraints: { name: 'permission_constraints', type: 'jsonb', default: {} },
    builtin: { type: 'boolean' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
