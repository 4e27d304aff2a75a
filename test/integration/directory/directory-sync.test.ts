// Directory sync against a real OpenLDAP: full and incremental runs, group → role mapping, people
// disabled when the directory disables them or they leave it (and re-enabled when it enables them
// again), the safety checks that stop a run before it changes anything (the disable threshold, an
// empty search, a directory that goes away part-way), dry runs, TLS trust, failover, the run lock
// and the schedule. Each scenario has its own tenant and, where it changes the directory, its own slapd.
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { freePort } from '../../support/caregate.ts';
import { GRACE, GROUPS, NINA, OMAR, ZOE, generateUsersLdif, slapdAvailable, startSlapd, type TestSlapd } from '../../support/slapd.ts';
import { syncDueSources, type SyncOptions, type SyncSummary } from '../../../src/directory/index.ts';

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the directory sync tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');

const cli = { type: 'cli' as const, id: 'test' };
let cg: TestCaregate;
let tenants = 0;

beforeAll(async () => {
  if (haveSlapd) cg = await startTestCaregate();
});
afterAll(() => cg?.close());

/** A tenant of its own, with the location, team and PHI role the mapping rules below name. */
async function freshTenant(): Promise<string> {
  const slug = `dir${++tenants}`;
  const a = cg.runtime.accounts;
  await a.tenants.create({ slug, name: `Directory ${tenants}` }, cli);
  await a.locations.create(slug, { key: 'loc-north', name: 'North clinic' }, cli);
  await a.teams.create(slug, { key: 'emergency', name: 'Emergency department' }, cli);
  return slug;
}

const MAPPINGS = [
  { claim: 'groups', equals: GROUPS.erNurses, role: 'inventory', scope: { type: 'location', key: 'loc-north' } },
  { claim: 'groups', equals: GROUPS.reporting, role: 'report_viewer' },
  { claim: 'department', equals: 'Emergency', team: 'emergency' },
];

function sourceFor(ldap: TestSlapd, extra: Record<string, unknown> = {}) {
  return {
    key: 'clinic', name: 'Clinic directory', preset: 'openldap', urls: [ldap.url], caCertificates: ldap.caPem,
    bindDn: ldap.bindDn, bindPassword: ldap.bindPassword, baseDn: ldap.peopleDn, groupBaseDn: ldap.groupsDn,
    disabledWhen: { attribute: 'employeeType', equals: 'disabled' }, syncIntervalMinutes: 0, mappings: MAPPINGS, ...extra,
  };
}

const sync = (tenant: string, options: Partial<SyncOptions> = {}): Promise<SyncSummary> =>
  cg.runtime.ldap.sync(tenant, 'clinic', { trigger: 'cli', actor: cli, ...options });

async function tenantId(slug: string) {
  return (await cg.runtime.accounts.tenants.findBySlug(slug))!.id;
}

/** username → status, source, roles (with scope) and teams, for every user the source brought. */
async function people(slug: string) {
  const rows = await cg.runtime.storage.query<{ username: string; status: string; source: string; roles: string | null; teams: string | null; profile: Record<string, string> | null }>(
    `SELECT u.username, u.status, u.source, ui.profile,
            (SELECT string_agg(r.key || coalesce('@' || l.key, ''), ',' ORDER BY r.key) FROM assignments a JOIN roles r ON r.id = a.role_id
               LEFT JOIN locations l ON l.id = a.scope_id WHERE a.user_id = u.id) AS roles,
            (SELECT string_agg(t.key, ',' ORDER BY t.key) FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id AND t.key <> 'everyone') AS teams
       FROM users u JOIN user_identities ui ON ui.user_id = u.id WHERE u.tenant_id = $1 ORDER BY u.username`,
    [await tenantId(slug)],
  );
  return Object.fromEntries(rows.map((r) => [r.username, { status: r.status, source: r.source, roles: r.roles ?? '', teams: r.teams ?? '', profile: r.profile }]));
}

async function auditOf(slug: string, since = 0) {
  return cg.runtime.storage.query<{ seq: number; action: string; outcome: string; details: Record<string, any>; target_id: string | null }>(
    'SELECT seq, action, outcome, details, target_id FROM audit_events WHERE tenant_id = $1 AND seq > $2 ORDER BY seq', [await tenantId(slug), since]);
}
const lastSeq = async (slug: string) => (await auditOf(slug)).at(-1)?.seq ?? 0;

