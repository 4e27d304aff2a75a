// Just-in-time provisioning and mapping rules, the part federation and directory sync share, on a
// real store: who an upstream identity is, what its groups grant, and that a refusal leaves
// nothing behind.
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createClinicDirectory } from '../../support/clinic-directory.ts';
import { mappingRules, provisionUser, type UpstreamIdentity, type UpstreamPolicy } from '../../../src/upstream/index.ts';
import type { Tenant } from '../../../src/storage/index.ts';

const cli = { type: 'cli' as const, id: 'test' };
let cg: TestCaregate;
let tenant: Tenant;

const policy = (overrides: Partial<UpstreamPolicy> = {}): UpstreamPolicy => ({
  upstream: 'federation:northwell', origin: 'federation-mapping', jit: true, linkByEmail: false, requireVerifiedEmail: true,
  profileFields: ['email', 'displayName', 'phone'],
  mappings: mappingRules.parse([
    { claim: 'groups', equals: 'ER Nurses', role: 'inventory', scope: { type: 'location', key: 'loc-north' } },
    { claim: 'groups', equals: 'Reporting', role: 'report_viewer' },
    { claim: 'department', equals: 'Research', team: 'study-coordinators' },
  ]),
  ...overrides,
});

const identity = (subject: string, overrides: Partial<UpstreamIdentity> = {}): UpstreamIdentity => ({
  upstream: 'federation:northwell', subject, email: `${subject}@northwell.example`, emailVerified: true, username: `${subject}@northwell.example`,
  displayName: `Person ${subject}`, attributes: { groups: [] }, mfa: false, ...overrides,
});

const provision = (p: UpstreamPolicy, i: UpstreamIdentity) => provisionUser(cg.runtime, tenant, p, i);

async function rolesOf(userId: string) {
  const rows = await cg.runtime.storage.query<{ role: string; upstream: string | null; scope: string | null }>(
    `SELECT r.key AS role, a.upstream, coalesce(l.key, i.key) AS scope FROM assignments a JOIN roles r ON r.id = a.role_id
       LEFT JOIN locations l ON l.id = a.scope_id LEFT JOIN institutions i ON i.id = a.scope_id WHERE a.user_id = $1 ORDER BY r.key`, [userId]);
  return rows.map((r) => `${r.role}${r.scope ? `@${r.scope}` : ''}${r.upstream ? '' : ' (manual)'}`);
}
const teamsOf = async (userId: string) =>
  (await cg.runtime.storage.query<{ key: string }>('SELECT t.key FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.key', [userId])).map((r) => r.key);
const auditActions = async (userId: string) =>
  (await cg.runtime.storage.query<{ action: string }>(`SELECT action FROM audit_events WHERE target_id = $1 OR after->>'userId' = $1 OR after->>'user_id' = $1 ORDER BY seq`, [userId])).map((r) => r.action);
const userCount = async () => Number((await cg.runtime.storage.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE tenant_id = $1', [tenant.id]))[0]!.n);

beforeAll(async () => {
  cg = await startTestCaregate();
  await createClinicDirectory(cg);
  tenant = (await cg.runtime.accounts.tenants.findBySlug('demo'))!;
  await cg.runtime.accounts.roles.create('demo', { key: 'chart_reader', name: 'Chart reader', permissions: ['patients:read'], requiresPhi: true }, cli);
});
afterAll(() => cg?.close());

describe('just-in-time provisioning', () => {
  it('creates the user at first sign-in, with the source, the upstream subject and the mapped roles and team', async () => {
    const { user, created } = await provision(policy(), identity('ava', { attributes: { groups: ['ER Nurses', 'Reporting'], department: ['Research'] }, phone: '+1 (555) 010-2030' }));
    expect(created).toBe(true);
    expect(user).toMatchObject({ source: 'federation:northwell', externalId: 'ava', email: 'ava@northwell.example', displayName: 'Person ava', phone: '+15550102030', status: 'active', passwordHash: null });
    expect(await rolesOf(user.id)).toEqual(['inventory@loc-north', 'report_viewer']);
    expect(await teamsOf(user.id)).toEqual(['everyone', 'study-coordinators']);
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['user.create', 'assignment.create', 'team.member.add']));
  });

  it('re-evaluates mapped roles at every sign-in: a group removed upstream removes its role; manual assignments stay', async () => {
    const first = await provision(policy(), identity('ben', { attributes: { groups: ['ER Nurses', 'Reporting'], department: ['Research'] } }));
    await cg.runtime.accounts.assignments.assign('demo', { userId: first.user.id }, { role: 'billing_user' }, cli);
    await cg.runtime.accounts.teamMembers.add('demo', 'study-coordinators', first.user.id, cli); // already a mapped member: stays mapped
    const again = await provision(policy(), identity('ben', { attributes: { groups: ['Reporting'], department: ['Finance'] } }));
    expect(again.created).toBe(false);
    expect(again.user.id).toBe(first.user.id);
    expect(await rolesOf(first.user.id)).toEqual(['billing_user (manual)', 'report_viewer']);
    expect(await teamsOf(first.user.id)).toEqual(['everyone']);
  });

  it('leaves a team membership an administrator made alone', async () => {
    const { user } = await provision(policy(), identity('cai'));
    await cg.runtime.accounts.teamMembers.add('demo', 'study-coordinators', user.id, cli);
    await provision(policy(), identity('cai', { attributes: { department: ['Research'] } }));
    await provision(policy(), identity('cai', { attributes: { department: [] } }));
    expect(await teamsOf(user.id)).toEqual(['everyone', 'study-coordinators']);
  });

  it('updates the profile fields the source owns at every sign-in, and only those', async () => {
    await provision(policy(), identity('dee'));
    const { user } = await provision(policy({ profileFields: ['displayName'] }), identity('dee', { displayName: 'Dee Renamed', email: 'dee.new@northwell.example' }));
    expect(user).toMatchObject({ displayName: 'Dee Renamed', email: 'dee@northwell.example' });
  });

  it('refuses a PHI role for a user without the PHI flag, and creates nothing (not half-applied)', async () => {
    const before = await userCount();
    const phiPolicy = policy({ mappings: mappingRules.parse([{ claim: 'groups', equals: 'Reporting', role: 'report_viewer' }, { claim: 'groups', equals: 'Charts', role: 'chart_reader' }]) });
    await expect(provision(phiPolicy, identity('eve', { attributes: { groups: ['Reporting', 'Charts'] } }))).rejects.toMatchObject({ reason: 'mapping_refused', detail: expect.stringMatching(/chart_reader.*PHI/) });
    expect(await userCount()).toBe(before);
    expect(await cg.runtime.storage.userIdentities.findOneBy({ tenantId: tenant.id, subject: 'eve' })).toBeNull();
  });

  it('grants the PHI role when a rule also grants the PHI flag, and takes both away when the group goes', async () => {
    const phiPolicy = policy({ mappings: mappingRules.parse([{ claim: 'groups', equals: 'Charts', phi: true }, { claim: 'groups', equals: 'Charts', role: 'chart_reader' }]) });
    const { user } = await provision(phiPolicy, identity('fay', { attributes: { groups: ['Charts'] } }));
    expect(user.phiAccess).toBe(true);
    expect(await rolesOf(user.id)).toEqual(['chart_reader']);
    const after = await provision(phiPolicy, identity('fay', { attributes: { groups: [] } }));
    expect(after.user.phiAccess).toBe(false);
    expect(await rolesOf(user.id)).toEqual([]);
  });

  it('refuses a rule naming a role that no longer exists, changing nothing', async () => {
    const { user } = await provision(policy(), identity('gus', { attributes: { groups: ['Reporting'] } }));
    const broken = policy({ mappings: mappingRules.parse([{ claim: 'groups', equals: 'Reporting', role: 'no_such_role' }]) });
    await expect(provision(broken, identity('gus', { attributes: { groups: ['Reporting'] }, displayName: 'Gus Changed' }))).rejects.toMatchObject({ reason: 'mapping_refused' });
    expect(await rolesOf(user.id)).toEqual(['report_viewer']);
    expect((await cg.runtime.accounts.users.get('demo', user.id)).displayName).toBe('Person gus');
  });
});

