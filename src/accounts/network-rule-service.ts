// Network rules, as administrators manage them (issue 18): the tenant-wide rule — sign-in and
// refresh only from these ranges — needs caregate.policy:edit tenant-wide; a role's rule — tokens
// issued from elsewhere do not carry the role — needs caregate.roles:edit tenant-wide. Every
// change is audited with what it replaced. The rules are read at sign-in and token time through
// the claims cache, which the audit event empties.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { familyOf, normaliseRanges, rangeMatcher, RangeSyntaxError } from '../authz/index.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { queries, type NetworkRule, type Repos, type Tenant } from '../storage/index.ts';
import { loadAuthority } from './admin-authority.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';

export const networkRuleInput = z.strictObject({
  ranges: z.array(z.string().min(1).max(64)).min(1).max(200).describe('CIDR ranges, IPv4 or IPv6 ("10.20.0.0/16", "2001:db8:5::/48"); a bare address is one host'),
  description: z.string().max(500).optional().describe('What the ranges are, for the next administrator ("Main St clinic network")'),
  allowOutsideCaller: z.boolean().optional().describe('Tenant rule only: set it even though the caller\'s own address is outside it (they will not sign in again from there)'),
});
export type NetworkRuleInput = z.input<typeof networkRuleInput>;

/** A rule as the API shows it: ranges and description, who set it and when. */
const shown = (rule: NetworkRule) => ({ ranges: rule.ranges, description: rule.description, updatedBy: rule.updatedBy, updatedAt: rule.updatedAt });

export function createNetworkRuleService(ctx: AccountsContext) {
  const { storage, audit } = ctx;

  function parse(raw: NetworkRuleInput) {
    const input = parseInput(networkRuleInput, raw);
    try {
      return { ...input, ranges: normaliseRanges(input.ranges) };
    } catch (error) {
      if (error instanceof RangeSyntaxError) throw new ValidationError(`ranges: ${error.message}`);
      throw error;
    }
  }

  async function write(tx: Repos, tenant: Tenant, roleId: string | null, target: { type: string; id: string | null }, ranges: string[], description: string | undefined, actor: Actor) {
    const before = await queries.networkRules.find(tx, tenant.id, roleId);
    const saved = await queries.networkRules.put(tx, { id: randomUUID(), tenantId: tenant.id, roleId, ranges, description: description ?? null, updatedBy: `${actor.type}:${actor.id ?? '-'}` });
    await audit.record({ tenantId: tenant.id, actor, action: 'network_rule.set', target, before: before ? shown(before) : null, after: shown(saved) }, tx);
    return shown(saved);
  }

  async function drop(tx: Repos, tenant: Tenant, roleId: string | null, target: { type: string; id: string | null }, actor: Actor) {
    const before = await queries.networkRules.find(tx, tenant.id, roleId);
    if (!before || !(await queries.networkRules.remove(tx, tenant.id, roleId))) throw new NotFoundError('there is no network rule to remove');
    await audit.record({ tenantId: tenant.id, actor, action: 'network_rule.remove', target, before: shown(before), after: null }, tx);
  }

  return {
    /** The tenant-wide rule (null when none) and each role's rule, by role key. */
    async list(slug: string, actor?: Actor) {
      const tenant = await requireTenant(storage, slug);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require('caregate.policy:read', { kind: 'tenant' });
      const rules = await queries.networkRules.list(storage, tenant.id);
      const roles = new Map((await storage.roles.findBy({ tenantId: tenant.id })).map((r) => [r.id, r.key]));
      const tenantRule = rules.find((r) => r.roleId === null);
      return {
        tenant: tenantRule ? shown(tenantRule) : null,
        roles: rules.filter((r) => r.roleId).map((r) => ({ role: roles.get(r.roleId!) ?? null, ...shown(r) })),
      };
    },

    /**
     * Sets the tenant-wide rule. Refused (409) when the caller's own address is outside it, unless
     * they say so: one typo would otherwise lock every administrator out (the CLI still works).
     */
    async setTenantRule(slug: string, raw: NetworkRuleInput, actor: Actor) {
      const input = parse(raw);
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.policy:edit', { kind: 'tenant' });
        const caller = actor.ip && familyOf(actor.ip) ? actor.ip : null;
        if (caller && !input.allowOutsideCaller && !rangeMatcher(input.ranges)(caller)) {
          throw new ConflictError(`your address ${caller} is outside these ranges, so you could not sign in again from here; add it, or send allowOutsideCaller: true`, { reason: 'caller_outside' });
        }
        return write(tx, tenant, null, { type: 'tenant', id: tenant.id }, input.ranges, input.description, actor);
      });
    },

    async removeTenantRule(slug: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.policy:edit', { kind: 'tenant' });
        await drop(tx, tenant, null, { type: 'tenant', id: tenant.id }, actor);
      });
    },

    /** Makes a role require these ranges: tokens issued from elsewhere leave it out. */
    async setRoleRule(slug: string, roleKey: string, raw: NetworkRuleInput, actor: Actor) {
      const input = parse(raw);
      if (input.allowOutsideCaller !== undefined) throw new ValidationError('allowOutsideCaller: only for the tenant-wide rule');
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.roles:edit', { kind: 'tenant' });
        const role = await requireByKey(tx.roles, tenant.id, roleKey, 'role');
        return { role: role.key, ...(await write(tx, tenant, role.id, { type: 'role', id: role.id }, input.ranges, input.description, actor)) };
      });
    },

    async removeRoleRule(slug: string, roleKey: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, slug);
        await (await loadAuthority(tx, tenant, actor)).require('caregate.roles:edit', { kind: 'tenant' });
        const role = await requireByKey(tx.roles, tenant.id, roleKey, 'role');
        await drop(tx, tenant, role.id, { type: 'role', id: role.id }, actor);
      });
    },
  };
}
export type NetworkRuleService = ReturnType<typeof createNetworkRuleService>;
