// Where a tenant's issuer and the admin API live: plain URLs that callers need without loading the
// OpenID provider itself (a CLI command that builds no provider never imports oidc-provider).
import type { Config } from '../config/index.ts';
import type { Tenant } from '../storage/index.ts';

export const adminResource = (config: Config) => `${config.baseUrl}/admin/api`;
export const issuerOf = (config: Config, tenant: Tenant) => `${config.baseUrl}/t/${tenant.slug}`;
