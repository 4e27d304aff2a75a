// Consuming a stored OIDC artefact (src/storage/queries/oidc-payloads.ts) on both stores: only the
// consumed_at column changes — the JSON payload, which an index reads, is left as it was, so
// PostgreSQL can update the row in place — and a read gives the consumption time back in the
// payload, where oidc-provider looks for it. Once consumed, always consumed: a second consume
// fails, and storing the payload again does not undo it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { queries, type Storage } from '../../../src/storage/index.ts';
import { sqlRepos } from '../../../src/storage/storage.ts';
import { openTestStorage } from '../../support/stores.ts';

const { oidcPayloads } = queries;

let storage: Storage;
let close: (() => Promise<void>) | undefined;
let scope: { tenantId: string; model: string };

beforeAll(async () => {
  ({ storage, close } = await openTestStorage());
  const tenantId = randomUUID();
  await sqlRepos(storage).query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [tenantId, 'payloads', 'Payloads']);
  scope = { tenantId, model: 'RefreshToken' };
});

afterAll(async () => {
  await close?.();
});

const stored = async (id: string) =>
  (await sqlRepos(storage).query<{ payload: Record<string, unknown>; consumed_at: Date | null }>(
    'SELECT payload, consumed_at FROM oidc_payloads WHERE tenant_id = $1 AND model = $2 AND id = $3', [scope.tenantId, scope.model, id]))[0]!;

describe('consuming a stored artefact', () => {
  it('sets consumed_at alone, and a read gives the time back in the payload', async () => {
    const id = randomUUID();
    const payload = { jti: id, grantId: 'grant-1', accountId: 'someone', kind: 'RefreshToken' };
    await oidcPayloads.upsert(storage, scope, id, payload, new Date(Date.now() + 3600_000));
    expect(await oidcPayloads.find(storage, scope, 'id', id)).toEqual(payload);

    const at = Math.floor(Date.now() / 1000);
    expect(await oidcPayloads.consume(storage, scope, id, at)).toBe(true);
    const row = await stored(id);
    expect(row.payload).toEqual(payload);
    expect(row.consumed_at!.getTime()).toBe(at * 1000);
    expect(await oidcPayloads.find(storage, scope, 'id', id)).toEqual({ ...payload, consumed: at });
  });

  it('stays consumed: a second consume fails, and storing the payload again keeps the consumption', async () => {
    const id = randomUUID();
    const payload = { jti: id, grantId: 'grant-2', kind: 'RefreshToken' };
    await oidcPayloads.upsert(storage, scope, id, payload, null);
    const at = Math.floor(Date.now() / 1000);
    expect(await oidcPayloads.consume(storage, scope, id, at)).toBe(true);
    expect(await oidcPayloads.consume(storage, scope, id, at + 1)).toBe(false);
    await oidcPayloads.upsert(storage, scope, id, payload, null);
    expect(await oidcPayloads.find(storage, scope, 'id', id)).toEqual({ ...payload, consumed: at });
  });
});
