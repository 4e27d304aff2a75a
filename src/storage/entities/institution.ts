import { EntitySchema } from 'typeorm';

/** A site of a multi-site study or programme. */
export interface Institution {
  id: string;
  tenantId: string;
  key: string;
  name: string;
  createdAt: Date;
}

export const InstitutionEntity = new EntitySchema<Institution>({
  name: 'Institution',
  tableName: 'institutions',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    key: { type: 'text' },
    name: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