describe('who an upstream identity is', () => {
  it('refuses an email the upstream does not vouch for, and creates nothing', async () => {
    const before = await userCount();
    await expect(provision(policy(), identity('hal', { emailVerified: false }))).rejects.toMatchObject({ reason: 'email_unverified' });
    expect(await userCount()).toBe(before);
  });

  it('does not take over an existing account with the same email unless the connection links by email', async () => {
    const local = await cg.runtime.accounts.users.create('demo', { username: 'ivy', email: 'ivy@northwell.example', password: 'a-long-local-password-1' }, [], cli);
    await expect(provision(policy(), identity('ivy-upstream', { email: 'ivy@northwell.example' }))).rejects.toMatchObject({ reason: 'email_taken' });
    const linked = await provision(policy({ linkByEmail: true }), identity('ivy-upstream', { email: 'IVY@northwell.example', attributes: { groups: ['Reporting'] } }));
    expect(linked).toMatchObject({ linked: true, created: false, user: { id: local.id, source: 'local' } });
    expect(await auditActions(local.id)).toContain('user.link');
    // Later sign-ins find the link, whatever the email says by then.
    expect((await provision(policy(), identity('ivy-upstream', { email: 'ivy.new@northwell.example' }))).user.id).toBe(local.id);
  });

  it('links by email only when the upstream verified it', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'jo', email: 'jo@northwell.example', password: 'a-long-local-password-2' }, [], cli);
    await expect(provision(policy({ linkByEmail: true, requireVerifiedEmail: false }), identity('jo-upstream', { email: 'jo@northwell.example', emailVerified: false }))).rejects.toMatchObject({ reason: 'email_unverified' });
  });

  it('creates nobody when the source does not provision just in time', async () => {
    await expect(provision(policy({ jit: false }), identity('kim'))).rejects.toMatchObject({ reason: 'not_provisioned' });
  });

  it('refuses a disabled user, and their roles stay as they were', async () => {
    const { user } = await provision(policy(), identity('lee', { attributes: { groups: ['Reporting'] } }));
    await cg.runtime.accounts.users.setStatus('demo', user.id, 'disabled', cli);
    await expect(provision(policy(), identity('lee', { attributes: { groups: ['ER Nurses'] } }))).rejects.toMatchObject({ reason: 'not_active' });
    expect(await rolesOf(user.id)).toEqual(['report_viewer']);
  });

  it('creates one user for one person, even when their first sign-ins race', async () => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => provision(policy(), identity('max', { attributes: { groups: ['Reporting'] } }))));
    const ids = new Set(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ user: { id: string } }>).value.user.id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(await rolesOf(id!)).toEqual(['report_viewer']);
  });

  it('gives a user whose username is taken locally a distinct one', async () => {
    await cg.runtime.accounts.users.create('demo', { username: 'nat@northwell.example', password: 'a-long-local-password-3' }, [], cli);
    const { user } = await provision(policy(), identity('nat', { email: 'nat.other@northwell.example' }));
    expect(user.username).toMatch(/^nat@northwell\.example\.[0-9a-f]{8}$/);
  });
});
