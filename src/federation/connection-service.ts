// Federation connections of a tenant: created, changed and removed through the CLI and the admin
// API (validated whole, audited, secrets sealed), and read on the sign-in path (cached per tenant,
// emptied by any audited change).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AuditWriter } from '../audit/index.ts';
import { parseInput, requireTenant, type Actor, type ClaimsCache } from '../accounts/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { SealedBox } from '../security/index.ts';
import { isUniqueViolation, queries, type Connection, type Repos, type Storage, type Tenant } from '../storage/index.ts';
import { checkMappingGrants, checkMappingTargets, mappingTargetFindings } from '../upstream/index.ts';
import { connectionSettings, type ConnectionSecrets, type ConnectionSettings } from './connection-settings.ts';
import { parseIdpMetadata } from './idp-metadata.ts';

export interface ConnectionServiceDeps {
  storage: Storage;
  audit: AuditWriter;
  box: SealedBox;
  claimsCache: ClaimsCache;
  baseUrl: string;
}

/** A connection as the sign-in path uses it: settings validated, secrets opened. */
export interface LoadedConnection {
  row: Connection;
  settings: ConnectionSettings;
  secrets: ConnectionSecrets;
}

// Columns of their own; everything else is the settings document.
const COLUMNS = ['key', 'name', 'type', 'preset', 'domains', 'mappings', 'enabled'] as const;
const SECRET_FIELDS = ['clientSecret'] as const;

export const connectionUrls = (baseUrl: string, tenantSlug: string, key: string) => {
  const base = `${baseUrl}/t/${tenantSlug}/federation/${key}`;
  return { callback: `${base}/callback`, acs: `${base}/acs`, metadata: `${base}/metadata`, jwks: `${base}/jwks` };
};

const secretContext = (connectionId: string) => `connection:${connectionId}`;

function settingsOf(row: Connection): ConnectionSettings {
  return connectionSettings.parse({ ...row.settings, ...Object.fromEntries(COLUMNS.map((c) => [c, row[c]])) });
}

