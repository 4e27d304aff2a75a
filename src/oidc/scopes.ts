// The public token contract: which scope requests which claim (documented in docs/tokens-and-claims.md).
export const SCOPE_CLAIMS = {
  openid: ['sub', 'tenant', 'tenant_id', 'acr', 'amr', 'auth_time'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username', 'updated_at', 'user_type', 'vendor', 'attributes'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  roles: ['roles', 'permissions', 'phi', 'constraints', 'delegated_from', 'break_glass'],
  locations: ['locations', 'location_permissions'],
  institutions: ['institutions'],
  teams: ['teams'],
};

/** claim → the scope that requests it. */
export const SCOPE_OF_CLAIM: Record<string, string> = Object.fromEntries(
  Object.entries(SCOPE_CLAIMS).flatMap(([scope, claims]) => claims.map((claim) => [claim, scope])),
);

export const ACR = {
  password: 'urn:caregate:acr:pwd',
  mfa: 'urn:caregate:acr:mfa',
} as const;

export const ACR_VALUES = [ACR.password, ACR.mfa];
