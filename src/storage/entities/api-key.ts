// An API key of a service account, as stored (migration 0014): never the secret, only its HMAC.
// Read and written through storage/queries/api-keys.ts.

export interface ApiKey {
  id: string;
  tenantId: string;
  serviceUserId: string;
  /** The person responsible for the key; null once they are deleted (the key keeps working until its end). */
  ownerId: string | null;
  name: string;
  secretHash: string;
  /** The permissions the key carries: a subset of its account's, checked at every use. */
  permissions: string[];
  rateLimitPerMinute: number;
  expiresAt: Date;
  revokedAt: Date | null;
  /** The key that replaced this one in a rotation (this one works until its shortened end). */
  replacedBy: string | null;
  lastUsedAt: Date | null;
  /** Who created it, as "<actor type>:<id>". */
  createdBy: string;
  createdAt: Date;
}
