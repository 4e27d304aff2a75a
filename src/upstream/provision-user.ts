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
import { In, insertMany, isUniqueViolation, queries, type Assignment, type AssignmentOrigin, type Repos, type Storage, type TeamMember, type Tenant, type User, type UserIdentity } from '../storage/index.ts';
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
  rolesByKey?: Map<string, { id: string; key: string }>;
  everyoneTeamId?: string | null;
  /** Scope ids by "type:key" and team ids by key, null where none exists. */
  scopes?: Map<string, string | null>;
  teams?: Map<string, string | null>;
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

/** The username a new user is given: the upstream's, else the email, else source and subject. */
function baseUsername(policy: UpstreamPolicy, identity: UpstreamIdentity): string {
  return (identity.username || identity.email || `${policy.upstream.split(':')[1]}.${identity.subject}`).replace(USERNAME, '_').slice(0, 100) || 'user';
}

/** The same, made unique with a digest of the subject when another user holds it. */
function suffixedUsername(base: string, policy: UpstreamPolicy, identity: UpstreamIdentity): string {
  return `${base}.${createHash('sha256').update(`${policy.upstream}\0${identity.subject}`).digest('hex').slice(0, 8)}`;
}

async function freeUsername(tx: Repos, tenantId: string, policy: UpstreamPolicy, identity: UpstreamIdentity): Promise<string> {
  const base = baseUsername(policy, identity);
  return (await queries.users.usernameTaken(tx, tenantId, base)) ? suffixedUsername(base, policy, identity) : base;
}

