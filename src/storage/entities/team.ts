import { EntitySchema } from 'typeorm';
import { keyedColumns } from './keyed-columns.ts';

export interface Team {
  id: string;
  tenantId: string;
  key: string;
  name: string;
  createdAt: Date;
}

export interface TeamMember {
  teamId: string;
  userId: string;
  tenantId: string;
  /** The upstream whose mapping rule made this membership; null when an admin did. */
  upstream?: string | null;
}

export const TeamEntity = new EntitySchema<Team>({
  name: 'Team',
  tableName: 'teams',
  columns: {
    ...keyedColumns,
  },
});

export const TeamMemberEntity = new EntitySchema<TeamMember>({
  name: 'TeamMember',
  tableName: 'team_members',
  columns: {
    teamId: { name: 'team_id', type: 'uuid', primary: true },
    userId: { name: 'user_id', type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    upstream: { type: 'text', nullable: true },
  },
});
