import { TenantEntity } from './tenant.ts';
import { UserEntity } from './user.ts';
import { LocationEntity } from './location.ts';
import { InstitutionEntity } from './institution.ts';
import { TeamEntity, TeamMemberEntity } from './team.ts';
import { RoleEntity } from './role.ts';
import { AssignmentEntity } from './assignment.ts';
import { ApplicationEntity } from './application.ts';
import { SigningKeyEntity } from './signing-key.ts';
import { OidcPayloadEntity } from './oidc-payload.ts';
import { AuditEventEntity } from './audit-event.ts';
import { ConnectionEntity, UserIdentityEntity } from './connection.ts';
import { DirectorySourceEntity, DirectoryRunEntity } from './directory-source.ts';
import { MfaFactorEntity, RecoveryCodeEntity, ActionTokenEntity, PasswordHistoryEntity } from './account-security.ts';
import { PermissionOverrideEntity, DerivedRoleEntity } from './access-rule.ts';

export {
  TenantEntity,
  UserEntity,
  LocationEntity,
  InstitutionEntity,
  TeamEntity,
  TeamMemberEntity,
  RoleEntity,
  AssignmentEntity,
  ApplicationEntity,
  SigningKeyEntity,
  OidcPayloadEntity,
  AuditEventEntity,
  MfaFactorEntity,
  RecoveryCodeEntity,
  ActionTokenEntity,
  PasswordHistoryEntity,
  ConnectionEntity,
  UserIdentityEntity,
  DirectorySourceEntity,
  DirectoryRunEntity,
  PermissionOverrideEntity,
  DerivedRoleEntity,
};

export const entities = [
  TenantEntity,
  UserEntity,
  LocationEntity,
  InstitutionEntity,
  TeamEntity,
  TeamMemberEntity,
  RoleEntity,
  AssignmentEntity,
  ApplicationEntity,
  SigningKeyEntity,
  OidcPayloadEntity,
  AuditEventEntity,
  MfaFactorEntity,
  RecoveryCodeEntity,
  ActionTokenEntity,
  PasswordHistoryEntity,
  ConnectionEntity,
  UserIdentityEntity,
  DirectorySourceEntity,
  DirectoryRunEntity,
  PermissionOverrideEntity,
  DerivedRoleEntity,
];

export type { Tenant } from './tenant.ts';
export type { User, UserStatus } from './user.ts';
export type { Location } from './location.ts';
export type { Institution } from './institution.ts';
export type { Team, TeamMember } from './team.ts';
export type { Role } from './role.ts';
export type { Assignment, ScopeType, AssignmentOrigin } from './assignment.ts';
export type { Application } from './application.ts';
export type { SigningKey } from './signing-key.ts';
export type { OidcPayload } from './oidc-payload.ts';
export type { AuditEvent } from './audit-event.ts';
export type { Connection, UserIdentity } from './connection.ts';
export type { DirectorySource, DirectoryRun, DirectoryRunStatus } from './directory-source.ts';
export type { MfaFactor, MfaFactorType, RecoveryCode, ActionToken, ActionPurpose, PasswordHistory } from './account-security.ts';
export type { PermissionOverride, DerivedRole } from './access-rule.ts';
export type { ApiKey } from './api-key.ts';
export type { ReviewCampaign, ReviewItem, ReviewDecision } from './access-review.ts';
export type { NetworkRule, SignInPlace } from './network-rule.ts';
export type { AccessApproval, AccessRequest, AccessRequestKind, AccessRequestStatus, ApprovalLevel, BreakGlassRule, EmergencySettings, ReviewOutcome } from './emergency-access.ts';
