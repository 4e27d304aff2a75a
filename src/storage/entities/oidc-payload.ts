import { EntitySchema } from 'typeorm';

/** Durable oidc-provider artefacts (grants, refresh tokens) keyed by model and id. */
export interface OidcPayload {
  tenantId: string;
  model: string;
  id: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  expiresAt: Date | null;
  consumedAt: Date | null;
}

export const OidcPayloadEntity = new EntitySchema<OidcPayload>({
  name: 'OidcPayload',
  tableName: 'oidc_payloads',
  columns: {
    tenantId: { name: 'tenant_id', type: 'uuid', primary: true },
    model: { type: 'text', primary: true },
    id: { type: 'text', primary: true },
    payload: { type: 'jsonb' },
    grantId: { name: 'grant_id', type: 'text', nullable: true },
    uid: { type: 'text', nullable: true },
    userCode: { name: 'user_code', type: 'text', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    consumedAt: { name: 'consumed_at', type: 'timestamptz', nullable: true },
  },
});
