// Locations, institutions and teams share one shape: a key and a name within a tenant (locations
// add a parent). One implementation serves the three; what only teams have is in team-service.ts.
import { randomUUID } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.ts';
import { isUniqueViolation, type Repos } from '../storage/index.ts';
import { requireByKey, requireTenant, type AccountsContext, type Actor } from './context.ts';
import { parseInput } from './parse-input.ts';
import { locationInput, locationPatch, namedInput, teamPatch, type LocationPatch } from './schemas.ts';
import { beginAdminCheck } from './last-admin-guard.ts';
import { loadAuthority, type AdminTarget } from './admin-authority.ts';
import { locationAndDescendants } from '../authz/index.ts';

type KeyedKind = 'location' | 'institution' | 'team';

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const repoOf = (tx: Repos, kind: KeyedKind) =>
  (kind === 'location' ? tx.locations : kind === 'institution' ? tx.institutions : tx.teams) as unknown as Repos['locations'];

/**
 * Where a keyed row lies for the scope check: a location is administered from its parent (a
 * location manager creates and deletes the locations below theirs, not their own), an institution
 * where it is; teams, like every tenant-wide object, tenant-wide.
 */
function placeOf(kind: KeyedKind, row: { id: string; parentId?: string | null }, asParent: boolean): AdminTarget {
  if (kind === 'team') return { kind: 'tenant' };
  const id = kind === 'location' && asParent ? row.parentId : row.id;
  return id ? { kind: 'scope', scope: { scopeType: kind, scopeId: id } } : { kind: 'tenant' };
}