/** A new user's row, as every upstream creates it. */
function newUserRow(tenant: Tenant, policy: UpstreamPolicy, identity: UpstreamIdentity, username: string, options: ProvisionOptions): User {
  const owns = (f: ProfileField) => policy.profileFields.includes(f);
  const now = new Date();
  return {
    id: randomUUID(),
    tenantId: tenant.id,
    username,
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
}

async function everyoneTeam(tx: Repos, tenantId: string, cache: ProvisionCache): Promise<string | null> {
  if (cache.everyoneTeamId === undefined) cache.everyoneTeamId = (await tx.teams.findOneBy({ tenantId, key: 'everyone' }))?.id ?? null;
  return cache.everyoneTeamId;
}

async function createUser(tx: Repos, tenant: Tenant, policy: UpstreamPolicy, identity: UpstreamIdentity, options: ProvisionOptions): Promise<User> {
  const user = newUserRow(tenant, policy, identity, await freeUsername(tx, tenant.id, policy, identity), options);
  await tx.users.insert(user);
  const teamId = await everyoneTeam(tx, tenant.id, (options.cache ??= {}));
  if (teamId) await tx.teamMembers.insert({ teamId, userId: user.id, tenantId: tenant.id });
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

async function resolveScope(tx: Repos, tenantId: string, scope: Scope, cache: ProvisionCache): Promise<Pick<Assignment, 'scopeType' | 'scopeId'>> {
  if (scope.type === 'tenant') return { scopeType: 'tenant', scopeId: null };
  const name = scope.type === 'application' ? scope.clientId : scope.key;
  const scopes = (cache.scopes ??= new Map());
  const cacheKey = `${scope.type}:${name}`;
  if (!scopes.has(cacheKey)) {
    const row = scope.type === 'application'
      ? await tx.applications.findOneBy({ tenantId, clientId: scope.clientId })
      : await (scope.type === 'location' ? tx.locations : tx.institutions).findOneBy({ tenantId, key: scope.key });
    scopes.set(cacheKey, row?.id ?? null);
  }
  const id = scopes.get(cacheKey);
  if (!id) throw new UpstreamError('mapping_refused', `a mapping rule names ${scope.type} "${name}", which does not exist`);
  return { scopeType: scope.type, scopeId: id };
}

type WantedAssignment = Pick<Assignment, 'roleId' | 'scopeType' | 'scopeId'> & { role: string };

/** What the mapping outcome grants, resolved and checked whole: a refusal names the first thing that cannot be granted. */
async function resolveGrants(tx: Repos, tenantId: string, outcome: MappingOutcome, phi: boolean, cache: ProvisionCache) {
  const definitions = (cache.definitions ??= await loadRoleDefinitions(tx, tenantId));
  const roles = (cache.rolesByKey ??= new Map([...definitions.values()].map((r) => [r.key, r])));
  const wanted = new Map<string, WantedAssignment>();
  for (const grant of outcome.roles) {
    const role = roles.get(grant.role);
    if (!role) throw new UpstreamError('mapping_refused', `a mapping rule names role "${grant.role}", which does not exist`);
    if (!phi && roleRequiresPhi(role.id, definitions)) {
      throw new UpstreamError('mapping_refused', `role "${role.key}" requires PHI access; the user does not have the PHI flag`, { role: role.key });
    }
    const a = { roleId: role.id, role: role.key, ...(await resolveScope(tx, tenantId, grant.scope, cache)) };
    wanted.set(assignmentKey(a), a);
  }
  const teams = new Map<string, string>();
  const teamIds = (cache.teams ??= new Map());
  for (const key of outcome.teams) {
    if (!teamIds.has(key)) teamIds.set(key, (await tx.teams.findOneBy({ tenantId, key }))?.id ?? null);
    const id = teamIds.get(key);
    if (!id) throw new UpstreamError('mapping_refused', `a mapping rule names team "${key}", which does not exist`);
    teams.set(id, key);
  }
  return { definitions, wanted, teams };
}

async function applyMapping(
  deps: ProvisionDeps, tx: Repos, tenant: Tenant, user: User, policy: UpstreamPolicy, outcome: MappingOutcome, audit: Audit,
  { created, cache = {} }: { created: boolean; cache?: ProvisionCache },
): Promise<User> {
  const phi = outcome.phi ?? user.phiAccess;
  // Resolve and check everything first: nothing is written unless all of it can be.
  const { definitions, wanted, teams } = await resolveGrants(tx, tenant.id, outcome, phi, cache);

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

/** One person of a batch: provisioned with the events to record, refused, or left to `provisionUserIn`. */
export type BatchProvisioned =
  | { user: User; events: ProvisionEvent[] }
  | { error: UpstreamError }
  | { individually: true };

export type ProvisionEvent = Omit<Parameters<AuditWriter['record']>[0], 'tenantId' | 'actor'>;

/**
 * Creates many new people at once (a directory sync's first run): the same users, links, roles and
 * teams `provisionUserIn` would create one by one, written with one multi-row insert per table.
 * Nothing is recorded: each person's audit events come back for the caller to record with its
 * run. A person whose email another account holds (linking, or refusal) is left to
 * `provisionUserIn`; a refused person is not written. A write that fails (another node created
 * someone meanwhile) fails the whole call: the caller's transaction rolls back and it goes person
 * by person.
 */
export async function provisionNewUsersIn(
  tx: Repos, tenant: Tenant, policy: UpstreamPolicy,
  people: Array<{ identity: UpstreamIdentity; linkRecord: NonNullable<ProvisionOptions['linkRecord']> }>,
  options: Pick<ProvisionOptions, 'tag' | 'cache'> = {},
): Promise<BatchProvisioned[]> {
  const cache = (options.cache ??= {});
  const emails = await queries.users.heldEmails(tx, tenant.id, people.flatMap((p) => (p.identity.email ? [p.identity.email] : [])));
  const held = await queries.users.heldUsernames(tx, tenant.id, people.map((p) => baseUsername(policy, p.identity)));
  const teamId = await everyoneTeam(tx, tenant.id, cache);
  const rows = { users: [] as User[], identities: [] as UserIdentity[], assignments: [] as Assignment[], members: [] as TeamMember[] };
  const results: BatchProvisioned[] = [];
  for (const { identity, linkRecord } of people) {
    if (identity.email && !identity.emailVerified && policy.requireVerifiedEmail) {
      results.push({ error: new UpstreamError('email_unverified', `the upstream did not verify ${identity.email}`) });
      continue;
    }
    if ((identity.email && emails.has(identity.email.toLowerCase())) || !policy.jit) {
      results.push({ individually: true });
      continue;
    }
    const details = (extra?: Record<string, unknown>) => ({ upstream: policy.upstream, ...options.tag, ...extra });
    const outcome = evaluateMappings(policy.mappings, identity.attributes);
    const phi = outcome.phi ?? false;
    let grants: Awaited<ReturnType<typeof resolveGrants>>;
    try {
      grants = await resolveGrants(tx, tenant.id, outcome, phi, cache);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      results.push({ error });
      continue;
    }
    const base = baseUsername(policy, identity);
    const username = held.has(base.toLowerCase()) ? suffixedUsername(base, policy, identity) : base;
    held.add(username.toLowerCase());
    const user = newUserRow(tenant, policy, identity, username, { signIn: false });
    const events: ProvisionEvent[] = [{ action: 'user.create', target: { type: 'user', id: user.id }, after: publicUser(user), details: details({ subject: identity.subject }) }];
    if (phi) events.push({ action: 'user.update', target: { type: 'user', id: user.id }, before: { phiAccess: false }, after: { phiAccess: true }, details: details() });
    rows.users.push({ ...user, phiAccess: phi });
    rows.identities.push({
      id: randomUUID(), tenantId: tenant.id, userId: user.id, upstream: policy.upstream, subject: identity.subject, email: identity.email ?? null,
      createdAt: user.createdAt, lastLoginAt: null, disabledAt: null, syncDigest: linkRecord.syncDigest, profile: linkRecord.profile,
    });
    if (teamId) rows.members.push({ teamId, userId: user.id, tenantId: tenant.id });
    for (const { role, ...columns } of grants.wanted.values()) {
      const row: Assignment = { id: randomUUID(), tenantId: tenant.id, userId: user.id, teamId: null, ...columns, startsAt: null, expiresAt: null, origin: policy.origin, upstream: policy.upstream, createdAt: new Date() };
      rows.assignments.push(row);
      events.push({ action: 'assignment.create', target: { type: 'assignment', id: row.id }, after: { ...row, role }, details: details({ reason: 'mapping' }) });
    }
    for (const [id, key] of grants.teams) {
      if (id === teamId) continue; // already a member of everyone
      rows.members.push({ teamId: id, userId: user.id, tenantId: tenant.id, upstream: policy.upstream });
      events.push({ action: 'team.member.add', target: { type: 'team', id }, after: { userId: user.id, team: key }, details: details({ reason: 'mapping' }) });
    }
    results.push({ user: { ...user, phiAccess: phi }, events });
  }
  await insertMany(tx.users, rows.users);
  await insertMany(tx.userIdentities, rows.identities);
  await insertMany(tx.teamMembers, rows.members);
  await insertMany(tx.assignments, rows.assignments);
  return results;
}
