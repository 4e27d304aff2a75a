import { EntitySchema } from 'typeorm';

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
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
  },
});
