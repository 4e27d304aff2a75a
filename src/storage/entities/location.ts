import { EntitySchema } from 'typeorm';
import { keyedColumns } from './keyed-columns.ts';

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
    ...keyedColumns,
    parentId: { name: 'parent_id', type: 'uuid', nullable: true },
  },
});
