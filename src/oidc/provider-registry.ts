// One oidc-provider per tenant, built on first use and rebuilt when the tenant's keys change on any
// node (checked at most every `keyCheckInterval` seconds, so a rotation reaches every node within
// that time).
import type Provider from 'oidc-provider';
import type { Tenant } from '../storage/index.ts';
import type { IdpKeys } from '../saml/index.ts';
import type { ProviderDeps } from './build-provider.ts';
import { createSigningKeys } from './signing-keys.ts';

const TENANT_CACHE_MS = 30_000;

interface Entry {
  tenant: Tenant;
  provider: Provider;
  handle: ReturnType<Provider['callback']>;
  /** The tenant's SAML signing key and published certificates (its RS256 keys). */
  saml: IdpKeys;
  fingerprint: string;
  checkedAt: number;
}

/** `onBuilt`: sees each provider as it is built (its events feed the token metrics). */
export function createProviderRegistry(deps: ProviderDeps, onBuilt: (provider: Provider) => void = () => {}) {
  const keys = createSigningKeys(deps.storage, deps.box);
  const keyCheckMs = deps.config.keyCheckInterval * 1000;
  const entries = new Map<string, Promise<Entry>>();
  // What each finished build gave: `entries` stays the one record of which provider is current.
  const built = new WeakMap<Promise<Entry>, Entry>();
  const missing = new Map<string, number>();

  async function build(tenant: Tenant): Promise<Entry> {
    // oidc-provider and the SAML key handling load with the first provider, not with the runtime: a
    // CLI command that answers no OpenID request never pays for them.
    const [{ buildProvider }, { loadIdpKeys }] = await Promise.all([import('./build-provider.ts'), import('./idp-keys.ts')]);
    await keys.ensure(tenant.id);
    const { keys: jwks, fingerprint } = await keys.load(tenant.id);
    const provider = buildProvider(deps, tenant, { keys: jwks });
    onBuilt(provider);
    const saml = await loadIdpKeys(deps.storage, tenant, jwks);
    return { tenant, provider, handle: provider.callback(), saml, fingerprint, checkedAt: Date.now() };
  }

  async function refreshIfStale(slug: string, entry: Entry): Promise<Entry> {
    if (Date.now() - entry.checkedAt < keyCheckMs) return entry;
    entry.checkedAt = Date.now();
    const [fingerprint, tenant] = await Promise.all([keys.fingerprint(entry.tenant.id), deps.storage.tenants.findOneBy({ slug })]);
    if (!tenant) {
      entries.delete(slug);
      return entry;
    }
    if (fingerprint === entry.fingerprint) return entry;
    return remember(slug, build(tenant));
  }

  /** The provider being built for `slug` from now on; once built, `ready` can hand it out without waiting. */
  function remember(slug: string, pending: Promise<Entry>): Promise<Entry> {
    entries.set(slug, pending);
    pending.then((entry) => built.set(pending, entry), () => entries.get(slug) === pending && entries.delete(slug));
    return pending;
  }

  return {
    keys,
    /** The tenant's provider, or undefined when no such tenant exists. */
    async get(slug: string): Promise<Entry | undefined> {
      const cached = entries.get(slug);
      if (cached) {
        try {
          return await refreshIfStale(slug, await cached);
        } catch (error) {
          if (entries.get(slug) === cached) entries.delete(slug);
          throw error;
        }
      }
      if ((missing.get(slug) ?? 0) > Date.now()) return undefined;
      const tenant = await deps.storage.tenants.findOneBy({ slug });
      if (!tenant) {
        // Remembered briefly so a flood of one unknown slug costs one query; bounded in size.
        if (missing.size >= 10_000) missing.clear();
        missing.set(slug, Date.now() + TENANT_CACHE_MS);
        return undefined;
      }
      return remember(slug, build(tenant));
    },
    /**
     * The tenant's provider at once, when it is built and its keys were checked within
     * `keyCheckInterval`; otherwise undefined, and `get` does the waiting (and the check).
     */
    ready(slug: string): Entry | undefined {
      const pending = entries.get(slug);
      const entry = pending && built.get(pending);
      return entry && Date.now() - entry.checkedAt < keyCheckMs ? entry : undefined;
    },
    /** Forgets a tenant (after creating it, rotating its keys here, or deleting it). */
    invalidate(slug: string) {
      entries.delete(slug);
      missing.delete(slug);
    },
  };
}
export type ProviderRegistry = ReturnType<typeof createProviderRegistry>;
