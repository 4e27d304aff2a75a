// Per-tenant signing keys, sealed at rest. Each algorithm keeps a `current` key (signs), a `next`
// key (already published, so relying parties have it cached before it signs) and `retired` keys
// (still published until every token they signed has expired).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { LessThan, queries, type Repos, type SigningKey, type Storage } from '../storage/index.ts';
import type { SealedBox } from '../security/index.ts';
import { ConfigError } from '../errors.ts';

export const SIGNING_ALGS = ['ES256', 'RS256'] as const;
type Alg = (typeof SIGNING_ALGS)[number];
type Jwk = Record<string, unknown> & { kid: string; alg: string };

const sealContext = (kid: string) => `signing_key:${kid}`;

function generate(tenantId: string, alg: Alg, status: SigningKey['status'], box: SealedBox): SigningKey {
  const kid = randomUUID();
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateJwk = { ...pair.privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } as Record<string, string>;
  return { kid, tenantId, alg, status, privateJwkSealed: box.seal(JSON.stringify(privateJwk), sealContext(kid)), publicJwk, createdAt: new Date(), retireAt: null, certificate: null };
}

/**
 * Start-up check that the master key opens what this database holds: with another key every token
 * request would fail later on a decryption error. `source` names where the key came from.
 */
export async function checkMasterKey(storage: Storage, box: SealedBox, source: string): Promise<void> {
  const [key] = await storage.signingKeys.find({ take: 1 });
  if (!key) return;
  try {
    box.open(key.privateJwkSealed, sealContext(key.kid));
  } catch {
    throw new ConfigError(
      `The master key (${source}) cannot decrypt the signing keys in this database: it is not the key the database was set up with — restore that key from your backup (a new key cannot read what the old one encrypted)`,
      { setting: 'CAREGATE_MASTER_KEY', reason: 'wrong_master_key' },
    );
  }
}

/** Serialises key changes of one tenant across nodes (row lock on the tenant). */
async function lockTenant(tx: Repos, tenantId: string) {
  await queries.tenants.lockForUpdate(tx, tenantId);
}

export function createSigningKeys(storage: Storage, box: SealedBox) {
  return {
    /** Makes sure each algorithm has a current and a next key (first use of a tenant). */
    async ensure(tenantId: string): Promise<void> {
      const existing = await storage.signingKeys.findBy({ tenantId });
      if (SIGNING_ALGS.every((alg) => ['current', 'next'].every((s) => existing.some((k) => k.alg === alg && k.status === s)))) return;
      await storage.transaction(async (tx) => {
        await lockTenant(tx, tenantId);
        const keys = await tx.signingKeys.findBy({ tenantId });
        for (const alg of SIGNING_ALGS) {
          for (const status of ['current', 'next'] as const) {
            if (!keys.some((k) => k.alg === alg && k.status === status)) await tx.signingKeys.insert(generate(tenantId, alg, status, box));
          }
        }
      });
    },

    /**
     * Promotes `next` to `current`, retires the old current until `retainSeconds` from now (the
     * longest lifetime of a token it signed), creates a new `next`, and drops expired retirees.
     */
    async rotate(tenantId: string, retainSeconds: number): Promise<{ current: string[]; next: string[]; retired: string[] }> {
      await this.ensure(tenantId);
      await storage.transaction(async (tx) => {
        await lockTenant(tx, tenantId);
        await tx.signingKeys.delete({ tenantId, status: 'retired', retireAt: LessThan(new Date()) });
        const retireAt = new Date(Date.now() + retainSeconds * 1000);
        for (const alg of SIGNING_ALGS) {
          await tx.signingKeys.update({ tenantId, alg, status: 'current' }, { status: 'retired', retireAt });
          await tx.signingKeys.update({ tenantId, alg, status: 'next' }, { status: 'current' });
          await tx.signingKeys.insert(generate(tenantId, alg, 'next', box));
        }
      });
      const keys = await storage.signingKeys.findBy({ tenantId });
      const kids = (s: string) => keys.filter((k) => k.status === s).map((k) => k.kid);
      return { current: kids('current'), next: kids('next'), retired: kids('retired') };
    },

    /** Private JWKS for oidc-provider: current keys first (they sign), then next and retired. */
    async load(tenantId: string): Promise<{ keys: Jwk[]; fingerprint: string }> {
      const order = { current: 0, next: 1, retired: 2 } as const;
      const now = Date.now();
      const rows = (await storage.signingKeys.findBy({ tenantId }))
        .filter((k) => k.status !== 'retired' || (k.retireAt && k.retireAt.getTime() > now))
        .sort((a, b) => order[a.status] - order[b.status] || a.createdAt.getTime() - b.createdAt.getTime());
      return {
        keys: rows.map((k) => JSON.parse(box.open(k.privateJwkSealed, sealContext(k.kid))) as Jwk),
        fingerprint: rows.map((k) => `${k.kid}:${k.status}`).join(','),
      };
    },

    /** Cheap check used to notice a rotation made by another node. */
    async fingerprint(tenantId: string): Promise<string> {
      const rows = await queries.signingKeys.publishedStates(storage, tenantId);
      return rows.map((k) => `${k.kid}:${k.status}`).join(',');
    },
  };
}
export type SigningKeys = ReturnType<typeof createSigningKeys>;
