// Just-in-time provisioning, written once for every upstream source (federation and directory):
// find the user an upstream identity belongs to (by its link, else — where allowed — by a
// verified email), or create them; bring the profile fields the source owns up to date; and
// replace what the source's mapping rules granted before with what they grant now. All in one
// transaction: a refusal (unverified email, a PHI role for a user without the PHI flag, a rule
// naming a role that no longer exists) leaves nothing behind.
import { createHash, randomUUID } from 'node:crypto';
import { roleRequiresPhi } from '../authz/index.ts';
import { canSignIn, dropPhiAssignments, loadRoleDefinitions, publicUser } from '../accounts/index.ts';
import type { AuditActor, AuditWriter } from '../audit/index.ts';
import { In, isUniqueViolation, queries, type Assignment, type AssignmentOrigin, type Repos, type Storage, type Tenant, type User } from '../storage/index.ts';
import { evaluateMappings, type MappingOutcome, type MappingRule, type Scope } from './mapping-rules.ts';
import { UpstreamError, type UpstreamIdentity } from './upstream-identity.ts';

export const PROFILE_FIELDS = ['email', 'displayName', 'phone'] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

/** How one source provisions: the connection's or directory source's settings, in one shape. */
export interface UpstreamPolicy {
  upstream: string;
  origin: Extract<AssignmentOrigin, 'federation-mapping' | 'ldap-group'>;
  /** Create a user at their first sign-in (else only users already linked may sign in). */
  jit: boolean;
  /** Link to an existing account with the same, upstream-verified email (never silently: audited). */
  linkByEmail: boolean;
  /** Refuse an identity whose email the upstream does not vouch for. */
  requireVerifiedEmail: boolean;
  /** Profile fields the source owns: set at creation and updated at every sign-in. */
  profileFields: readonly ProfileField[];
  mappings: MappingRule[];
}

export interface ProvisionDeps {
  storage: Storage;
  audit: AuditWriter;
}

export interface Provisioned {
  user: User;
  created: boolean;
  linked: boolean;
  /** Anything written: every change is audited, so this is "an audit event was recorded". */
  changed: boolean;
  outcome: MappingOutcome;
}

export interface ProvisionOptions {
  /** A sign-in (the default) notes the link's last use; a directory sync does not. */
  signIn?: boolean;
  /** Added to the details of every audit event (a sync tags its run). */
  tag?: Record<string, unknown>;
  /** What does not change between the people of one sync run, read once. */
  cache?: ProvisionCache;
  /** Written on the identity link with the rest (a sync's digest of what it applied, and the directory profile). */
  linkRecord?: { syncDigest: string; profile: Record<string, string> };
}

export interface ProvisionCache {
  definitions?: Awaited<ReturnType<typeof loadRoleDefinitions>>;
  everyoneTeamId?: string | null;
}

const USERNAME = /[^A-Za-z0-9._@+-]/g;

export async function provisionUser(deps: ProvisionDeps, tenant: Tenant, policy: UpstreamPolicy, identity: UpstreamIdentity, options: ProvisionOptions = {}): Promise<Provisioned> {
  try {
    return await deps.storage.transaction((tx) => provisionUserIn(deps, tx, tenant, policy, identity, options));
  } catch (error) {
    // Two first sign-ins of one person at once: the other created the link; use it.
    if (isUniqueViolation(error) && String((error as Error).message).includes('user_identities')) {
      return deps.storage.transaction((tx) => provisionUserIn(deps, tx, tenant, policy, identity, options));
    }
    if (isUniqueViolation(error)) throw new UpstreamError('email_taken', 'another account holds this email address');
    throw error;
  }
}