const modify = (ldap: TestSlapd, uid: string, changes: string) => ldap.ldif(`dn: ${ldap.userDn(uid)}\nchangetype: modify\n${changes}\n`);
const remove = (ldap: TestSlapd, dn: string) => ldap.ldif(`dn: ${dn}\nchangetype: delete\n`);

(haveSlapd ? describe : describe.skip)('directory sync', () => {
  describe('a clinic directory, full then incremental', () => {
    let ldap: TestSlapd;
    let tenant: string;
    beforeAll(async () => {
      ldap = await startSlapd();
      tenant = await freshTenant();
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap), cli);
    });
    afterAll(() => ldap?.close());

    it('creates every directory user with its profile, mapped roles and teams, each change audited with the run', async () => {
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'succeeded', mode: 'full', created: 4, updated: 0, disabled: 0, unchanged: 0, errors: 0, entries: 4, groups: 2 });
      expect(summary.durationMs).toBeGreaterThan(0);
      const who = await people(tenant);
      expect(Object.keys(who)).toEqual([GRACE.uid, NINA.uid, OMAR.uid, ZOE.uid]);
      expect(who[NINA.uid]).toMatchObject({ status: 'active', source: 'ldap:clinic', roles: 'inventory@loc-north', teams: 'emergency' });
      expect(who[OMAR.uid]).toMatchObject({ roles: 'inventory@loc-north,report_viewer', teams: 'emergency' });
      expect(who[GRACE.uid]).toMatchObject({ roles: 'report_viewer', teams: '' });
      expect(who[ZOE.uid]).toMatchObject({ roles: '', teams: '' });
      expect(who[NINA.uid]!.profile).toEqual({ employeeId: 'E1001', department: 'Emergency', title: 'Charge Nurse', givenName: 'Nina', familyName: 'Patel' });
      // The admin API's user shows the link and the directory profile.
      expect((await cg.runtime.accounts.users.get(tenant, NINA.uid)).identities).toEqual([
        expect.objectContaining({ upstream: 'ldap:clinic', email: NINA.mail, profile: who[NINA.uid]!.profile, disabledByUpstreamAt: null, lastLoginAt: null }),
      ]);
      const [zoe] = await cg.runtime.storage.query<{ display_name: string; email: string; phone: string }>('SELECT display_name, email, phone FROM users WHERE username = $1 AND tenant_id = $2', [ZOE.uid, await tenantId(tenant)]);
      expect(zoe).toEqual({ display_name: 'Zoë Ångström', email: ZOE.mail, phone: '+16175550104' });

      const events = await auditOf(tenant);
      const changes = events.filter((e) => e.details?.run === summary.runId && e.action !== 'directory.sync');
      expect(changes.filter((e) => e.action === 'user.create')).toHaveLength(4);
      expect(changes.filter((e) => e.action === 'assignment.create')).toHaveLength(4);
      expect(changes.every((e) => e.details.upstream === 'ldap:clinic')).toBe(true);
      expect(events.at(-1)).toMatchObject({ action: 'directory.sync', outcome: 'success', details: expect.objectContaining({ created: 4, run: summary.runId, trigger: 'cli' }) });
    });

    it('a second full run finds nothing to do', async () => {
      const before = await lastSeq(tenant);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', created: 0, updated: 0, disabled: 0, unchanged: 4, errors: 0 });
      expect((await auditOf(tenant, before)).map((e) => e.action)).toEqual(['directory.sync']);
    });

    it('reports its runs as metrics: running with its progress while it runs, then the run, its changes and the last success', async () => {
      const metric = async (name: string) => (await cg.runtime.metrics.registry.getSingleMetricAsString(name)).split('\n').find((l) => l.includes(`tenant="${tenant}"`) && !l.startsWith('#'));
      const seen: Array<string | undefined> = [];
      const summary = await sync(tenant, { full: true, onProgress: async () => void seen.push(await metric('caregate_directory_sync_running')) });
      expect(summary.status).toBe('succeeded');
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([`caregate_directory_sync_running{tenant="${tenant}",source="clinic"} 1`]));
      expect(await metric('caregate_directory_sync_running')).toBe(`caregate_directory_sync_running{tenant="${tenant}",source="clinic"} 0`);
      expect(await metric('caregate_directory_sync_entries_read')).toBe(`caregate_directory_sync_entries_read{tenant="${tenant}",source="clinic"} 4`);
      const runs = (await cg.runtime.metrics.registry.getSingleMetricAsString('caregate_directory_sync_runs_total')).split('\n').filter((l) => l.includes(`tenant="${tenant}"`));
      // The three full runs so far, each succeeded.
      expect(runs).toEqual([`caregate_directory_sync_runs_total{tenant="${tenant}",source="clinic",mode="full",dry_run="false",status="succeeded"} 3`]);
      expect(await metric('caregate_directory_sync_changes_total')).toBe(`caregate_directory_sync_changes_total{tenant="${tenant}",source="clinic",change="created"} 4`);
      const lastSuccess = Number((await metric('caregate_directory_sync_last_success_timestamp_seconds'))!.split(' ').at(-1));
      expect(Math.abs(lastSuccess - Date.now() / 1000)).toBeLessThan(600);
    });

    it('an incremental run reads only what changed since the watermark', async () => {
      await modify(ldap, GRACE.uid, 'replace: title\ntitle: Senior Data Analyst\n-\nreplace: telephoneNumber\ntelephoneNumber: +1 617 555 0199');
      const summary = await sync(tenant);
      expect(summary).toMatchObject({ status: 'succeeded', mode: 'incremental', entries: 1, updated: 1, created: 0, disabled: 0 });
      expect(summary.escalated).toBeUndefined();
      expect((await people(tenant))[GRACE.uid]!.profile).toMatchObject({ title: 'Senior Data Analyst' });
      const events = (await auditOf(tenant)).filter((e) => e.details?.run === summary.runId);
      expect(events.map((e) => e.action).sort()).toEqual(['directory.sync', 'user.update', 'user.update']); // phone, then the directory profile
      // Nothing new: an incremental run that reads no entry.
      expect(await sync(tenant)).toMatchObject({ status: 'succeeded', mode: 'incremental', entries: 0, updated: 0 });
    });

    it('creates a person added to the directory in an incremental run', async () => {
      await ldap.ldif([
        `dn: uid=li.wei,${ldap.peopleDn}`, 'objectClass: inetOrgPerson', 'uid: li.wei', 'cn: Li Wei', 'givenName: Li', 'sn: Wei',
        'mail: li.wei@clinic.example', 'departmentNumber: Emergency', '',
      ].join('\n'));
      expect(await sync(tenant)).toMatchObject({ status: 'succeeded', mode: 'incremental', entries: 1, created: 1 });
      expect((await people(tenant))['li.wei']).toMatchObject({ status: 'active', teams: 'emergency', roles: '' });
    });

    it('new people are written together; when that write fails (two entries with one email) the run goes person by person: one created, one error, nothing else lost', async () => {
      const person = (uid: string, name: string) => [`dn: uid=${uid},${ldap.peopleDn}`, 'objectClass: inetOrgPerson', `uid: ${uid}`, `cn: ${name}`, `sn: ${name}`,
        'mail: shared.desk@clinic.example', 'departmentNumber: Emergency', ''].join('\n');
      await ldap.ldif(`${person('desk.one', 'Desk One')}\n${person('desk.two', 'Desk Two')}\n${[`dn: uid=sam.reyes,${ldap.peopleDn}`, 'objectClass: inetOrgPerson', 'uid: sam.reyes', 'cn: Sam Reyes', 'sn: Reyes', 'mail: sam.reyes@clinic.example', ''].join('\n')}`);
      const before = await lastSeq(tenant);
      const summary = await sync(tenant);
      expect(summary).toMatchObject({ status: 'succeeded', entries: 3, created: 2, errors: 1 });
      expect(summary.errorList).toEqual([expect.objectContaining({ reason: 'email_taken' })]);
      const who = await people(tenant);
      expect(who['sam.reyes']).toMatchObject({ status: 'active' });
      expect([who['desk.one'], who['desk.two']].filter(Boolean)).toEqual([expect.objectContaining({ status: 'active', teams: 'emergency' })]);
      const created = (await auditOf(tenant, before)).filter((e) => e.action === 'user.create');
      expect(created).toHaveLength(2);
      expect(created.every((e) => e.details.run === summary.runId)).toBe(true);
      await expect(cg.runtime.audit.verify(await tenantId(tenant))).resolves.toMatchObject({ ok: true });
      // The one refused leaves the directory, so the scenarios below start without an error.
      await remove(ldap, `uid=${who['desk.one'] ? 'desk.two' : 'desk.one'},${ldap.peopleDn}`);
    });

    it('re-evaluates roles when group membership changes — a changed group makes the run full', async () => {
      // Omar leaves ER Nurses; Zoë joins Reporting. An admin's manual role on Omar stays.
      const omar = await cg.runtime.storage.users.findOneByOrFail({ tenantId: await tenantId(tenant), username: OMAR.uid });
      await cg.runtime.accounts.assignments.assign(tenant, { userId: omar.id }, { role: 'billing_user' }, cli);
      await ldap.ldif(`dn: ${ldap.groupDn(GROUPS.erNurses)}\nchangetype: modify\ndelete: member\nmember: ${ldap.userDn(OMAR.uid)}\n`);
      await ldap.ldif(`dn: ${ldap.groupDn(GROUPS.reporting)}\nchangetype: modify\nadd: member\nmember: ${ldap.userDn(ZOE.uid)}\n`);
      const summary = await sync(tenant);
      expect(summary).toMatchObject({ status: 'succeeded', mode: 'full', escalated: 'a group changed', updated: 2, disabled: 0, errors: 0 });
      expect((await cg.runtime.ldap.sources.run(tenant, 'clinic', summary.runId)).mode).toBe('full');
      const who = await people(tenant);
      expect(who[OMAR.uid]!.roles).toBe('billing_user,report_viewer');
      expect(who[ZOE.uid]!.roles).toBe('report_viewer');
      const events = (await auditOf(tenant)).filter((e) => e.details?.run === summary.runId).map((e) => e.action).sort();
      expect(events).toEqual(['assignment.create', 'assignment.delete', 'directory.sync']);
    });

    it('disables a person the directory disables, ends their sessions, and enables them again when it does', async () => {
      await modify(ldap, NINA.uid, 'add: employeeType\nemployeeType: disabled');
      const off = await sync(tenant);
      expect(off).toMatchObject({ status: 'succeeded', mode: 'incremental', disabled: 1 });
      expect((await people(tenant))[NINA.uid]!.status).toBe('disabled');
      const disable = (await auditOf(tenant)).find((e) => e.action === 'user.disable' && e.details?.run === off.runId);
      expect(disable?.details).toMatchObject({ reason: 'disabled_in_directory', upstream: 'ldap:clinic' });

      await modify(ldap, NINA.uid, 'delete: employeeType');
      const on = await sync(tenant);
      expect(on).toMatchObject({ status: 'succeeded', reenabled: 1, disabled: 0 });
      expect((await people(tenant))[NINA.uid]).toMatchObject({ status: 'active', roles: 'inventory@loc-north' });
    });

    it('leaves an account an administrator disabled as it is', async () => {
      await cg.runtime.accounts.users.setStatus(tenant, GRACE.uid, 'disabled', cli);
      await modify(ldap, GRACE.uid, 'replace: title\ntitle: Analyst II');
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', reenabled: 0, disabled: 0 });
      expect((await people(tenant))[GRACE.uid]!.status).toBe('disabled');
      await cg.runtime.accounts.users.setStatus(tenant, GRACE.uid, 'active', cli);
    });

    it('disables a person who is gone from the directory at the next full run (an incremental run cannot see who left)', async () => {
      await remove(ldap, `uid=li.wei,${ldap.peopleDn}`);
      expect(await sync(tenant)).toMatchObject({ status: 'succeeded', disabled: 0 });
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'succeeded', disabled: 1, created: 0 });
      expect((await people(tenant))['li.wei']!.status).toBe('disabled');
      expect((await auditOf(tenant)).find((e) => e.action === 'user.disable' && e.details?.run === summary.runId)?.details.reason).toBe('gone');
    });
  });

  describe('safety', () => {
    let ldap: TestSlapd;
    let tenant: string;
    beforeEach(async () => {
      ldap = await startSlapd();
      tenant = await freshTenant();
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap), cli);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', created: 4 });
    });
    afterEach(() => ldap?.close());

    it('refuses a run that would disable more than the threshold, changing nothing, until an admin allows it', async () => {
      await remove(ldap, ldap.userDn(NINA.uid));
      await remove(ldap, ldap.userDn(OMAR.uid));
      const before = await people(tenant);
      const seq = await lastSeq(tenant);
      const refused = await sync(tenant, { full: true });
      expect(refused).toMatchObject({ status: 'refused', reason: 'threshold', disabled: 0, created: 0, updated: 0 });
      expect(refused.message).toMatch(/would disable 2 of the source's 4 active users.*\(1:.*--allow-disables 2/);
      expect(await people(tenant)).toEqual(before);
      expect(await auditOf(tenant, seq)).toEqual([expect.objectContaining({ action: 'directory.sync', outcome: 'failure', details: expect.objectContaining({ status: 'refused', reason: 'threshold' }) })]);
      // The run is on record, with why; the watermark has not moved.
      const [run] = await cg.runtime.ldap.sources.runs(tenant, 'clinic', 1);
      expect(run).toMatchObject({ status: 'refused', error: refused.message });

      expect(await sync(tenant, { full: true, allowDisables: 2 })).toMatchObject({ status: 'succeeded', disabled: 2 });
    });

    it('a higher threshold lets a larger share through', async () => {
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { disableThresholdPercent: 50 }, cli);
      await remove(ldap, ldap.userDn(NINA.uid));
      await remove(ldap, ldap.userDn(OMAR.uid));
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', disabled: 2 });
    });

    it('treats a search that finds nobody as a fault, not as everyone having left', async () => {
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { userFilter: '(objectClass=posixAccount)', disableThresholdPercent: 100 }, cli);
      const before = await people(tenant);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'refused', reason: 'empty', disabled: 0 });
      expect(await people(tenant)).toEqual(before);
    });

    it('disables nobody when the directory cannot be reached', async () => {
      await ldap.stop();
      const before = await people(tenant);
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'failed', reason: 'unreachable', disabled: 0 });
      expect(summary.message).toContain(ldap.url);
      expect(await people(tenant)).toEqual(before);
      await ldap.start();
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', unchanged: 4 });
    });

    it('a dry run reports the diff and changes nothing', async () => {
      await remove(ldap, ldap.userDn(ZOE.uid));
      await modify(ldap, GRACE.uid, 'replace: mail\nmail: grace.kim@quality.clinic.example');
      await ldap.ldif(`dn: ${ldap.groupDn(GROUPS.erNurses)}\nchangetype: modify\nadd: member\nmember: ${ldap.userDn(GRACE.uid)}\n`);
      const before = await people(tenant);
      const seq = await lastSeq(tenant);
      const dry = await sync(tenant, { full: true, dryRun: true });
      expect(dry).toMatchObject({ status: 'succeeded', dryRun: true, updated: 1, disabled: 1, unchanged: 2 });
      expect(dry.diff).toEqual([
        expect.objectContaining({ change: 'update', username: GRACE.uid, events: expect.arrayContaining([
          expect.objectContaining({ action: 'user.update', after: { email: 'grace.kim@quality.clinic.example' } }),
          expect.objectContaining({ action: 'assignment.create', after: expect.objectContaining({ role: 'inventory' }) }),
        ]) }),
        expect.objectContaining({ change: 'disable', username: ZOE.uid, reason: 'gone' }),
      ]);
      expect(await people(tenant)).toEqual(before);
      expect((await auditOf(tenant, seq)).map((e) => e.action)).toEqual(['directory.sync']);
      // The run keeps its diff for the admin API.
      const [run] = await cg.runtime.ldap.sources.runs(tenant, 'clinic', 1);
      expect(run!.summary).toMatchObject({ dryRun: true, diff: expect.any(Array) });
      expect(await sync(tenant, { full: true })).toMatchObject({ updated: 1, disabled: 1 });
    });

    it('refuses a second run of the same source while one holds the lock', async () => {
      let release!: () => void;
      const paused = new Promise<void>((resolve) => (release = resolve));
      let reading!: () => void;
      const started = new Promise<void>((resolve) => (reading = resolve));
      const first = sync(tenant, { full: true, onProgress: async () => { reading(); await paused; } });
      await started;
      await expect(sync(tenant, { full: true })).rejects.toMatchObject({ reason: 'busy', status: 409 });
      release();
      expect(await first).toMatchObject({ status: 'succeeded' });
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded' });
    });

    it('a PHI rule owns the flag: leaving the group clears it, and the PHI roles go with it — an admin\'s too — each audited with the run', async () => {
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { mappings: [...MAPPINGS, { claim: 'groups', equals: GROUPS.erNurses, phi: true }] }, cli);
      await sync(tenant, { full: true });
      const nina = await cg.runtime.storage.users.findOneByOrFail({ tenantId: await tenantId(tenant), username: NINA.uid });
      expect(nina.phiAccess).toBe(true);
      await cg.runtime.accounts.assignments.assign(tenant, { userId: nina.id }, { role: 'billing' }, cli);
      await ldap.ldif(`dn: ${ldap.groupDn(GROUPS.erNurses)}\nchangetype: modify\ndelete: member\nmember: ${ldap.userDn(NINA.uid)}\n`);
      const seq = await lastSeq(tenant);
      const summary = await sync(tenant);
      expect(summary).toMatchObject({ status: 'succeeded', updated: 1, errors: 0 });
      expect((await cg.runtime.storage.users.findOneByOrFail({ id: nina.id })).phiAccess).toBe(false);
      expect((await people(tenant))[NINA.uid]!.roles).toBe('');
      // The mapped inventory role, the flag, and the admin's billing role: all the run's, all tagged.
      const events = (await auditOf(tenant, seq)).filter((e) => e.action !== 'directory.sync');
      expect(events.map((e) => e.action).sort()).toEqual(['assignment.delete', 'assignment.delete', 'user.update']);
      expect(events.every((e) => e.details?.run === summary.runId)).toBe(true);
    });

    it('counts a person whose mapping cannot be applied as an error and goes on with the others; the next full run tries them again', async () => {
      // A PHI role for people without the PHI flag: refused for them, the rest sync.
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { mappings: [...MAPPINGS, { claim: 'groups', equals: GROUPS.reporting, role: 'billing' }] }, cli);
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'succeeded', errors: 2, updated: 0 });
      expect(summary.errorList.map((e) => e.reason)).toEqual(['mapping_refused', 'mapping_refused']);
      expect((await people(tenant))[GRACE.uid]!.roles).toBe('report_viewer');
      expect(await sync(tenant, { full: true })).toMatchObject({ errors: 2, unchanged: 2 });
    });

    it('a rule granting the everyone team does not trip over the membership every new user gets', async () => {
      const other = await freshTenant();
      await cg.runtime.ldap.sources.create(other, sourceFor(ldap, { mappings: [{ claim: 'groups', equals: GROUPS.reporting, team: 'everyone' }] }), cli);
      expect(await sync(other, { full: true })).toMatchObject({ status: 'succeeded', created: 4, errors: 0 });
    });

    it('an account the directory re-enabled and an admin then disabled stays disabled', async () => {
      await modify(ldap, NINA.uid, 'add: employeeType\nemployeeType: disabled');
      expect(await sync(tenant)).toMatchObject({ disabled: 1 });
      await cg.runtime.accounts.users.setStatus(tenant, NINA.uid, 'active', cli);
      await modify(ldap, NINA.uid, 'delete: employeeType');
      await sync(tenant);
      await cg.runtime.accounts.users.setStatus(tenant, NINA.uid, 'disabled', cli);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', reenabled: 0 });
      expect((await people(tenant))[NINA.uid]!.status).toBe('disabled');
    });

    it('disables nobody as "gone" when some entry could not be read (here: without its id attribute)', async () => {
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { attributes: { id: 'employeeNumber' } }, cli).catch((e: Error) => expect(e.message).toMatch(/attributes.id: this source's people are linked by entryUUID/));
      const other = await freshTenant();
      await cg.runtime.ldap.sources.create(other, sourceFor(ldap, { attributes: { id: 'employeeNumber' }, disableThresholdPercent: 100 }), cli);
      expect(await sync(other, { full: true })).toMatchObject({ created: 4 });
      await modify(ldap, GRACE.uid, 'delete: employeeNumber');
      await remove(ldap, ldap.userDn(ZOE.uid));
      const summary = await sync(other, { full: true });
      expect(summary).toMatchObject({ status: 'succeeded', errors: 1, disabled: 0 });
      expect(summary.errorList).toEqual([expect.objectContaining({ reason: 'no_id', dn: ldap.userDn(GRACE.uid) })]);
      expect((await people(other))[ZOE.uid]!.status).toBe('active');
    });

    it('refuses a run whose group search finds nothing while rules test groups', async () => {
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { groupFilter: '(objectClass=posixGroup)' }, cli);
      const before = await people(tenant);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'refused', reason: 'empty', updated: 0 });
      expect(await people(tenant)).toEqual(before);
    });

    it('sends the stored password only where it went before: a new server, account or CA needs it again', async () => {
      for (const patch of [{ urls: ['ldaps://elsewhere.example'] }, { bindDn: 'cn=other,dc=clinic,dc=example' }, { caCertificates: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----' }]) {
        await expect(cg.runtime.ldap.sources.update(tenant, 'clinic', patch, cli)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^bindPassword: required again/) });
      }
      await expect(cg.runtime.ldap.sources.update(tenant, 'clinic', { urls: [ldap.ldapsUrl], bindPassword: ldap.bindPassword }, cli)).resolves.toMatchObject({ urls: [ldap.ldapsUrl] });
      // A new place to read from makes the next run full.
      expect((await cg.runtime.ldap.sources.get(tenant, 'clinic')).watermark).toBeNull();
    });
  });

  describe('a directory that goes away part-way through a paged search', () => {
    let ldap: TestSlapd;
    let tenant: string;
    beforeAll(async () => {
      ldap = await startSlapd({ preload: generateUsersLdif(1500, 10) });
      tenant = await freshTenant();
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { pageSize: 200, mappings: [], disableThresholdPercent: 100, timeoutSeconds: 10 }), cli);
    });
    afterAll(() => ldap?.close());

    it('reads every page of a large directory', async () => {
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'succeeded', created: 1504, entries: 1504, errors: 0 });
    });

    it('stops when the directory stops answering mid-search, and disables nobody', async () => {
      let pages = 0;
      const summary = await sync(tenant, {
        full: true,
        onProgress: async (p) => {
          if (p.phase === 'reading' && p.entries > 0 && ++pages === 2) await ldap.stop();
        },
      });
      expect(summary).toMatchObject({ status: 'failed', reason: 'search_failed', disabled: 0, created: 0, updated: 0 });
      expect(summary.entries).toBe(0);
      const [{ n }] = await cg.runtime.storage.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE tenant_id = $1 AND status = 'active' AND source = 'ldap:clinic'`, [await tenantId(tenant)]);
      expect(Number(n)).toBe(1504);
      await ldap.start();
    });
  });

  describe('connections', () => {
    let ldap: TestSlapd;
    let tenant: string;
    beforeAll(async () => {
      ldap = await startSlapd();
      tenant = await freshTenant();
    });
    afterAll(() => ldap?.close());
    afterEach(() => cg.runtime.ldap.sources.remove(tenant, 'clinic', cli).catch(() => {}));

    it.each([
      ['ldaps://', (l: TestSlapd) => l.ldapsUrl],
      ['ldap:// with StartTLS', (l: TestSlapd) => l.url],
    ])('over %s, trusts the server certificate only with the CA configured', async (_, url) => {
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { urls: [url(ldap)], caCertificates: undefined }), cli);
      const refused = await sync(tenant, { full: true });
      expect(refused).toMatchObject({ status: 'failed', reason: 'tls_failed', created: 0 });
      expect(refused.message).toMatch(/certificate/i);
      await cg.runtime.ldap.sources.update(tenant, 'clinic', { caCertificates: ldap.caPem, bindPassword: ldap.bindPassword }, cli);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded' });
    });

    it('refuses a plain ldap:// server that offers no StartTLS… and there is no setting to skip TLS', async () => {
      await expect(cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { urls: ['http://127.0.0.1:389'] }), cli)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/urls/) });
      await expect(cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { tls: false }), cli)).rejects.toMatchObject({ status: 400 });
    });

    it('fails over to the next server when the first does not answer, and stores a watermark for the one it used', async () => {
      const dead = `ldap://127.0.0.1:${await freePort()}`;
      // (The people a removed source brought stay: this one links to them by their email.)
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { urls: [dead, ldap.ldapsUrl], connectTimeoutSeconds: 2, linkByEmail: true }), cli);
      expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', errors: 0 });
      expect((await cg.runtime.ldap.sources.get(tenant, 'clinic')).watermark).toMatchObject({ attribute: 'entryCSN', server: ldap.ldapsUrl });
    });

    it('gives up on a server that accepts StartTLS and then never shakes hands, and fails over', async () => {
      // Answers the StartTLS request with success (an LDAP ExtendedResponse, resultCode 0), then stays silent.
      const sockets = new Set<Socket>();
      const stall = createServer((socket) => {
        sockets.add(socket);
        socket.once('data', (request) => {
          const id = request[4]!; // 30 LL 02 01 <id> 77 …: a one-byte message ID
          socket.write(Buffer.from([0x30, 0x0c, 0x02, 0x01, id, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]));
        });
      });
      await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
      const quiet = `ldap://127.0.0.1:${(stall.address() as AddressInfo).port}`;
      try {
        await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { urls: [quiet], connectTimeoutSeconds: 1, linkByEmail: true }), cli);
        const alone = await sync(tenant, { full: true });
        expect(alone).toMatchObject({ status: 'failed', reason: 'timeout' });
        expect(alone.message).toMatch(/no TLS handshake within 1 s/);
        await cg.runtime.ldap.sources.update(tenant, 'clinic', { urls: [quiet, ldap.ldapsUrl], bindPassword: ldap.bindPassword }, cli);
        expect(await sync(tenant, { full: true })).toMatchObject({ status: 'succeeded', errors: 0 });
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => stall.close(resolve));
      }
    });

    it('says which server refused the service account', async () => {
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { bindPassword: 'not-the-password' }), cli);
      const summary = await sync(tenant, { full: true });
      expect(summary).toMatchObject({ status: 'failed', reason: 'bind_failed' });
      expect(summary.message).toContain('invalid credentials');
      const test = await cg.runtime.ldap.test(tenant, 'clinic');
      expect(test.ok).toBe(false);
      expect(test.findings.find((f) => f.check.startsWith('server'))).toMatchObject({ ok: false, detail: expect.stringContaining('bind_failed') });
    });

    it('counts a wrong password one directory saw even while another directory is down', async () => {
      const dead = `ldap://127.0.0.1:${await freePort()}`;
      await cg.runtime.ldap.sources.create(tenant, { ...sourceFor(ldap, { linkByEmail: true }), key: 'down', urls: [dead], connectTimeoutSeconds: 1 }, cli);
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { linkByEmail: true }), cli);
      const row = (await cg.runtime.accounts.tenants.findBySlug(tenant))!;
      try {
        expect(await cg.runtime.ldap.login(row, 'nobody.at.all', 'a-guess', undefined)).toMatchObject({ ok: false, reason: 'directory_unavailable' });
        expect(await cg.runtime.ldap.login(row, NINA.uid, 'a-guess', undefined)).toMatchObject({ ok: false, reason: 'bad_password' });
      } finally {
        await cg.runtime.ldap.sources.remove(tenant, 'down', cli);
      }
    });

    it('shows a run whose process died (its heartbeat long stopped) as failed', async () => {
      const source = await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap), cli);
      const id = '00000000-0000-4000-8000-0000000000aa';
      await cg.runtime.storage.query(
        `INSERT INTO directory_runs (id, tenant_id, source_id, mode, trigger, status, started_at, heartbeat_at) VALUES ($1, $2, $3, 'full', 'schedule', 'running', now() - interval '1 hour', now() - interval '1 hour')`,
        [id, await tenantId(tenant), source.id],
      );
      expect(await cg.runtime.ldap.sources.run(tenant, 'clinic', id)).toMatchObject({ status: 'failed', error: 'abandoned: its process stopped' });
    });

    it('stores the service account password sealed, and never shows it', async () => {
      const shown = await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap), cli);
      expect(JSON.stringify(shown)).not.toContain(ldap.bindPassword);
      expect(shown).toMatchObject({ hasBindPassword: true });
      const [row] = await cg.runtime.storage.query<{ settings: object; secrets_sealed: string }>('SELECT settings, secrets_sealed FROM directory_sources WHERE tenant_id = $1', [await tenantId(tenant)]);
      expect(JSON.stringify(row)).not.toContain(ldap.bindPassword);
      const audit = await cg.runtime.storage.query<{ text: string }>('SELECT row_to_json(a)::text AS text FROM audit_events a WHERE tenant_id = $1', [await tenantId(tenant)]);
      expect(audit.some((a) => a.text.includes(ldap.bindPassword))).toBe(false);
    });
  });

  describe('the schedule', () => {
    let ldap: TestSlapd;
    let tenant: string;
    beforeAll(async () => {
      ldap = await startSlapd();
      tenant = await freshTenant();
    });
    afterAll(() => ldap?.close());

    it('runs a due source once per interval — full first, then incremental — on one node at a time', async () => {
      await cg.runtime.ldap.sources.create(tenant, sourceFor(ldap, { syncIntervalMinutes: 5 }), cli);
      const deps = { storage: cg.runtime.storage, ephemeral: cg.runtime.ephemeral, directory: cg.runtime.ldap, onError: (e: Error) => { throw e; }, onRun: () => {} };
      const ours = (runs: SyncSummary[]) => runs.filter((r) => r.tenant === tenant);
      // Two nodes tick at once: one runs it.
      const [a, b] = await Promise.all([syncDueSources(deps), syncDueSources(deps)]);
      expect([...ours(a), ...ours(b)]).toEqual([expect.objectContaining({ mode: 'full', status: 'succeeded', created: 4 })]);
      expect(ours(await syncDueSources(deps))).toEqual([]);
      // Six minutes later it is due again, and incremental (its full run was recent).
      await cg.runtime.ephemeral.del(`directory:schedule:${(await cg.runtime.ldap.sources.get(tenant, 'clinic')).id}`);
      const later = ours(await syncDueSources(deps, new Date(Date.now() + 6 * 60_000)));
      expect(later).toEqual([expect.objectContaining({ mode: 'incremental', status: 'succeeded' })]);
      const runs = await cg.runtime.ldap.sources.runs(tenant, 'clinic');
      expect(runs.map((r) => r.trigger)).toEqual(['schedule', 'schedule']);
    });
  });
});
