// Authenticates a request that presents an API key (`Authorization: Bearer cgk_…`), in steps:
// the value has the key's shape and names this tenant; the key is read by id from the database (so
// a revocation holds on every node at the next request); the secret matches its HMAC; the key is
// neither revoked nor past its end; the request fits the key's per-minute limit; the use is counted.
// The caller then acts as `{ type: 'api_key', id }`, whose access is the account's narrowed to the key.
import { queries, type ApiKey, type Tenant } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import { apiKeyState } from './api-key-rules.ts';
import { API_KEY_PREFIX, apiKeySecretMatches, parseApiKeyValue } from './api-key-secret.ts';
import type { ApiKeyUsage } from './api-key-usage.ts';

export type ApiKeyCheck =
  | { ok: true; actor: Actor; key: ApiKey }
  | { ok: false; reason: 'malformed' | 'unknown' | 'wrong_secret' | 'revoked' | 'expired' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

/** True when a bearer value is meant as an API key (rather than an access token). */
export const looksLikeApiKey = (value: string) => value.startsWith(API_KEY_PREFIX);

export function createApiKeyGate({ storage, audit }: Pick<AccountsContext, 'storage' | 'audit'>, hmacKey: Buffer, usage: ApiKeyUsage) {
  return async function checkApiKey(tenant: Tenant, value: string, device: { ip?: string | null; userAgent?: string | null } = {}): Promise<ApiKeyCheck> {
    // 1. Shape and tenant: a key of another tenant is simply unknown here.
    const parsed = parseApiKeyValue(value);
    if (!parsed) return { ok: false, reason: 'malformed' };
    if (parsed.tenant !== tenant.slug) return { ok: false, reason: 'unknown' };
    // 2. The key, read from the durable store on every use.
    const key = await queries.apiKeys.find(storage, tenant.id, parsed.id);
    if (!key) return { ok: false, reason: 'unknown' };
    const actor: Actor = { type: 'api_key', id: key.id, ...device };
    // 3. Secret, then state; a refusal of a real key is audited (never with the value presented).
    const state = apiKeyState(key);
    const reason = !apiKeySecretMatches(hmacKey, key.id, parsed.secret, key.secretHash) ? 'wrong_secret' : state === 'revoked' || state === 'expired' ? state : undefined;
    if (reason) {
      await audit.record({ tenantId: tenant.id, actor, action: 'api_key.refused', outcome: 'failure', target: { type: 'api_key', id: key.id }, details: { reason } });
      return { ok: false, reason };
    }
    // 4. The key's per-minute limit, counted where every node counts.
    const admitted = await usage.admit(key);
    if (!admitted.allowed) return { ok: false, reason: 'rate_limited', retryAfterSeconds: admitted.retryAfterSeconds };
    // 5. Counted: today's uses, and last used (written at most once a minute).
    await usage.record(key.id);
    return { ok: true, actor, key };
  };
}
export type ApiKeyGate = ReturnType<typeof createApiKeyGate>;