/** The same, inside a transaction the caller owns (a directory sync adds its own writes to it). */
export async function provisionUserIn(deps: ProvisionDeps, tx: Repos, tenant: Tenant, policy: UpstreamPolicy, identity: UpstreamIdentity, options: ProvisionOptions = {}): Promise<Provisioned> {
  // 1. An email the upstream does not vouch for is neither stored nor used to link.
  if (identity.email && !identity.emailVerified && policy.requireVerifiedEmail) {
    throw new UpstreamError('email_unverified', `the upstream did not verify ${identity.email}`);
  }
  const actor: AuditActor = { type: 'system', id: policy.upstream };
  const cache = (options.cache ??= {});
  let changed = false;
  const audit = (input: Omit<Parameters<AuditWriter['record']>[0], 'tenantId' | 'actor'>) => {
    changed = true;
    return deps.audit.record({ tenantId: tenant.id, actor, ...input, details: { upstream: policy.upstream, ...options.tag, ...input.details } }, tx);
  };

  // 2. Whose identity is this: the link, else a verified email where linking is allowed, else new.
  let created = false;
  let linked = false;
  let user = await linkedUser(tx, tenant.id, policy.upstream, identity.subject);
  if (!user) {
    const byEmail = identity.email ? await userWithEmail(tx, tenant.id, identity.email) : undefined;
    if (byEmail && !policy.linkByEmail) throw new UpstreamError('email_taken', `user ${byEmail.id} holds ${identity.email}; this source may not link to it`);
    if (byEmail) {
      if (!identity.emailVerified) throw new UpstreamError('email_unverified', `linking to ${byEmail.id} needs an email the upstream verified`);
      user = byEmail;
      linked = true;
    } else if (policy.jit) {
      user = await createUser(tx, tenant, policy, identity, options);
      created = true;
      await audit({ action: 'user.create', target: { type: 'user', id: user.id }, after: publicUser(user), details: { subject: identity.subject } });
    } else {
      throw new UpstreamError('not_provisioned', `no user is linked to ${identity.subject} and this source does not create users`);
    }
    await tx.userIdentities.insert({ id: randomUUID(), tenantId: tenant.id, userId: user.id, upstream: policy.upstream, subject: identity.subject, email: identity.email ?? null, createdAt: new Date(), lastLoginAt: null });
    if (linked) await audit({ action: 'user.link', target: { type: 'user', id: user.id }, details: { subject: identity.subject, email: identity.email, reason: 'verified_email' } });
  }

  // 3. Only accounts that may sign in go further (a disabled one stays disabled).
  if (!canSignIn(user)) {
    throw new UpstreamError('not_active', `user ${user.id} is ${user.status}`);
  }

  // 4. Profile fields the source owns follow the upstream.
  user = await updateProfile(tx, user, policy, identity, audit);

  // 5. Mapping rules: the full set this source grants, checked whole before any of it is written.
  const outcome = evaluateMappings(policy.mappings, identity.attributes);
  user = await applyMapping(deps, tx, tenant, user, policy, outcome, audit, { created, cache });

  const record = options.linkRecord;
  await queries.identities.recordUse(
    tx,
    { tenantId: tenant.id, upstream: policy.upstream, subject: identity.subject },
    { email: identity.email ?? null, signIn: options.signIn !== false, record },
  );
  return { user, created, linked, changed, outcome };
}

async function linkedUser(tx: Repos, tenantId: string, upstream: string, subject: string): Promise<User | undefined> {
  const link = await tx.userIdentities.findOneBy({ tenantId, upstream, subject });
  return link ? ((await tx.users.findOneBy({ tenantId, id: link.userId })) ?? undefined) : undefined;
}

async function userWithEmail(tx: Repos, tenantId: string, email: string): Promise<User | undefined> {
  const id = await queries.users.findIdByEmail(tx, tenantId, email);
  return id ? ((await tx.users.findOneBy({ tenantId, id })) ?? undefined) : undefined;
}

/** A username from the upstream's, else the email, made unique with a digest of the subject. */
async function freeUsername(tx: Repos, tenantId: string, policy: UpstreamPolicy, identity: UpstreamIdentity): Promise<string> {
  const base = (identity.username || identity.email || `${policy.upstream.split(':')[1]}.${identity.subject}`).replace(USERNAME, '_').slice(0, 100) || 'user';
  if (!(await queries.users.usernameTaken(tx, tenantId, base))) return base;
  return `${base}.${createHash('sha256').update(`${policy.upstream}\0${identity.subject}`).digest('hex').slice(0, 8)}`;
}

