// oidc-provider storage adapter for one tenant. Long-lived artefacts (grants, refresh tokens) go to
// the durable store; short-lived ones (sessions, interactions, codes, replay detection) to the
// ephemeral store with their TTL. Clients are read from the applications table.
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import { LRUCache } from 'lru-cache';
import type { EphemeralStore } from '../ephemeral/index.ts';
import { queries, type Storage } from '../storage/index.ts';
import type { ClientLoader } from './client-metadata.ts';
import { accountSessionsKey, type ClaimsCache, type SessionIndex } from '../accounts/index.ts';

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
  /** The tenant's claims cache: its epoch bounds how long a cached grant may be used. */
  claimsCache: ClaimsCache;
  /** The oidc-provider route being served (introspection, userinfo, token:<grant_type>, …); tests may set it. */
  route?: () => string | undefined;
  /** The request being served (oidc-provider's context), or undefined outside one; tests may set it. */
  request?: () => object | undefined;
}

/** The route oidc-provider is serving, with the grant type for the token endpoint ("token:refresh_token"). */
function providerRoute(): string | undefined {
  const oidc = (Provider.ctx as { oidc?: { route?: string; params?: { grant_type?: unknown } } } | undefined)?.oidc;
  return oidc?.route === 'token' ? `token:${String(oidc.params?.grant_type)}` : oidc?.route;
}

const epoch = () => Math.floor(Date.now() / 1000);
const ephemeralKey = (tenantId: string, model: string, id: string) => `oidc:${tenantId}:${model}:${id}`;

/**
 * The calls that read a token's grant on every use — token introspection, userinfo and the
 * refresh-token grant — keep it in process. An entry holds while the tenant's claims cache is not
 * emptied, and that happens on every audited change to the tenant: ending a user's sessions,
 * disabling or locking them, a password reset, removing an application — each of which deletes
 * grants — stop their tokens here at once and on other nodes within the claims cache's sync
 * interval, as a role change does. A refresh is safer still: those changes delete the refresh
 * tokens with the grants, and the refresh token itself is always read from the database. This
 * node's own writes of a grant drop its entry; a grant widened on another node (a later sign-in
 * adding scopes) is seen here within the claims cache's maximum age — answers are narrower meanwhile,
 * never wider. Every other use (authorization, code exchange, the admin API's token check) reads the
 * grant from the database.
 */
const GRANT_READERS = new Set(['introspection', 'userinfo', 'token:refresh_token']);
const GRANT_CACHE_SIZE = 10_000;

interface CachedGrant {
  json: string;
  epoch: number;
  exp?: number;
}

/**
 * Introspection and revocation without a type hint look a value up as an access token, a
 * client-credentials token and a refresh token at once. Access and client-credentials tokens live
 * in the ephemeral store, so there a refresh-token lookup first asks it (in the same pipelined round
 * trip as those two lookups, or in memory): a value found there is not a refresh token, and the
 * database is not asked. A refresh grant, which knows it holds a refresh token, goes straight to it.
 */
const LOOKUP_ANY_KIND = new Set(['introspection', 'revocation']);
const EPHEMERAL_TOKEN_MODELS = ['AccessToken', 'ClientCredentials'];

/**
 * A refresh token presented to the refresh-token grant, consumed together with the saving of its
 * successor. oidc-provider (lib/actions/grants/refresh_token.js) consumes the presented token and,
 * with nothing in between that waits on anything, saves the new one. So consume() only notes the
 * token against the request, and the successor's upsert() runs one statement that consumes it and
 * inserts the successor only if that consumption took place (queries.oidcPayloads.rotate): of two
 * concurrent redemptions only one stores a successor, the other fails as invalid_grant, as when the
 * consumption was a statement of its own — one round trip to the database fewer per rotation.
 * Should no save claim the note by the end of the current turn of the event loop (the grant failed
 * in between), the token is consumed on its own then, and a save that still follows stores its
 * token only if that consumption took place.
 */
interface Rotation {
  id: string;
  /** The consumption on its own, once the turn ended unclaimed: whether it took place. */
  alone?: Promise<boolean>;
}

const providerRequest = (): object | undefined => Provider.ctx;

