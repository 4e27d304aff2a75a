// What a new campaign reviews, taken once when it is created: every in-scope user's assignments
// (their own, delegations and break-glass or elevation grants marked by origin, and those held
// through a team, marked with the team) and the API keys they own or that belong to them, with last
// sign-in and last use, and whether that is older than the campaign's unused-days setting.
import { randomUUID } from 'node:crypto';
import { In, queries, type Repos, type ReviewCampaign, type Tenant, type User } from '../storage/index.ts';
import { usersWithin } from './admin-authority.ts';

const DAY = 86_400_000;

/** API keys as the key service lists them: state, last use and uses per day. */
export interface ListedKey {
  id: string;
  name: string;
  serviceUserId: string;
  ownerId: string | null;
  account?: string;
  permissions: string[];
  state: string;
  lastUsedAt: Date | null;
  createdAt: Date;
  usesPerDay: Record<string, number>;
}

/** The users a campaign covers: the tenant's, or those with an assignment at the location (or below) or institution. */
async function usersInScope(tx: Repos, tenant: Tenant, campaign: Pick<ReviewCampaign, 'scopeType' | 'scopeId'>): Promise<User[]> {
  if (campaign.scopeType === 'tenant') return tx.users.findBy({ tenantId: tenant.id });
  const locations = new Map((await tx.locations.findBy({ tenantId: tenant.id })).map((l) => [l.id, l]));
  const ids = await usersWithin(tx, tenant.id, [{ scopeType: campaign.scopeType, scopeId: campaign.scopeId }], locations);
  return ids.length ? tx.users.findBy({ tenantId: tenant.id, id: In(ids) }) : [];
}

export async function snapshotItems(tx: Repos, tenant: Tenant, campaign: ReviewCampaign, keys: ListedKey[], now: Date): Promise<queries.accessReviews.NewItem[]> {
  const users = await usersInScope(tx, tenant, campaign);
  if (!users.length) return [];
  const userIds = users.map((u) => u.id);
  const [roles, locations, institutions, applications, memberships] = await Promise.all([
    tx.roles.findBy({ tenantId: tenant.id }),
    tx.locations.findBy({ tenantId: tenant.id }),
    tx.institutions.findBy({ tenantId: tenant.id }),
    tx.applications.findBy({ tenantId: tenant.id }),
    tx.teamMembers.findBy({ userId: In(userIds) }),
  ]);
  const teamIds = [...new Set(memberships.map((m) => m.teamId))];
  const [teams, assignments] = await Promise.all([
    teamIds.length ? tx.teams.findBy({ id: In(teamIds) }) : [],
    tx.assignments.find({ where: teamIds.length ? [{ userId: In(userIds) }, { teamId: In(teamIds) }] : [{ userId: In(userIds) }] }),
  ]);
  const roleKey = new Map(roles.map((r) => [r.id, r.key]));
  const teamKey = new Map(teams.map((t) => [t.id, t.key]));
  const place = new Map<string | null, string>([
    ...locations.map((l) => [l.id, `location:${l.key}`] as const),
    ...institutions.map((i) => [i.id, `institution:${i.key}`] as const),
    ...applications.map((a) => [a.id, `application:${a.clientId}`] as const),
  ]);
  const scopeLabel = (a: { scopeType: string; scopeId: string | null }) => (a.scopeType === 'tenant' ? 'tenant' : place.get(a.scopeId) ?? `${a.scopeType}:${a.scopeId}`);
  const unusedBefore = now.getTime() - campaign.unusedDays * DAY;
  const stale = (last: Date | null, since: Date) => (last ?? since).getTime() < unusedBefore;
  const live = assignments.filter((a) => !a.expiresAt || a.expiresAt > now);

  const items: queries.accessReviews.NewItem[] = [];
  for (const user of users) {
    const base = { id: '', campaignId: campaign.id, userId: user.id, username: user.username, lastSignInAt: user.lastLoginAt, unused: stale(user.lastLoginAt, user.createdAt) };
    const teamsOfUser = new Set(memberships.filter((m) => m.userId === user.id).map((m) => m.teamId));
    for (const a of live.filter((x) => x.userId === user.id || (x.teamId && teamsOfUser.has(x.teamId)))) {
      const origin = a.teamId ? `team:${teamKey.get(a.teamId)}` : a.origin === 'manual' ? 'direct' : a.origin;
      items.push({ ...base, id: randomUUID(), kind: 'assignment', subjectId: a.id, role: roleKey.get(a.roleId) ?? a.roleId, scope: scopeLabel(a), origin, teamId: a.teamId, lastUsedAt: null, uses30Days: null });
    }
    for (const k of keys.filter((x) => (x.ownerId === user.id || x.serviceUserId === user.id) && x.state !== 'revoked' && x.state !== 'expired')) {
      // A key of a service account is reviewed under the account and again under its owner.
      const uses = Object.values(k.usesPerDay).reduce((n, v) => n + v, 0);
      items.push({
        ...base, id: randomUUID(), kind: 'api_key', subjectId: k.id, role: `key:${k.name}`, scope: k.permissions.join(' '), origin: `api_key:${k.account ?? k.serviceUserId}`, teamId: null,
        lastUsedAt: k.lastUsedAt, uses30Days: uses, unused: stale(k.lastUsedAt ? new Date(k.lastUsedAt) : null, new Date(k.createdAt)),
      });
    }
  }
  return items;
}