async function createUser(tx: Repos, tenant: Tenant, policy: UpstreamPolicy, identity: UpstreamIdentity, options: ProvisionOptions): Promise<User> {
  const owns = (f: ProfileField) => policy.profileFields.includes(f);
  const now = new Date();
  const user: User = {
    id: randomUUID(),
    tenantId: tenant.id,
    username: await freeUsername(tx, tenant.id, policy, identity),
    // The email is always taken at creation (it is how the person is found and reached).
    email: identity.email?.toLowerCase() ?? null,
    phone: owns('phone') ? validPhone(identity.phone) : null,
    displayName: identity.displayName?.slice(0, 200) || null,
    status: 'active',
    kind: 'human',
    phiAccess: false,
    outsideVendor: false,
    source: policy.upstream,
    externalId: identity.subject,
    passwordHash: null,
    // Created by a sign-in, or by a sync (which is not one).
    lastLoginAt: options.signIn === false ? null : now,
    mustChangePassword: false,
    passwordChangedAt: null,
    lockedAt: null,
    expiresAt: null,
    reenabledAt: null,
    createdAt: now,
    updatedAt: now,
  };
  await tx.users.insert(user);
  const cache = (options.cache ??= {});
  if (cache.everyoneTeamId === undefined) cache.everyoneTeamId = (await tx.teams.findOneBy({ tenantId: tenant.id, key: 'everyone' }))?.id ?? null;
  if (cache.everyoneTeamId) await tx.teamMembers.insert({ teamId: cache.everyoneTeamId, userId: user.id, tenantId: tenant.id });
  return user;
}

const validPhone = (phone?: string) => (phone && /^\+[1-9][0-9]{6,14}$/.test(phone.replace(/[\s()-]/g, '')) ? phone.replace(/[\s()-]/g, '') : null);

type Audit = (input: Omit<Parameters<AuditWriter['record']>[0], 'tenantId' | 'actor'>) => Promise<void>;

async function updateProfile(tx: Repos, user: User, policy: UpstreamPolicy, identity: UpstreamIdentity, audit: Audit): Promise<User> {
  const owns = (f: ProfileField) => policy.profileFields.includes(f);
  const patch: Partial<Pick<User, ProfileField>> = {};
  if (owns('email') && identity.email && identity.email.toLowerCase() !== user.email) patch.email = identity.email.toLowerCase();
  if (owns('displayName') && identity.displayName && identity.displayName.slice(0, 200) !== user.displayName) patch.displayName = identity.displayName.slice(0, 200);
  const phone = owns('phone') ? validPhone(identity.phone) : null;
  if (phone && phone !== user.phone) patch.phone = phone;
  if (!Object.keys(patch).length) return user;
  const before = Object.fromEntries(Object.keys(patch).map((k) => [k, user[k as ProfileField]]));
  await tx.users.update({ id: user.id }, { ...patch, updatedAt: new Date() });
  await audit({ action: 'user.update', target: { type: 'user', id: user.id }, before, after: patch });
  return { ...user, ...patch };
}

const assignmentKey = (a: Pick<Assignment, 'roleId' | 'scopeType' | 'scopeId'>) => `${a.roleId}|${a.scopeType}|${a.scopeId ?? ''}`;

async function resolveScope(tx: Repos, tenantId: string, scope: Scope): Promise<Pick<Assignment, 'scopeType' | 'scopeId'>> {
  if (scope.type === 'tenant') return { scopeType: 'tenant', scopeId: null };
  const row = scope.type === 'application'
    ? await tx.applications.findOneBy({ tenantId, clientId: scope.clientId })
    : await (scope.type === 'location' ? tx.locations : tx.institutions).findOneBy({ tenantId, key: scope.key });
  if (!row) throw new UpstreamError('mapping_refused', `a mapping rule names ${scope.type} "${scope.type === 'application' ? scope.clientId : scope.key}", which does not exist`);
  return { scopeType: scope.type, scopeId: row.id };
}

