// Columns shared by the tenant's keyed directory objects (locations, institutions, teams).
import type { EntitySchemaColumnOptions } from 'typeorm';

export const keyedColumns = {
  id: { type: 'uuid', primary: true },
  tenantId: { name: 'tenant_id', type: 'uuid' },
  key: { type: 'text' },
  name: { type: 'text' },
  createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
} satisfies Record<string, EntitySchemaColumnOptions>;
