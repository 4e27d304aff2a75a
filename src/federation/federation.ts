// A federated sign-in, in three steps across two browser round trips:
//   1. begin    — the sign-in page picked a connection: remember what the return must match
//                 (state, nonce, PKCE verifier, SAML request ID) and send the browser upstream;
//   2. receive  — the upstream sent the browser back to the connection's fixed callback URL: keep
//                 what it brought under the state, and send the browser on to its own interaction;
//   3. complete — that interaction (its cookie binds the sign-in to the browser that began it, so a
//                 response cannot be replayed into someone else's browser) consumes the state once,
//                 has the connector validate the response, and provisions the user.
import { randomBytes } from 'node:crypto';
import type { AuditWriter } from '../audit/index.ts';
import { requireTenant, type ClaimsCache } from '../accounts/index.ts';
import type { EphemeralStore } from '../ephemeral/index.ts';
import type { SealedBox } from '../security/index.ts';
import type { Storage, Tenant } from '../storage/index.ts';
import { provisionUser, UpstreamError, type CallbackConnector, type CallbackInput, type Provisioned, type TestFinding, type UpstreamIdentity, type UpstreamPolicy } from '../upstream/index.ts';
import { connectionUrls, createConnectionService, mappingFindings, type LoadedConnection } from './connection-service.ts';
import { createOidcConnector } from './oidc-connector.ts';

export interface FederationDeps {
  storage: Storage;
  audit: AuditWriter;
  box: SealedBox;
  claimsCache: ClaimsCache;
  ephemeral: EphemeralStore;
  baseUrl: string;
  /** Outgoing HTTP for OIDC connectors (tests may route it; production uses the global fetch). */
  fetch?: typeof fetch;
}

interface Pending {
  uid: string;
  key: string;
  transaction: Record<string, string>;
  callback?: CallbackInput;
  /** Left by step 3 once the state is used: a response brought back again is a replay. */
  used?: true;
}

const PENDING_TTL = 600;
const MAX_CALLBACK_BYTES = 256 * 1024;
const pendingKey = (tenantId: string, state: string) => `fed:${tenantId}:${state}`;

