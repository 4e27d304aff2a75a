// Locations, institutions and teams share one shape: a key and a name within a tenant (locations
// add a parent). One implementation serves the three.
import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.ts';
import { isUniqueViolation, type Repos } from '../storage/index.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { locationInput, namedInput } from './schemas.ts';
import { assertMayChangeMembership } from './grant-guard.ts';

type KeyedKind = 'location' | 'institution' | 'team';
const repoOf = (tx: Repos, kind: KeyedKind) =>
  (kind === 'location' ? tx.locations : kind === 'institution' ? tx.institutions : tx.teams) as unknown as Repos['locations'];

export function createKeyedService(kind: KeyedKind, { storage, audit }: AccountsContext) {
  return {
    async create(tenantSlug: string, raw: { key: string; name?: string; parent?: string }, actor: Actor) {
      const input = parseInput(kind === 'location' ? locationInput : namedInput, { ...raw, name: raw.name ?? raw.key }) as { key: string; name: string; parent?: string };
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          const repo = repoOf(tx, kind);
          if (await repo.findOneBy({ tenantId: tenant.id, key: input.key })) throw new ConflictError(`${kind} "${input.key}" already exists`);
          const parent = input.parent ? await requireByKey(repo, tenant.id, input.parent, `parent ${kind}`) : null;
          const row = { id: randomUUID(), tenantId: tenant.id, key: input.key, name: input.name, createdAt: new Date(), ...(kind === 'location' ? { parentId: parent?.id ?? null } : {}) };
          await repo.insert(row as never);
          await audit.record({ tenantId: tenant.id, actor, action: `${kind}.create`, target: { type: kind, id: row.id }, after: { ...row, parent: input.parent ?? null } }, tx);
          return row;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new ConflictError(`${kind} "${input.key}" already exists`);
        throw error;
      }
    },

    async list(tenantSlug: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return repoOf(storage, kind).find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } });
    },

    async get(tenantSlug: string, key: string) {
      const tenant = await requireTenant(storage, tenantSlug);
      return requireByKey(repoOf(storage, kind), tenant.id, key, kind);
    },

    async remove(tenantSlug: string, key: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const repo = repoOf(tx, kind);
        const row = await requireByKey(repo, tenant.id, key, kind);
        if (kind === 'team' && key === 'everyone') throw new ValidationError('the "everyone" team cannot be deleted');
        if (kind === 'location' && (await tx.locations.findOneBy({ tenantId: tenant.id, parentId: row.id }))) {
          throw new ValidationError(`location "${key}" has child locations; remove or move them first`);
        }
        await tx.assignments.delete({ tenantId: tenant.id, scopeType: kind as 'location', scopeId: row.id });
        await repo.delete({ id: row.id });
        await audit.record({ tenantId: tenant.id, actor, action: `${kind}.delete`, target: { type: kind, id: row.id }, before: row }, tx);
      });
    },
  };
}
export type KeyedService = ReturnType<typeof createKeyedService>;

/** Team membership, on top of the keyed team service. */
export function createTeamMembership({ storage, audit }: AccountsContext) {
  return {
    async add(tenantSlug: string, teamKey: string, userId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const team = await requireByKey(tx.teams, tenant.id, teamKey, 'team');
        if (!(await tx.users.findOneBy({ tenantId: tenant.id, id: userId }))) throw new ValidationError('user does not exist');
        await assertMayChangeMembership(tx, tenant, actor, team.id, userId, 'add to');
        if (await tx.teamMembers.findOneBy({ teamId: team.id, userId })) return;
        await tx.teamMembers.insert({ teamId: team.id, userId, tenantId: tenant.id });
        await audit.record({ tenantId: tenant.id, actor, action: 'team.member.add', target: { type: 'team', id: team.id }, after: { userId } }, tx);
      });
    },
    async remove(tenantSlug: string, teamKey: string, userId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const team = await requireByKey(tx.teams, tenant.id, teamKey, 'team');
        await assertMayChangeMembership(tx, tenant, actor, team.id, userId, 'remove from');
        await tx.teamMembers.delete({ teamId: team.id, userId });
        await audit.record({ tenantId: tenant.id, actor, action: 'team.member.remove', target: { type: 'team', id: team.id }, before: { userId } }, tx);
      });
    },
  };
}