export function createKeyedService(kind: KeyedKind, { storage, audit }: AccountsContext) {
  const permission = (action: string) => `caregate.${kind === 'location' ? 'locations' : kind === 'institution' ? 'institutions' : 'teams'}:${action}`;
  return {
    async create(tenantSlug: string, raw: { key: string; name?: string; parent?: string }, actor: Actor) {
      const input = parseInput(kind === 'location' ? locationInput : namedInput, { ...raw, name: raw.name ?? raw.key }) as { key: string; name: string; parent?: string };
      try {
        return await storage.transaction(async (tx) => {
          const tenant = await requireTenant(tx, tenantSlug);
          const repo = repoOf(tx, kind);
          if (await repo.findOneBy({ tenantId: tenant.id, key: input.key })) throw new ConflictError(`${kind} "${input.key}" already exists`);
          const parent = input.parent ? await requireByKey(repo, tenant.id, input.parent, `parent ${kind}`) : null;
          await (await loadAuthority(tx, tenant, actor)).require(permission('create'), parent ? placeOf(kind, parent, false) : { kind: 'tenant' });
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

    /** With `actor`, only the rows within their read scope: a location manager's subtree, a coordinator's institution. */
    async list(tenantSlug: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const rows = await repoOf(storage, kind).find({ where: { tenantId: tenant.id }, order: { key: 'ASC' } });
      const authority = actor ? await loadAuthority(storage, tenant, actor) : undefined;
      const reach = authority?.reach(permission('read'));
      if (!reach || reach.some((s) => s.scopeType === 'tenant')) return rows;
      const visible = new Set(reach.filter((s) => s.scopeType === kind).flatMap((s) => (kind === 'location' ? locationAndDescendants(s.scopeId, authority!.snapshot!.locations) : [s.scopeId!])));
      return rows.filter((r) => visible.has(r.id));
    },

    /** `actor`, when given, must hold the read permission where the row is. */
    async get(tenantSlug: string, key: string, actor?: Actor) {
      const tenant = await requireTenant(storage, tenantSlug);
      const row = await requireByKey(repoOf(storage, kind), tenant.id, key, kind);
      if (actor) await (await loadAuthority(storage, tenant, actor)).require(permission('read'), placeOf(kind, row, false));
      return row;
    },

    /**
     * Renames (locations, institutions) or moves (locations) a row; its key, and the assignments at
     * it, stay. Editing needs the edit permission at the row; a move needs it at the new parent too
     * (tenant-wide for the top level), so a location manager cannot carry a location out of their
     * subtree. A location cannot move below itself.
     */
    async update(tenantSlug: string, key: string, raw: LocationPatch, actor: Actor) {
      if (kind === 'team') throw new ValidationError('a team is renamed through the team service');
      const input = parseInput(kind === 'location' ? locationPatch : teamPatch, raw) as LocationPatch;
      return storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const repo = repoOf(tx, kind);
        const before = await requireByKey(repo, tenant.id, key, kind);
        const authority = await loadAuthority(tx, tenant, actor);
        await authority.require(permission('edit'), placeOf(kind, before, false));
        const changes: { name?: string; parentId?: string | null } = {};
        if (input.name !== undefined) changes.name = input.name;
        if (kind === 'location' && input.parent !== undefined) {
          const parent = input.parent === null ? null : await requireByKey(repo, tenant.id, input.parent, 'parent location');
          await authority.require(permission('edit'), parent ? placeOf(kind, parent, false) : { kind: 'tenant' });
          if (parent) {
            const all = await tx.locations.findBy({ tenantId: tenant.id });
            const below = locationAndDescendants(before.id, new Map(all.map((l) => [l.id, { parentId: l.parentId ?? null }])));
            if (below.includes(parent.id)) {
              const issue = `parent: ${parent.id === before.id ? `location "${key}" cannot be its own parent` : `location "${key}" cannot move below "${parent.key}", which lies within it`}`;
              throw new ValidationError(issue, { issues: [issue] });
            }
          }
          changes.parentId = parent?.id ?? null;
        }
        await repo.update({ id: before.id }, changes as never);
        const after = { ...before, ...changes };
        const action = kind === 'location' && 'parentId' in changes && changes.parentId !== before.parentId ? 'location.move' : `${kind}.update`;
        await audit.record({ tenantId: tenant.id, actor, action, target: { type: kind, id: before.id }, before, after }, tx);
        return after;
      });
    },

    /**
     * Deletes a row. A location or an institution goes only when empty — no location below it, no
     * role held at it — and is otherwise refused (409) naming what is left; a team ends its roles.
     */
    async remove(tenantSlug: string, key: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const tenant = await requireTenant(tx, tenantSlug);
        const repo = repoOf(tx, kind);
        const row = await requireByKey(repo, tenant.id, key, kind);
        await (await loadAuthority(tx, tenant, actor)).require(permission('delete'), placeOf(kind, row, true));
        if (kind === 'team' && key === 'everyone') throw new ValidationError('the "everyone" team cannot be deleted');
        if (kind !== 'team') {
          const children = kind === 'location' ? await tx.locations.find({ where: { tenantId: tenant.id, parentId: row.id }, order: { key: 'ASC' } }) : [];
          const held = await tx.assignments.countBy({ tenantId: tenant.id, scopeType: kind, scopeId: row.id });
          const left = [
            children.length && `${plural(children.length, 'location', 'locations')} below it (${children.map((c) => c.key).join(', ')})`,
            held && `${plural(held, 'role assignment', 'role assignments')} at it`,
          ].filter(Boolean);
          if (left.length) {
            throw new ConflictError(`${kind} "${key}" is not empty: ${left.join(' and ')}; ${children.length ? 'move or delete those locations' : ''}${children.length && held ? ' and ' : ''}${held ? 'remove those roles' : ''} first`, {
              locations: children.map((c) => c.key), assignments: held,
            });
          }
        }
        const keepAdmin = kind === 'team' ? await beginAdminCheck(tx, tenant) : undefined;
        await repo.delete({ id: row.id });
        await keepAdmin?.(`deleting team "${key}"`);
        await audit.record({ tenantId: tenant.id, actor, action: `${kind}.delete`, target: { type: kind, id: row.id }, before: row }, tx);
      });
    },
  };
}
export type KeyedService = ReturnType<typeof createKeyedService>;
