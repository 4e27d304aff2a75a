// Upstream identity sources — federation connections and directory sources — share these: the
// identity they yield, the connector interfaces, mapping rules, and just-in-time provisioning.
export type { UpstreamIdentity, CallbackConnector, PasswordConnector, CallbackInput, TestFinding, UpstreamReason } from './upstream-identity.ts';
export { UpstreamError } from './upstream-identity.ts';
export { mappingRule, mappingRules, evaluateMappings, type MappingRule, type MappingOutcome } from './mapping-rules.ts';
export { provisionUser, provisionUserIn, provisionNewUsersIn, PROFILE_FIELDS, type BatchProvisioned, type ProvisionEvent, type ProfileField, type UpstreamPolicy, type Provisioned, type ProvisionOptions, type ProvisionCache } from './provision-user.ts';
export { checkMappingTargets, checkMappingGrants, mappingTargetFindings } from './mapping-targets.ts';
