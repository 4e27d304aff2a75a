import { EntitySchema } from 'typeorm';

/** A relying application: its OIDC client registration and its permission catalogue. */
export interface Application {
  id: string;
  tenantId: string;
  name: string;
  clientId: string;
  /** Client secret sealed with the master key; null for public clients. */
  clientSecretSealed: string | null;
  /** After a rotation, the secret before it (sealed), still accepted until previousSecretExpiresAt. */
  previousSecretSealed: string | null;
  previousSecretExpiresAt: Date | null;
  public: boolean;
  /** Ask the user to approve the requested scopes (else the tenant's admin approved the app). */
  requireConsent: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  /** Resource indicator (RFC 8707) that names this application's API; the access token audience. */
  resource: string;
  /** Other applications' APIs this application may request tokens for (its own is always allowed). */
  allowedResources: string[];
  /** May request tokens for the Caregate admin API (an admin console, a provisioning job). */
  adminApi: boolean;
  /** Catalogue of permissions this application understands, e.g. "notes:edit:own". */
  permissions: string[];
  idTokenSignedResponseAlg: string | null;
  backchannelLogoutUri: string | null;
  /** Service account whose role assignments give client-credentials tokens their permissions. */
  serviceUserId: string | null;
  /** Its SAML service provider settings, validated on every write; null when it speaks only OIDC. */
  saml: ApplicationSaml | null;
  builtin: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A SAML service provider's settings as stored (applications.saml, one JSON document). The SAML
 * toolkit's schema (src/saml/settings.ts) validates every write and produces exactly this shape;
 * the compiler holds the two together where settings are written and where the SAML endpoints read them.
 */
export interface ApplicationSaml {
  entityId: string;
  acs: { url: string; index: number; isDefault: boolean }[];
  slo: { url: string; binding: 'redirect' | 'post'; responseUrl?: string } | null;
  signingCertificates: string[];
  encryptionCertificate: string | null;
  nameIdFormat: 'persistent' | 'transient' | 'email' | 'unspecified';
  signResponse: boolean;
  signAssertion: boolean;
  encryptAssertion: boolean;
  requireSignedRequests: boolean;
  /** Renamed or omitted attributes, by fact (`username`, `email`, `roles`, …). */
  attributes: Partial<Record<string, { name: string; nameFormat: 'basic' | 'uri' | 'unspecified' } | null>>;
  clockSkewSeconds: number;
  assertionLifetimeSeconds: number;
  allowIdpInitiated: boolean;
  defaultRelayState: string | null;
}

export const ApplicationEntity = new EntitySchema<Application>({
  name: 'Application',
  tableName: 'applications',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    name: { type: 'text' },
    clientId: { name: 'client_id', type: 'text', unique: true },
    clientSecretSealed: { name: 'client_secret_sealed', type: 'text', nullable: true },
    previousSecretSealed: { name: 'previous_secret_sealed', type: 'text', nullable: true },
    previousSecretExpiresAt: { name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true },
    public: { type: 'boolean' },
    requireConsent: { name: 'require_consent', type: 'boolean' },
    redirectUris: { name: 'redirect_uris', type: 'jsonb' },
    postLogoutRedirectUris: { name: 'post_logout_redirect_uris', type: 'jsonb' },
    grantTypes: { name: 'grant_types', type: 'jsonb' },
    resource: { type: 'text' },
    allowedResources: { name: 'allowed_resources', type: 'jsonb' },
    adminApi: { name: 'admin_api', type: 'boolean' },
    permissions: { type: 'jsonb' },
    idTokenSignedResponseAlg: { name: 'id_token_signed_response_alg', type: 'text', nullable: true },
    backchannelLogoutUri: { name: 'backchannel_logout_uri', type: 'text', nullable: true },
    serviceUserId: { name: 'service_user_id', type: 'uuid', nullable: true },
    saml: { type: 'jsonb', nullable: true },
    builtin: { type: 'boolean' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