async function applyMapping(
  deps: ProvisionDeps, tx: Repos, tenant: Tenant, user: User, policy: UpstreamPolicy, outcome: MappingOutcome, audit: Audit,
  { created, cache = {} }: { created: boolean; cache?: ProvisionCache },
): Promise<User> {
  const definitions = (cache.definitions ??= await loadRoleDefinitions(tx, tenant.id));
  const roles = new Map([...definitions.values()].map((r) => [r.key, r]));
  const phi = outcome.phi ?? user.phiAccess;

  // Resolve and check everything first: nothing is written unless all of it can be.
  const wanted = new Map<string, Pick<Assignment, 'roleId' | 'scopeType' | 'scopeId'> & { role: string }>();
  for (const grant of outcome.roles) {
    const role = roles.get(grant.role);
    if (!role) throw new UpstreamError('mapping_refused', `a mapping rule names role "${grant.role}", which does not exist`);
    if (!phi && roleRequiresPhi(role.id, definitions)) {
      throw new UpstreamError('mapping_refused', `role "${role.key}" requires PHI access; the user does not have the PHI flag`, { role: role.key });
    }
    const a = { roleId: role.id, role: role.key, ...(await resolveScope(tx, tenant.id, grant.scope)) };
    wanted.set(assignmentKey(a), a);
  }
  const teams = new Map<string, string>();
  for (const key of outcome.teams) {
    const team = await tx.teams.findOneBy({ tenantId: tenant.id, key });
    if (!team) throw new UpstreamError('mapping_refused', `a mapping rule names team "${key}", which does not exist`);
    teams.set(team.id, key);
  }

  // The PHI flag, when the source owns it; clearing it removes every PHI role (as an admin's edit does).
  if (phi !== user.phiAccess) {
    await tx.users.update({ id: user.id }, { phiAccess: phi, updatedAt: new Date() });
    await audit({ action: 'user.update', target: { type: 'user', id: user.id }, before: { phiAccess: user.phiAccess }, after: { phiAccess: phi } });
    user = { ...user, phiAccess: phi };
    if (!phi) await dropPhiAssignments(deps.audit, tx, tenant, user, { type: 'system', id: policy.upstream });
  }

  // Role assignments this source made: drop what it no longer grants, add what is new.
  // (A user created a moment ago holds nothing yet.)
  const held = created ? [] : await tx.assignments.findBy({ tenantId: tenant.id, userId: user.id, upstream: policy.upstream });
  for (const a of held) {
    if (wanted.delete(assignmentKey(a))) continue;
    await tx.assignments.delete({ id: a.id });
    await audit({ action: 'assignment.delete', target: { type: 'assignment', id: a.id }, before: { ...a, role: definitions.get(a.roleId)?.key }, details: { reason: 'mapping' } });
  }
  for (const a of wanted.values()) {
    const { role, ...columns } = a;
    const row: Assignment = { id: randomUUID(), tenantId: tenant.id, userId: user.id, teamId: null, ...columns, startsAt: null, expiresAt: null, origin: policy.origin, upstream: policy.upstream, createdAt: new Date() };
    await tx.assignments.insert(row);
    await audit({ action: 'assignment.create', target: { type: 'assignment', id: row.id }, after: { ...row, role }, details: { reason: 'mapping' } });
  }

  // Team memberships likewise; a membership an admin made is left alone.
  // (A user created a moment ago is in the everyone team only.)
  const memberships = created
    ? (cache.everyoneTeamId ? [{ teamId: cache.everyoneTeamId, userId: user.id, tenantId: tenant.id, upstream: null }] : [])
    : await tx.teamMembers.findBy({ tenantId: tenant.id, userId: user.id });
  for (const m of memberships) {
    if (teams.delete(m.teamId) || m.upstream !== policy.upstream) continue;
    await tx.teamMembers.delete({ teamId: m.teamId, userId: user.id });
    await audit({ action: 'team.member.remove', target: { type: 'team', id: m.teamId }, before: { userId: user.id }, details: { reason: 'mapping' } });
  }
  for (const [teamId, key] of teams) {
    await tx.teamMembers.insert({ teamId, userId: user.id, tenantId: tenant.id, upstream: policy.upstream });
    await audit({ action: 'team.member.add', target: { type: 'team', id: teamId }, after: { userId: user.id, team: key }, details: { reason: 'mapping' } });
  }
  return user;
}
