import { EntitySchema } from 'typeorm';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  createdAt: Date;
}

export const TenantEntity = new EntitySchema<Tenant>({
  name: 'Tenant',
  tableName: 'tenants',
  columns: {
    id: { type: 'uuid', primary: true },
    slug: { type: 'text', unique: true },
    name: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
