import { EntitySchema } from 'typeorm';

/** A clinic site or region; `parentId` forms the hierarchy through which roles reach sub-sites. */
export interface Location {
  id: string;
  tenantId: string;
  key: string;
  name: string;
  parentId: string | null;
  createdAt: Date;
}

export const LocationEntity = new EntitySchema<Location>({
  name: 'Location',
  tableName: 'locations',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    key: { type: 'text' },
    name: { type: 'text' },
    parentId: { name: 'parent_id', type: 'uuid', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
