// The account side of oidc-provider: who the subject is and which claims a token for a given
// application carries. Claims are computed at issue time, so a role change shows in the next token.
import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import { addressMaySignIn, canSignIn, claimedAttributes, createOneTimeGrants, loadAuthzSnapshot, resolveUserProfile, snapshotFrom, withoutOneTime, type ClaimsCache, type IssuanceParty } from '../accounts/index.ts';
import type { AuditWriter } from '../audit/index.ts';
import { claimsValidUntil, projectClaims, restrictSnapshot, type AuthzSnapshot, type ProjectionTarget } from '../authz/index.ts';
import type { Storage, Tenant, User } from '../storage/index.ts';

/** One issuance of tokens (a token-endpoint request, a SAML assertion): its tokens may carry a one-time grant it consumed. */
export interface Issuance {
  /** The same object for every token of the issuance (the request's context). */
  key: object;
  party: IssuanceParty;
}

export interface ClaimsSource {
  /**
   * Claims of `user` projected for an application (its catalogue), for a request from `address`
   * (roles that require a network it is outside are left out; unknown or not given: outside every range).
   */
  forUser(user: User, target: ProjectionTarget, address?: string): Promise<Record<string, unknown>>;
  /** The same, through an API key carrying `permissions`: the account's access narrowed to the key's. */
  forKey(user: User, permissions: readonly string[], target: ProjectionTarget, address?: string): Promise<Record<string, unknown>>;
  /** Until when those claims hold (the earliest end among the assignments shaping them); null: no end. */
  validUntil(user: User, target: ProjectionTarget, address?: string): Promise<Date | null>;
  /**
   * The same two for a token being issued: a one-time grant the token would carry is consumed by
   * the first issuance and carried by its tokens only (forUser and validUntil never carry one).
   */
  forIssue(issuance: Issuance, user: User, target: ProjectionTarget, address?: string): Promise<Record<string, unknown>>;
  validUntilForIssue(issuance: Issuance, user: User, target: ProjectionTarget, address?: string): Promise<Date | null>;
  /** False when the tenant's network rule leaves `address` out: nothing is issued to it. */
  addressAllowed(address: string | undefined): Promise<boolean>;
  findActiveUser(userId: string): Promise<User | undefined>;
  /** The user's profile attributes the tenant declares as claims (undefined when none). */
  attributesOf(user: User): Promise<Record<string, unknown> | undefined>;
}

/**
 * Claims and users come from the tenant's claims cache (emptied by every admin change). With
 * `audit`, issuances consume one-time grants; without (the decision endpoint), none is ever carried.
 */
