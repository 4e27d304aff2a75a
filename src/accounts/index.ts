// Account administration: the services behind the CLI and the admin API.
import type { AccountsContext } from './context.ts';
import { createTenantService } from './tenant-service.ts';
import { createUserService } from './user-service.ts';
import { createRoleService } from './role-service.ts';
import { createAssignmentService } from './assignment-service.ts';
import { createDelegationService, delegationInput } from './delegation-service.ts';
import { createKeyedService } from './keyed-service.ts';
import { createTeamService, createTeamMembership } from './team-service.ts';
import { createApplicationService, findSamlApplication, secretContext } from './application-service.ts';
import { createOwnershipService } from './ownership-service.ts';
import { createCapabilityService } from './admin-capabilities.ts';
import { createBulkService, bulkRequest } from './bulk-service.ts';
import { createAccessRuleService, overrideInput, derivedRoleInput } from './access-rule-service.ts';
import { createApiKeyService } from './api-key-service.ts';
import { createServiceAccountAdmin } from './service-account-admin.ts';
import { createAccessReviews } from './access-review-service.ts';
import { createNetworkRuleService, networkRuleInput } from './network-rule-service.ts';

export function createAccounts(ctx: AccountsContext) {
  const users = createUserService(ctx);
  const services = {
    tenants: createTenantService(ctx),
    users,
    bulk: createBulkService(ctx, users),
    accessRules: createAccessRuleService(ctx),
    roles: createRoleService(ctx),
    assignments: createAssignmentService(ctx),
    delegations: createDelegationService(ctx),
    locations: createKeyedService('location', ctx),
    institutions: createKeyedService('institution', ctx),
    teams: createTeamService(ctx),
    teamMembers: createTeamMembership(ctx),
    applications: createApplicationService(ctx),
    ownership: createOwnershipService(ctx),
    capabilities: createCapabilityService(ctx),
    serviceAccounts: createServiceAccountAdmin(ctx),
    apiKeys: createApiKeyService(ctx),
    networkRules: createNetworkRuleService(ctx),
  };
  return { ...services, reviews: createAccessReviews(ctx, services) };
}
export type Accounts = ReturnType<typeof createAccounts>;

export type { AccountsContext, Actor } from './context.ts';
export type { DelegationService } from './delegation-service.ts';
export { requireTenant } from './context.ts';
export { loadAuthzSnapshot } from './load-authz-snapshot.ts';
export { createOneTimeGrants, withoutOneTime, type IssuanceParty, type OneTimeGrants } from './one-time-grants.ts';
export { assertMayGrant, assertMayChangeMembership, assertMayManageUser, type Grant } from './grant-guard.ts';
export { resolveScope } from './assignment-service.ts';
export { claimedAttributes, resolveUserProfile, userProfileSchema, DEFAULT_USER_TYPES, type UserProfileSchema } from './user-profile.ts';
export { bulkRequest, overrideInput, derivedRoleInput, delegationInput };
export { loadAuthority, OutOfScopeError, type Authority, type AdminTarget } from './admin-authority.ts';
export { loadRoleDefinitions } from './role-definitions.ts';
export { publicUser, dropPhiAssignments } from './user-service.ts';
export { createClaimsCache, type ClaimsCache } from './claims-cache.ts';
export { bootstrap, type BootstrapResult } from './bootstrap.ts';
export { adminCatalogue } from './builtin-roles.ts';
export { secretContext, findSamlApplication };
export * as schemas from './schemas.ts';
export { parseInput } from './parse-input.ts';
export { tenantPolicySchema, resolvePolicy, mergePolicy, sessionLimitsFor, type TenantPolicy, type TenantPolicyInput } from './tenant-policy.ts';
export { createFactorService, publicFactor, type FactorService, type PasskeyData } from './factor-service.ts';
export { createPasswordService, PasswordPolicyError, type PasswordService } from './password-service.ts';
export { mfaNeed, policyRequiresMfa, activeRoleKeys, requestDemandsMfa, CONSOLE_CLIENT_ID, type MfaNeed } from './mfa-requirement.ts';
export { createSessionIndex, accountSessionsKey, revokeGrants, describeDevice, type SessionIndex, type SessionSummary, type SessionLimits, type SessionLimitsFor } from './session-index.ts';
export { createActionLinks, type ActionLinks, type LinkCheck } from './action-link-service.ts';
export { canSignIn, signInRefusal } from './can-sign-in.ts';
export { createAccountSecurity, type AccountSecurity } from './account-security-service.ts';
export { loadTenantPolicy, createSessionLimits } from './policy-loader.ts';
export { expireInactiveAccounts, scheduleInactivitySweep, type ExpiredAccount } from './inactivity.ts';
export { createEmergencyAccess, REAUTH_SECONDS, type EmergencyAccess, type EmergencyAccessDeps, type Reauthentication } from './emergency-access-service.ts';
export { createElevations, APPROVE_PERMISSION, type Elevations } from './elevation-service.ts';
export { createBreakGlassApprovals, type BreakGlassApprovals } from './break-glass-approvals.ts';
export { scheduleAccessSweeps } from './access-sweeps.ts';
export { signEmergencyWebhook, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from './access-alerts.ts';
export { breakGlassRuleInput, decisionInput, elevationInput, emergencySettingsInput, invokeInput, requestFilter, reviewInput } from './emergency-access-rules.ts';
export { looksLikeApiKey, type ApiKeyCheck } from './api-key-gate.ts';
export { apiKeyInput, apiKeyRotation, serviceAccountInput } from './api-key-rules.ts';
export { type AccessReviews } from './access-review-service.ts';
export { campaignInput, reviewDecisionInput, REVIEW_DECIDE, REVIEW_MANAGE } from './access-review-rules.ts';
export { closeDueCampaigns, remindReviewers, scheduleAccessReviews } from './access-review-jobs.ts';
export { REVIEW_REPORT_COLUMNS } from './access-review-report.ts';
export { networkRuleInput };
export { loadNetworkRules, addressMaySignIn, snapshotFrom, deviceKnown, noteSignInPlace, holdsPhiRole } from './network-access.ts';
