// The query modules, one per table or aggregate: each owns its SQL and row mapping, and takes the
// executor (the store, or a transaction's Repos) as its first argument.
export * as users from './users.ts';
export * as passwordHistory from './password-history.ts';
export * as identities from './identities.ts';
export * as oidcPayloads from './oidc-payloads.ts';
export * as directorySync from './directory-sync.ts';
export * as actionTokens from './action-tokens.ts';
export * as mfaFactors from './mfa-factors.ts';
export * as directorySources from './directory-sources.ts';
export * as tenants from './tenants.ts';
export * as signingKeys from './signing-keys.ts';
export * as auditEvents from './audit-events.ts';
export * as applications from './applications.ts';
export * as teams from './teams.ts';
export * as assignments from './assignments.ts';
export * as auditChain from './audit-chain.ts';
export * as apiKeys from './api-keys.ts';
export * as networkRules from './network-rules.ts';
export * as signInPlaces from './sign-in-places.ts';
export * as accessRequests from './access-requests.ts';
export * as accessReviews from './access-reviews.ts';
