import { EntitySchema } from 'typeorm';
import type { TimeWindow } from '../../authz/index.ts';

export type ScopeType = 'tenant' | 'location' | 'institution' | 'application';
export type AssignmentOrigin =
  | 'manual'
  | 'ldap-group'
  | 'federation-mapping'
  | 'scim'
  | 'delegation'
  | 'elevation'
  | 'break-glass';

/** user-or-team × role × scope × validity × origin. */
export interface Assignment {
  id: string;
  tenantId: string;
  userId: string | null;
  teamId: string | null;
  roleId: string;
  scopeType: ScopeType;
  scopeId: string | null;
  startsAt: Date | null;
  expiresAt: Date | null;
  origin: AssignmentOrigin;
  /** The upstream whose mapping rule granted it (`federation:<key>`, `ldap:<key>`); null when manual. */
  upstream?: string | null;
  /** A weekly window, in the tenant's time zone, outside which it grants nothing; null: always. */
  timeWindow?: TimeWindow | null;
  /** A delegation: the delegator's user id and the assignment of theirs it passes on (ending with it). */
  delegatedBy?: string | null;
  sourceAssignmentId?: string | null;
  /** A partial delegation: only these of the role's permissions; null: the whole role. */
  permissions?: string[] | null;
  createdAt: Date;
}

export const AssignmentEntity = new EntitySchema<Assignment>({
  name: 'Assignment',
  tableName: 'assignments',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    userId: { name: 'user_id', type: 'uuid', nullable: true },
    teamId: { name: 'team_id', type: 'uuid', nullable: true },
    roleId: { name: 'role_id', type: 'uuid' },
    scopeType: { name: 'scope_type', type: 'text' },
    scopeId: { name: 'scope_id', type: 'uuid', nullable: true },
    startsAt: { name: 'starts_at', type: 'timestamptz', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    origin: { type: 'text' },
    upstream: { type: 'text', nullable: true },
    timeWindow: { name: 'time_window', type: 'jsonb', nullable: true },
    delegatedBy: { name: 'delegated_by', type: 'uuid', nullable: true },
    sourceAssignmentId: { name: 'source_assignment_id', type: 'uuid', nullable: true },
    permissions: { type: 'jsonb', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
