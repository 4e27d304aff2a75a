// oidc-provider storage adapter for one tenant. Long-lived artefacts (grants, refresh tokens) go to
// the durable store; short-lived ones (sessions, interactions, codes, replay detection) to the
// ephemeral store with their TTL. Clients are read from the applications table.
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { queries, type Storage } from '../storage/index.ts';
import type { ClientLoader } from './client-metadata.ts';
import { accountSessionsKey, type SessionIndex } from '../accounts/index.ts';

const DURABLE = new Set(['Grant', 'RefreshToken']);
// The models oidc-provider revokes by grant (lib/helpers/revoke.js). Only these are indexed by
// grantId: an Interaction also carries one, and the logout before an account switch revokes the
// old account's grant while that interaction must live on to finish the new sign-in.
const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/** PostgreSQL text cannot hold NUL: a value with one (a forged token or client_id) matches nothing. */
const unstorable = (value: string) => value.includes('\u0000');

interface AdapterDeps {
  tenantId: string;
  storage: Storage;
  ephemeral: EphemeralStore;
  clients: ClientLoader;
  sessions: SessionIndex;
}

const epoch = () => Math.floor(Date.now() / 1000);

function durableAdapter(model: string, { tenantId, storage }: AdapterDeps): Adapter {
  const scope = { tenantId, model };
  const findWhere = async (column: 'id' | 'uid' | 'user_code', value: string) =>
    unstorable(value) ? undefined : queries.oidcPayloads.find<AdapterPayload>(storage, scope, column, value);
  return {
    async upsert(id, payload, expiresIn) {
      await queries.oidcPayloads.upsert(storage, scope, id, payload, expiresIn ? new Date(Date.now() + expiresIn * 1000) : null);
    },
    find: (id) => findWhere('id', id),
    findByUid: (uid) => findWhere('uid', uid),
    findByUserCode: (code) => findWhere('user_code', code),
    // Atomic: of two concurrent redemptions of one refresh token only one consumes it, so the
    // token family cannot fork (RFC 9700 §4.14.2); the other fails as invalid_grant. So does one
    // whose token is gone meanwhile — a third redemption that saw it consumed destroyed it and
    // revoked its grant (reuse detection): redeeming it then would fork the family after all.
    async consume(id) {
      if (!(await queries.oidcPayloads.consume(storage, scope, id, epoch()))) throw new errors.InvalidGrant('grant request is invalid');
    },
    async destroy(id) {
      await queries.oidcPayloads.destroy(storage, scope, id);
    },
    async revokeByGrantId(grantId) {
      await queries.oidcPayloads.revokeByGrantId(storage, scope, grantId);
    },
  };
}

/** The browser behind the request being served, when there is one (sessions saved by a request). */
function deviceOf(ctx: { ip?: string; get?(name: string): string } | undefined) {
  return ctx?.get ? { ip: ctx.ip ?? null, userAgent: ctx.get('user-agent') || null } : undefined;
}

function ephemeralAdapter(model: string, { tenantId, ephemeral, sessions }: AdapterDeps): Adapter {
  const key = (id: string) => `oidc:${tenantId}:${model}:${id}`;
  const uidKey = (uid: string) => `oidc:${tenantId}:${model}:uid:${uid}`;
  const grantKey = (grantId: string) => `oidc:${tenantId}:grant:${grantId}`;
  const read = async (k: string) => {
    const raw = await ephemeral.get(k);
    return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
  };
  return {
    async upsert(id, payload, expiresIn) {
      let ttl = expiresIn ?? 3600;
      // A signed-in session lives by its own limits (idle, absolute): it stays in the store only
      // that long, and each save (each use) pushes the idle end out again.
      if (model === 'Session' && payload.accountId) {
        ttl = Math.min(ttl, await sessions.touch(tenantId, id, { accountId: payload.accountId, loginTs: payload.loginTs }, deviceOf(Provider.ctx)));
        if (ttl <= 0) return void (await ephemeral.del(key(id)));
      } else if (model === 'Session') {
        ttl = Math.min(ttl, 3600); // nobody signed in: nothing worth keeping long
      }
      await ephemeral.set(key(id), JSON.stringify(payload), ttl);
      if (payload.uid) await ephemeral.set(uidKey(payload.uid), id, ttl);
      if (payload.grantId && GRANT_BOUND.has(model)) await ephemeral.addToSet(grantKey(payload.grantId), key(id), ttl);
      // Sessions are indexed by account, so a user's sessions can be listed and ended together.
      if (model === 'Session' && payload.accountId) await ephemeral.addToSet(accountSessionsKey(tenantId, payload.accountId), key(id), ttl);
    },
    async find(id) {
      const payload = await read(key(id));
      if (payload && model === 'Session' && payload.accountId && !(await sessions.valid(tenantId, id))) return undefined;
      return payload;
    },
    async findByUid(uid) {
      const id = await ephemeral.get(uidKey(uid));
      return id ? read(key(id)) : undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    // Atomic through a marker: of two concurrent redemptions of one code, one wins; a code gone
    // meanwhile (destroyed when its replay revoked the grant) is not redeemed either.
    async consume(id) {
      const raw = await ephemeral.get(key(id));
      if (!raw) throw new errors.InvalidGrant('grant request is invalid');
      const payload = JSON.parse(raw) as AdapterPayload;
      const ttl = typeof payload.exp === 'number' ? Math.max(1, payload.exp - epoch()) : 60;
      if (!(await ephemeral.setIfAbsent(`${key(id)}:consumed`, '1', ttl))) throw new errors.InvalidGrant('grant request is invalid');
      await ephemeral.set(key(id), JSON.stringify({ ...payload, consumed: epoch() }), ttl);
    },
    async destroy(id) {
      const payload = await read(key(id));
      await ephemeral.del(key(id), `${key(id)}:consumed`, ...(payload?.uid ? [uidKey(payload.uid)] : []));
    },
    async revokeByGrantId(grantId) {
      const keys = await ephemeral.members(grantKey(grantId));
      await ephemeral.del(...keys, grantKey(grantId));
    },
  };
}

function clientAdapter({ clients }: AdapterDeps): Adapter {
  const readOnly = async () => {
    throw new Error('clients are managed through Caregate applications');
  };
  return {
    find: async (id) => (unstorable(id) ? undefined : clients(id)),
    upsert: readOnly,
    destroy: readOnly,
    consume: readOnly,
    revokeByGrantId: readOnly,
    findByUid: async () => undefined,
    findByUserCode: async () => undefined,
  };
}

/** The `adapter` setting for one tenant's provider: oidc-provider calls it once per model. */
export function createAdapterFactory(deps: AdapterDeps): (model: string) => Adapter {
  return (model) => {
    if (model === 'Client') return clientAdapter(deps);
    return DURABLE.has(model) ? durableAdapter(model, deps) : ephemeralAdapter(model, deps);
  };
}