/** What the API shows: settings and URLs to give the upstream, never secrets. */
function publicConnection(row: Connection, baseUrl: string, tenantSlug: string) {
  const settings = settingsOf(row);
  const urls = connectionUrls(baseUrl, tenantSlug, row.key);
  return {
    ...settings,
    id: row.id,
    hasClientSecret: settings.type === 'oidc' && settings.clientAuth !== 'private_key_jwt',
    urls: settings.type === 'oidc'
      ? { redirectUri: urls.callback, ...(settings.clientAuth === 'private_key_jwt' ? { jwks: urls.jwks } : {}) }
      : { acs: urls.acs, spEntityId: urls.metadata, spMetadata: urls.metadata },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
export type PublicConnection = ReturnType<typeof publicConnection>;

/** An RSA key for private_key_jwt client authentication; its public half is published. */
function privateJwk(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256' };
}

/** `connection test`: every rule target still exists (a deleted role would refuse sign-ins). */
/** An email domain routes to one connection: no two connections of a tenant claim the same one. */
async function checkDomains(tx: Repos, tenantId: string, key: string, domains: string[]) {
  for (const other of await tx.connections.findBy({ tenantId })) {
    if (other.key === key) continue;
    const shared = other.domains.filter((d) => domains.includes(d));
    if (shared.length) throw new ConflictError(`domains: ${shared.join(', ')} already route to connection "${other.key}"`);
  }
}

export const mappingFindings = (storage: Storage, tenantId: string, c: LoadedConnection) => mappingTargetFindings(storage, tenantId, c.settings.mappings);

export function createConnectionService(deps: ConnectionServiceDeps) {
  const { storage, audit, box, claimsCache, baseUrl } = deps;

  /** Validates a whole connection and splits it into row columns, settings document and secrets. */
  async function prepare(raw: Record<string, unknown>, previous?: { row: Connection; secrets: ConnectionSecrets }) {
    const { idpMetadata, ...rest } = raw;
    const fromMetadata = typeof idpMetadata === 'string' ? parseIdpMetadata(idpMetadata) : {};
    if (idpMetadata !== undefined && typeof idpMetadata !== 'string') throw new ValidationError('idpMetadata: must be the IdP metadata XML');
    const settings = parseInput(connectionSettings, { ...fromMetadata, ...rest });
    const secrets: ConnectionSecrets = { ...previous?.secrets };
    if (settings.type === 'oidc') {
      if (settings.clientSecret) secrets.clientSecret = settings.clientSecret;
      if (settings.clientAuth === 'private_key_jwt') secrets.privateJwk ??= privateJwk();
      // Checked here, not in the schema: a stored connection keeps its secret sealed, apart from its settings.
      else if (!secrets.clientSecret) throw new ValidationError(`clientSecret: required with ${settings.clientAuth}`);
    } else if (!secrets.spKeyPem) {
      // @peculiar/x509 loads with the first SAML connection made, not with every process.
      Object.assign(secrets, await (await import('./sp-keys.ts')).createSpKeys(settings.key));
    }
    const document = Object.fromEntries(Object.entries(settings).filter(([k]) => !(COLUMNS as readonly string[]).includes(k) && !(SECRET_FIELDS as readonly string[]).includes(k)));
    return { settings, secrets, document };
  }

  async function requireConnection(tx: Repos, tenant: Tenant, key: string): Promise<Connection> {
    const row = await tx.connections.findOneBy({ tenantId: tenant.id, key });
    if (!row) throw new NotFoundError(`connection "${key}" does not exist`);
    return row;
  }

  const openSecrets = (row: Connection): ConnectionSecrets => (row.secretsSealed ? JSON.parse(box.open(row.secretsSealed, secretContext(row.id))) : {});

  /** Every connection of a tenant, validated and opened: cached until the tenant next changes. */
  const all = (tenantId: string): Promise<LoadedConnection[]> =>
    claimsCache.get(tenantId, 'connections', async () =>
      (await storage.connections.find({ where: { tenantId }, order: { key: 'ASC' } })).map((row) => ({ row, settings: settingsOf(row), secrets: openSecrets(row) })));

  return {
    async create(tenantSlug: string, raw: Record<string, unknown>, actor: Actor) {
      const { settings, secrets, document } = await prepare(raw);
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          if (await tx.connections.findOneBy({ tenantId: tenant.id, key: settings.key })) throw new ConflictError(`connection "${settings.key}" already exists`);
          await checkDomains(tx, tenant.id, settings.key, settings.domains);
          await checkMappingTargets(tx, tenant.id, settings.mappings);
          await checkMappingGrants(tx, tenant, actor, settings.mappings);
          const id = randomUUID();
          const row: Connection = {
            id, tenantId: tenant.id, key: settings.key, name: settings.name, type: settings.type, preset: settings.preset, settings: document,
            secretsSealed: box.seal(JSON.stringify(secrets), secretContext(id)), domains: settings.domains, mappings: settings.mappings, enabled: settings.enabled,
            createdAt: new Date(), updatedAt: new Date(),
          };
          await tx.connections.insert(row as never);
          const shown = publicConnection(row, baseUrl, tenant.slug);
          await audit.record({ tenantId: tenant.id, actor, action: 'connection.create', target: { type: 'connection', id }, after: shown }, tx);
          return shown;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`connection "${settings.key}" already exists`);
        throw error;
      }
    },

    /** Changes some settings; the result is validated whole. A new clientSecret replaces the old. */
    async update(tenantSlug: string, key: string, patch: Record<string, unknown>, actor: Actor) {
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const before = await requireConnection(tx, tenant, key);
        if ('key' in patch && patch.key !== key) throw new ValidationError('key: a connection keeps its key (its users\' source names it)');
        if ('type' in patch && patch.type !== before.type) throw new ValidationError('type: create a new connection to change protocol');
        const current = settingsOf(before);
        const given = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
        // New IdP metadata replaces what the stored settings took from the old (fields given beside it still win).
        const kept = 'idpMetadata' in given ? Object.fromEntries(Object.entries(current).filter(([k]) => !['idpEntityId', 'ssoUrl', 'idpCertificates'].includes(k))) : current;
        const { settings, secrets, document } = await prepare({ ...kept, ...given }, { row: before, secrets: openSecrets(before) });
        await checkDomains(tx, tenant.id, key, settings.domains);
        await checkMappingTargets(tx, tenant.id, settings.mappings);
        await checkMappingGrants(tx, tenant, actor, settings.mappings);
        const after: Connection = {
          ...before, name: settings.name, preset: settings.preset, settings: document, domains: settings.domains, mappings: settings.mappings, enabled: settings.enabled,
          secretsSealed: box.seal(JSON.stringify(secrets), secretContext(before.id)), updatedAt: new Date(),
        };
        await tx.connections.save(after as never);
        const shown = publicConnection(after, baseUrl, tenant.slug);
        await audit.record({ tenantId: tenant.id, actor, action: 'connection.update', target: { type: 'connection', id: before.id }, before: publicConnection(before, baseUrl, tenant.slug), after: shown, details: { secretChanged: 'clientSecret' in patch } }, tx);
        return shown;
      });
    },

    /** Removes a connection and what its mappings granted; its users stay (an admin decides on them). */
    async remove(tenantSlug: string, key: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const row = await requireConnection(tx, tenant, key);
        const removed = await queries.identities.removeUpstream(tx, tenant.id, `federation:${key}`);
        await tx.connections.delete({ id: row.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'connection.delete', target: { type: 'connection', id: row.id }, before: publicConnection(row, baseUrl, tenant.slug), details: removed }, tx);
      });
    },

    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return (await storage.connections.find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } })).map((r) => publicConnection(r, baseUrl, tenant.slug));
    },

    async get(tenantSlug: string, key: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return publicConnection(await requireConnection(storage, tenant, key), baseUrl, tenant.slug);
    },

    all,

    async find(tenantId: string, key: string): Promise<LoadedConnection | undefined> {
      return (await all(tenantId)).find((c) => c.row.key === key);
    },

    /** Home-realm discovery: the enabled connection that claims this email's domain. */
    forLogin: async (tenantId: string, login: string): Promise<LoadedConnection | undefined> => {
      const at = login.lastIndexOf('@');
      if (at < 1) return undefined;
      const domain = login.slice(at + 1).toLowerCase();
      return (await all(tenantId)).find((c) => c.row.enabled && c.row.domains.includes(domain));
    },

    /** Whether a user may sign in with a local password: not when linked to a federated-only connection. */
    passwordAllowed: async (tenantId: string, userId: string): Promise<boolean> => {
      const fedOnly = (await all(tenantId)).filter((c) => c.settings.federatedOnly).map((c) => `federation:${c.row.key}`);
      if (!fedOnly.length) return true;
      const links = await storage.userIdentities.findBy({ tenantId, userId });
      return !links.some((l) => fedOnly.includes(l.upstream));
    },
  };
}
export type ConnectionService = ReturnType<typeof createConnectionService>;