function durableAdapter(model: string, { tenantId, storage, ephemeral, claimsCache, route: currentRoute = providerRoute, request: currentRequest = providerRequest }: AdapterDeps): Adapter {
  const scope = { tenantId, model };
  const findWhere = async (column: 'id' | 'uid' | 'user_code', value: string) =>
    unstorable(value) ? undefined : queries.oidcPayloads.find<AdapterPayload>(storage, scope, column, value);
  // Kept as JSON text, parsed per read: oidc-provider builds its model from the payload and changes
  // nested parts of what it was given (a grant's scopes), so each reader needs its own copy.
  const grants = model === 'Grant' ? new LRUCache<string, CachedGrant>({ max: GRANT_CACHE_SIZE }) : undefined;
  // Bumped by every write: a read that overlapped a write does not cache what it read (it may
  // predate the write).
  let writes = 0;
  const forget = (id: string) => {
    writes++;
    grants?.delete(id);
  };
  const isEphemeralToken = async (id: string) =>
    (await Promise.all(EPHEMERAL_TOKEN_MODELS.map((m) => ephemeral.get(ephemeralKey(tenantId, m, id))))).some(Boolean);

  async function find(id: string) {
    const route = currentRoute();
    if (model === 'RefreshToken' && route && LOOKUP_ANY_KIND.has(route) && (await isEphemeralToken(id))) return undefined;
    if (!grants || !route || !GRANT_READERS.has(route)) return findWhere('id', id);
    const tenantEpoch = await claimsCache.epoch(tenantId);
    const cached = grants.get(id);
    if (cached?.epoch === tenantEpoch && (cached.exp === undefined || cached.exp > Date.now() / 1000)) return JSON.parse(cached.json) as AdapterPayload;
    const before = writes;
    const payload = await findWhere('id', id);
    if (payload && writes === before) grants.set(id, { json: JSON.stringify(payload), epoch: tenantEpoch, exp: typeof payload.exp === 'number' ? payload.exp : undefined });
    return payload;
  }

  const consumeNow = async (id: string) => queries.oidcPayloads.consume(storage, scope, id, epoch());
  const refused = () => new errors.InvalidGrant('grant request is invalid');
  const rotations = new WeakMap<object, Rotation>();
  /** The rotation this request noted, claimed (taken off the request) by the save of its successor. */
  function claimRotation(): Rotation | undefined {
    const request = model === 'RefreshToken' ? currentRequest() : undefined;
    const rotation = request && rotations.get(request);
    if (rotation) rotations.delete(request!);
    return rotation;
  }

  return {
    async upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn ? new Date(Date.now() + expiresIn * 1000) : null;
      const rotation = claimRotation();
      if (rotation && !rotation.alone) {
        if (!(await queries.oidcPayloads.rotate(storage, scope, { id: rotation.id, at: epoch() }, id, payload, expiresAt))) throw refused();
        return;
      }
      if (rotation && !(await rotation.alone)) throw refused();
      forget(id);
      await queries.oidcPayloads.upsert(storage, scope, id, payload, expiresAt);
      forget(id);
    },
    find,
    findByUid: (uid) => findWhere('uid', uid),
    findByUserCode: (code) => findWhere('user_code', code),
    // Atomic: of two concurrent redemptions of one refresh token only one consumes it, so the
    // token family cannot fork (RFC 9700 §4.14.2); the other fails as invalid_grant. So does one
    // whose token is gone meanwhile — a third redemption that saw it consumed destroyed it and
    // revoked its grant (reuse detection): redeeming it then would fork the family after all.
    async consume(id) {
      const request = model === 'RefreshToken' && currentRoute() === 'token:refresh_token' ? currentRequest() : undefined;
      if (request) {
        const rotation: Rotation = { id };
        rotations.set(request, rotation);
        setImmediate(() => {
          if (rotations.get(request) !== rotation) return; // claimed
          rotation.alone = consumeNow(id);
          rotation.alone.catch(() => undefined); // a save that follows sees the failure; without one, nobody waits for it
        });
        return;
      }
      if (!(await consumeNow(id))) throw refused();
    },
    async destroy(id) {
      forget(id);
      await queries.oidcPayloads.destroy(storage, scope, id);
      forget(id);
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
  const key = (id: string) => ephemeralKey(tenantId, model, id);
  const uidKey = (uid: string) => `oidc:${tenantId}:${model}:uid:${uid}`;
  const consumedKey = (id: string) => `${key(id)}:consumed`;
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
      // The record and its indexes are sent together: one round trip to Redis, which runs one
      // connection's commands in the order sent. An index that outlives a record that failed to be
      // written points at nothing, as one does once its record expires, and readers skip those.
      await Promise.all([
        ephemeral.set(key(id), JSON.stringify(payload), ttl),
        payload.uid && ephemeral.set(uidKey(payload.uid), id, ttl),
        payload.grantId && GRANT_BOUND.has(model) && ephemeral.addToSet(grantKey(payload.grantId), key(id), ttl),
        // Sessions are indexed by account, so a user's sessions can be listed and ended together.
        model === 'Session' && payload.accountId && ephemeral.addToSet(accountSessionsKey(tenantId, payload.accountId), key(id), ttl),
      ]);
    },
    // The record and its consumption marker (consume below) are read together, in one round trip.
    async find(id) {
      const [raw, consumed] = await ephemeral.getMany([key(id), consumedKey(id)]);
      if (!raw) return undefined;
      const payload = JSON.parse(raw) as AdapterPayload;
      if (consumed) payload.consumed = Number(consumed);
      if (model === 'Session' && payload.accountId && !(await sessions.valid(tenantId, id))) return undefined;
      return payload;
    },
    // One round trip: the uid index and the record it points to are read together.
    async findByUid(uid) {
      const raw = await ephemeral.getReferenced(uidKey(uid), key(''));
      return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    // One atomic step through a marker holding the consumption time, which find() reads with the
    // record: of two concurrent redemptions of one code, one wins; a code gone meanwhile (destroyed
    // when its replay revoked the grant) is not redeemed either.
    async consume(id) {
      if ((await ephemeral.markOnce(key(id), consumedKey(id), String(epoch()))) !== 'marked') throw new errors.InvalidGrant('grant request is invalid');
    },
    async destroy(id) {
      // Only a session's record carries a uid (oidc-provider's Session), so only a session is read
      // first, to remove its uid index with it; anything else is deleted in one round trip.
      const uid = model === 'Session' ? (await read(key(id)))?.uid : undefined;
      await ephemeral.del(key(id), consumedKey(id), ...(uid ? [uidKey(uid)] : []));
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