export function createFederation(deps: FederationDeps) {
  const connections = createConnectionService(deps);
  const discoveries = new Map();
  // node-saml and the XML signature stack load with the first SAML connector used, not with every
  // process that builds the runtime (a CLI command).
  let saml: Promise<typeof import('./saml-connector.ts')> | undefined;

  /** The connector for a connection, by its protocol (the registry of CONVENTIONS point 5). */
  async function connectorFor(tenant: Tenant, c: LoadedConnection): Promise<CallbackConnector> {
    const urls = connectionUrls(deps.baseUrl, tenant.slug, c.row.key);
    const factories = {
      oidc: () => c.settings.type === 'oidc' && createOidcConnector(c.row, c.settings, c.secrets, { redirectUri: urls.callback, discoveries, fetch: deps.fetch }),
      saml: async () => c.settings.type === 'saml' && (await (saml ??= import('./saml-connector.ts'))).createSamlConnector(c.row, c.settings, c.secrets, { acsUrl: urls.acs, spEntityId: urls.metadata, ephemeral: deps.ephemeral, tenantId: tenant.id }),
    } satisfies Record<LoadedConnection['row']['type'], () => CallbackConnector | false | Promise<CallbackConnector | false>>;
    return (await factories[c.row.type]()) as CallbackConnector;
  }

  async function enabledConnection(tenant: Tenant, key: string): Promise<LoadedConnection> {
    const c = await connections.find(tenant.id, key);
    if (!c) throw new UpstreamError('connection_disabled', `connection "${key}" does not exist`);
    if (!c.row.enabled) throw new UpstreamError('connection_disabled', `connection "${key}" is disabled`);
    return c;
  }

  function policyOf(c: LoadedConnection): UpstreamPolicy {
    const s = c.settings;
    return {
      upstream: `federation:${c.row.key}`, origin: 'federation-mapping', jit: s.jit, linkByEmail: s.linkByEmail,
      requireVerifiedEmail: s.requireVerifiedEmail, profileFields: s.profileFields, mappings: s.mappings,
    };
  }

  return {
    connections,
    connectorFor,

    /** Step 1: the URL to send the browser to. */
    async begin(tenant: Tenant, key: string, input: { uid: string; loginHint?: string }): Promise<string> {
      const c = await enabledConnection(tenant, key);
      const state = randomBytes(32).toString('base64url');
      const { url, transaction } = await (await connectorFor(tenant, c)).start({ state, loginHint: input.loginHint });
      await deps.ephemeral.set(pendingKey(tenant.id, state), JSON.stringify({ uid: input.uid, key, transaction } satisfies Pending), PENDING_TTL);
      return url;
    },

    /** Step 2: keeps what the upstream sent; returns the interaction to continue in. */
    async receive(tenant: Tenant, key: string, state: string, callback: CallbackInput): Promise<string> {
      if (!state || state.length > 128) throw new UpstreamError('state_mismatch', 'the upstream returned without a usable state');
      const raw = await deps.ephemeral.get(pendingKey(tenant.id, state));
      if (!raw) throw new UpstreamError('expired', 'no sign-in is waiting for this state (expired, finished, or never begun here)');
      const pending = JSON.parse(raw) as Pending;
      if (pending.key !== key) throw new UpstreamError('state_mismatch', `the state belongs to connection "${pending.key}"`);
      if (pending.used) throw new UpstreamError('replayed', 'this sign-in was already completed with a response');
      if (pending.callback) throw new UpstreamError('replayed', 'a response for this sign-in was already received');
      if (JSON.stringify(callback).length > MAX_CALLBACK_BYTES) throw new UpstreamError('invalid_response', 'the response is too large');
      await deps.ephemeral.set(pendingKey(tenant.id, state), JSON.stringify({ ...pending, callback } satisfies Pending), PENDING_TTL);
      return pending.uid;
    },

    /** Step 3: validates the response once, in the browser that began the sign-in, and provisions. */
    async complete(tenant: Tenant, uid: string, state: string): Promise<Provisioned & { connection: LoadedConnection; identity: UpstreamIdentity }> {
      const raw = state && state.length <= 128 ? await deps.ephemeral.take(pendingKey(tenant.id, state)) : undefined;
      if (!raw) throw new UpstreamError('expired', 'no sign-in is waiting for this state');
      const pending = JSON.parse(raw) as Pending;
      // The state is used up, but remembered as used until it would have expired: a response posted
      // (or a callback followed) again is then refused as the replay it is, not as "took too long".
      await deps.ephemeral.set(pendingKey(tenant.id, state), JSON.stringify({ uid: pending.uid, key: pending.key, transaction: {}, used: true } satisfies Pending), PENDING_TTL);
      if (pending.used) throw new UpstreamError('replayed', 'this sign-in was already completed with a response');
      if (pending.uid !== uid || !pending.callback) throw new UpstreamError('state_mismatch', 'this response belongs to a sign-in begun in another browser');
      const c = await enabledConnection(tenant, pending.key);
      const identity = await (await connectorFor(tenant, c)).finish(pending.callback, pending.transaction);
      const provisioned = await provisionUser(deps, tenant, policyOf(c), identity);
      return { ...provisioned, connection: c, identity };
    },

    /** `connection test`: the connector's checks against the live upstream, plus Caregate's own. */
    async test(tenantSlug: string, key: string): Promise<{ ok: boolean; findings: TestFinding[] }> {
      const tenant = await requireTenant(deps.storage, tenantSlug);
      await connections.get(tenantSlug, key); // 404 for a connection that does not exist
      const c = (await connections.find(tenant.id, key))!;
      const findings: TestFinding[] = [{ check: 'enabled', ok: c.row.enabled, detail: c.row.enabled ? 'users can sign in with it' : 'disabled: nobody can sign in with it' }];
      findings.push(...(await mappingFindings(deps.storage, tenant.id, c)));
      findings.push(...(await (await connectorFor(tenant, c)).test()));
      return { ok: findings.every((f) => f.ok), findings };
    },

    /** The connection a state belongs to, for auditing a refusal before the interaction is known. */
    async connectionOfState(tenant: Tenant, state: string): Promise<string | undefined> {
      const raw = state && state.length <= 128 ? await deps.ephemeral.get(pendingKey(tenant.id, state)) : undefined;
      return raw ? (JSON.parse(raw) as Pending).key : undefined;
    },
  };
}
export type Federation = ReturnType<typeof createFederation>;