export function createClaimsSource(storage: Storage, tenant: Tenant, claimsCache: ClaimsCache, audit?: AuditWriter): ClaimsSource {
  const cached = (user: User) => claimsCache.get(tenant.id, `snapshot:${user.id}`, () => loadAuthzSnapshot(storage, user));
  const fullSnapshotOf = async (user: User, address: string | undefined) => snapshotFrom({ storage, claimsCache }, tenant.id, await cached(user), address);
  const snapshotOf = async (user: User, address: string | undefined) => withoutOneTime(await fullSnapshotOf(user, address));
  const oneTime = audit && createOneTimeGrants({ storage, audit, claimsCache });
  const issuedSnapshot = async (issuance: Issuance, user: User, target: ProjectionTarget, address: string | undefined): Promise<AuthzSnapshot> =>
    oneTime ? oneTime.forIssue(issuance.key, tenant.id, user, await fullSnapshotOf(user, address), target, issuance.party) : snapshotOf(user, address);
  const claimsOf = (snapshot: AuthzSnapshot, target: ProjectionTarget) => ({ tenant: tenant.slug, tenant_id: tenant.id, ...projectClaims(snapshot, target) });
  return {
    // The snapshot is cached; the projection runs each time, so validity windows are exact.
    async forUser(user, target, address) {
      return claimsOf(await snapshotOf(user, address), target);
    },
    async forKey(user, permissions, target, address) {
      return claimsOf(restrictSnapshot(await snapshotOf(user, address), permissions), target);
    },
    async validUntil(user, target, address) {
      return claimsValidUntil(await snapshotOf(user, address), target);
    },
    async forIssue(issuance, user, target, address) {
      return claimsOf(await issuedSnapshot(issuance, user, target, address), target);
    },
    async validUntilForIssue(issuance, user, target, address) {
      return claimsValidUntil(await issuedSnapshot(issuance, user, target, address), target);
    },
    addressAllowed: (address) => addressMaySignIn({ storage, claimsCache }, tenant.id, address ?? ''),
    // The declarations are read through the cache every admin change empties, not from the
    // tenant this provider was built with (which lives as long as the provider).
    async attributesOf(user) {
      if (!user.attributes || !Object.keys(user.attributes).length) return undefined;
      const declared = await claimsCache.get(tenant.id, 'user-profile', async () => (await storage.tenants.findOneBy({ id: tenant.id }))?.userProfile ?? {});
      const claimed = claimedAttributes(resolveUserProfile(declared), user.attributes);
      return Object.keys(claimed).length ? claimed : undefined;
    },
    async findActiveUser(userId) {
      if (!/^[0-9a-f-]{36}$/i.test(userId)) return undefined;
      const user = await claimsCache.get(tenant.id, `user:${userId}`, () => storage.users.findOneBy({ tenantId: tenant.id, id: userId }));
      return user && canSignIn(user) ? user : undefined;
    },
  };
}

/** The token endpoint's requests are issuances; every other route (userinfo, authorization) is not. */
export function issuanceOf(ctx: KoaContextWithOIDC): Issuance | undefined {
  return ctx.oidc.route === 'token' ? { key: ctx, party: { client: ctx.oidc.client?.clientId ?? null, protocol: 'oidc' } } : undefined;
}

/** The requesting client's application, as projection target. */
export function clientTarget(ctx: KoaContextWithOIDC): ProjectionTarget {
  const client = ctx.oidc.client as unknown as { caregate_app_id?: string; caregate_permissions?: string[] } | undefined;
  return { applicationId: client?.caregate_app_id ?? null, catalogue: client?.caregate_permissions ?? [] };
}

/** Where a request comes from for network rules, and what to do when the tenant's rule refuses it. */
export interface RequestNetwork {
  addressOf(ctx: KoaContextWithOIDC): Promise<string | undefined>;
  refused(ctx: KoaContextWithOIDC, user: User, address: string | undefined): Promise<void>;
}

export function createFindAccount(source: ClaimsSource, network: RequestNetwork) {
  return async function findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
    const user = await source.findActiveUser(sub);
    if (!user) return undefined;
    // Outside the tenant's network there is no account: a session asks to sign in again (and is
    // shown why), a refresh or code exchange fails as invalid_grant, userinfo as invalid_token.
    const address = await network.addressOf(ctx);
    if (!(await source.addressAllowed(address))) {
      await network.refused(ctx, user, address);
      return undefined;
    }
    return {
      accountId: user.id,
      async claims() {
        // An ID token from the token endpoint is issued (and may carry a one-time grant); userinfo is not.
        const issuance = issuanceOf(ctx);
        const authz = issuance ? await source.forIssue(issuance, user, clientTarget(ctx), address) : await source.forUser(user, clientTarget(ctx), address);
        return {
          sub: user.id,
          name: user.displayName ?? undefined,
          given_name: user.givenName ?? undefined,
          family_name: user.familyName ?? undefined,
          preferred_username: user.username,
          user_type: user.userType ?? undefined,
          vendor: user.outsideVendor,
          attributes: await source.attributesOf(user),
          updated_at: Math.floor(user.updatedAt.getTime() / 1000),
          email: user.email ?? undefined,
          email_verified: user.email ? false : undefined,
          phone_number: user.phone ?? undefined,
          phone_number_verified: user.phone ? false : undefined,
          ...authz,
        };
      },
    };
  };
}
