import { EntitySchema } from 'typeorm';
import { keyedColumns } from './keyed-columns.ts';

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
    ...keyedColumns,
  },
});
