// The OpenLDAP test server (test/support/slapd.ts) seen through ldapts, the client the directory
// sync uses: TLS both ways and its failure without the CA, paged searches, the operational
// attributes incremental sync relies on, user binds, an outage and restart, and 10,000 users.
import { Client, InvalidCredentialsError, SizeLimitExceededError, UnwillingToPerformError, type ClientOptions, type Entry } from 'ldapts';
import {
  BENCH_PASSWORD, GROUPS, GRACE, NINA, OMAR, ZOE, benchGroup, benchUid, generateUsersLdif, slapdAvailable, startSlapd, type TestSlapd,
} from '../../support/slapd.ts';

const haveSlapd = slapdAvailable();
if (!haveSlapd) console.warn('Skipping the OpenLDAP tests: no /usr/sbin/slapd or ldap-utils (apt-get install slapd ldap-utils).');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const GENERALIZED_TIME = /^\d{14}Z$/;
const CSN = /^\d{14}\.\d{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#[0-9a-f]{6}$/;
const SYNC_ATTRIBUTES = ['uid', 'cn', 'mail', 'title', 'entryUUID', 'modifyTimestamp', 'entryCSN', 'memberOf'];

const clients: Client[] = [];
function client(url: string, options: Omit<ClientOptions, 'url'> = {}): Client {
  const c = new Client({ url, connectTimeout: 2000, timeout: 10_000, ...options });
  clients.push(c);
  return c;
}
const values = (entry: Entry, name: string) => [entry[name] ?? []].flat().map(String).sort();
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(2)} s`;

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.unbind().catch(() => undefined)));
});

(haveSlapd ? describe : describe.skip)('the OpenLDAP test server, through ldapts', () => {
  let ldap: TestSlapd;

  /** A client bound as the service account over LDAPS. */
  async function syncClient(): Promise<Client> {
    const c = client(ldap.ldapsUrl, { tlsOptions: { ca: ldap.caPem } });
    await c.bind(ldap.bindDn, ldap.bindPassword);
    return c;
  }
  async function readUser(c: Client, uid: string): Promise<Entry> {
    const { searchEntries } = await c.search(ldap.peopleDn, { filter: `(uid=${uid})`, attributes: SYNC_ATTRIBUTES });
    expect(searchEntries).toHaveLength(1);
    return searchEntries[0];
  }

  beforeAll(async () => {
    const t0 = performance.now();
    ldap = await startSlapd();
    console.log(`slapd with the clinic fixture ready in ${seconds(t0)} (${ldap.url}, ${ldap.ldapsUrl})`);
  });
  afterAll(async () => {
    await ldap?.close();
  });

  test('binds as the service account over ldap:// after StartTLS, checking the server against the test CA', async () => {
    const c = client(ldap.url);
    await c.startTLS({ ca: ldap.caPem });
    await c.bind(ldap.bindDn, ldap.bindPassword);
    const whoami = await c.exop('1.3.6.1.4.1.4203.1.11.3');
    expect(whoami.value).toBe(`dn:${ldap.bindDn}`);
  });

  test('binds over ldaps:// trusting caPem, and refuses the server certificate without it', async () => {
    await syncClient();
    await expect(client(ldap.ldapsUrl).bind(ldap.bindDn, ldap.bindPassword)).rejects.toThrow(/certificate/);
    await expect(client(ldap.url).startTLS()).rejects.toThrow(/certificate/);
  });

  test('pages through the users and returns entryUUID, modifyTimestamp, entryCSN and memberOf — never userPassword', async () => {
    const c = await syncClient();
    const pages: Entry[][] = [];
    for await (const page of c.searchPaginated(ldap.peopleDn, { filter: '(objectClass=inetOrgPerson)', attributes: [...SYNC_ATTRIBUTES, 'userPassword'], paged: { pageSize: 3 } })) {
      pages.push(page.searchEntries);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 1]);
    const byUid = new Map(pages.flat().map((e) => [String(e.uid), e]));
    expect([...byUid.keys()].sort()).toEqual([GRACE.uid, NINA.uid, OMAR.uid, ZOE.uid]);
    for (const entry of byUid.values()) {
      expect(String(entry.entryUUID)).toMatch(UUID);
      expect(String(entry.modifyTimestamp)).toMatch(GENERALIZED_TIME);
      expect(String(entry.entryCSN)).toMatch(CSN);
      expect(values(entry, 'userPassword')).toEqual([]); // ldapts gives [] for a requested attribute the server left out
    }
    expect(values(byUid.get(NINA.uid)!, 'memberOf')).toEqual([ldap.groupDn(GROUPS.erNurses)]);
    expect(values(byUid.get(OMAR.uid)!, 'memberOf')).toEqual([ldap.groupDn(GROUPS.erNurses), ldap.groupDn(GROUPS.reporting)].sort());
    expect(values(byUid.get(ZOE.uid)!, 'memberOf')).toEqual([]);
    expect(byUid.get(ZOE.uid)!.cn).toBe('Zoë Ångström');

    const { searchEntries: groups } = await c.search(ldap.groupsDn, { filter: '(objectClass=groupOfNames)', attributes: ['cn', 'member', 'entryUUID'] });
    expect(Object.fromEntries(groups.map((g) => [String(g.cn), values(g, 'member')]))).toEqual({
      [GROUPS.erNurses]: [ldap.userDn(NINA.uid), ldap.userDn(OMAR.uid)].sort(),
      [GROUPS.reporting]: [ldap.userDn(GRACE.uid), ldap.userDn(OMAR.uid)].sort(),
    });
  });

  test('a change moves entryCSN, modifyTimestamp, memberOf and the suffix contextCSN; entryUUID stays', async () => {
    const c = await syncClient();
    const contextCsn = async () => String((await c.search(ldap.baseDn, { scope: 'base', attributes: ['contextCSN'] })).searchEntries[0].contextCSN);
    const before = await readUser(c, GRACE.uid);
    const highWater = await contextCsn();
    expect(highWater).toMatch(CSN);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // modifyTimestamp has one-second resolution

    await ldap.ldif(`dn: ${ldap.userDn(GRACE.uid)}\nchangetype: modify\nreplace: title\ntitle: Senior Data Analyst\n\n`
      + `dn: ${ldap.groupDn(GROUPS.erNurses)}\nchangetype: modify\nadd: member\nmember: ${ldap.userDn(GRACE.uid)}\n`);

    const after = await readUser(c, GRACE.uid);
    expect(after.entryUUID).toBe(before.entryUUID);
    expect(after.title).toBe('Senior Data Analyst');
    expect(values(after, 'memberOf')).toEqual([ldap.groupDn(GROUPS.erNurses), ldap.groupDn(GROUPS.reporting)].sort());
    expect(String(after.entryCSN) > String(before.entryCSN)).toBe(true);
    expect(String(after.modifyTimestamp) > String(before.modifyTimestamp)).toBe(true);
    expect((await contextCsn()) > highWater).toBe(true);
    // Incremental sync: what changed after the high-water mark (the group gained a member, Grace changed).
    // LDAP has no `>`: ">= and not =" leaves out the entry last changed before it.
    const since = `(&(entryCSN>=${highWater})(!(entryCSN=${highWater})))`;
    const { searchEntries: changed } = await c.search(ldap.baseDn, { filter: since, attributes: ['entryUUID'] });
    expect(changed.map((e) => e.dn).sort()).toEqual([ldap.groupDn(GROUPS.erNurses), ldap.userDn(GRACE.uid)].sort());
  });

  test('refint and memberof follow a rename and a delete; the renamed entry keeps its entryUUID', async () => {
    const c = await syncClient();
    await ldap.ldif(`dn: ${ldap.userDn('temp.locum')}\nobjectClass: inetOrgPerson\nuid: temp.locum\ncn: Temp Locum\nsn: Locum\n\n`
      + `dn: ${ldap.groupDn(GROUPS.reporting)}\nchangetype: modify\nadd: member\nmember: ${ldap.userDn('temp.locum')}\n`);
    const created = await readUser(c, 'temp.locum');
    expect(values(created, 'memberOf')).toEqual([ldap.groupDn(GROUPS.reporting)]);

    await ldap.ldif(`dn: ${ldap.userDn('temp.locum')}\nchangetype: modrdn\nnewrdn: uid=kai.locum\ndeleteoldrdn: 1\n`);
    const renamed = await readUser(c, 'kai.locum');
    expect(renamed.entryUUID).toBe(created.entryUUID);
    const reporting = async () => values((await c.search(ldap.groupDn(GROUPS.reporting), { scope: 'base', attributes: ['member'] })).searchEntries[0], 'member');
    expect(await reporting()).toContain(ldap.userDn('kai.locum'));

    await ldap.ldif(`dn: ${ldap.userDn('kai.locum')}\nchangetype: delete\n`);
    expect(await reporting()).toEqual([ldap.userDn(GRACE.uid), ldap.userDn(OMAR.uid)].sort());
  });

  test('a user binds with their password; a wrong or unknown one is InvalidCredentialsError, an empty one is refused', async () => {
    const nina = client(ldap.url);
    await nina.bind(ldap.userDn(NINA.uid), NINA.password);
    const own = await nina.search(ldap.userDn(NINA.uid), { scope: 'base', attributes: ['memberOf', 'mail'] });
    expect(own.searchEntries[0].mail).toBe(NINA.mail);
    await expect(client(ldap.url).bind(ldap.userDn(NINA.uid), 'wrong-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(client(ldap.url).bind(ldap.userDn('nobody'), 'any-password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    // An empty password is an unauthenticated bind (RFC 4513 §5.1.2); slapd refuses it by default.
    await expect(client(ldap.url).bind(ldap.userDn(NINA.uid), '')).rejects.toBeInstanceOf(UnwillingToPerformError);
    await expect(client(ldap.ldapsUrl, { tlsOptions: { ca: ldap.caPem } }).bind(ldap.userDn(ZOE.uid), ZOE.password)).resolves.toBeUndefined();
  });

  test('stops and starts on the same ports with the same data; a connected client sees the outage', async () => {
    const c = await syncClient();
    const before = await readUser(c, NINA.uid);
    let t0 = performance.now();
    await ldap.stop();
    const stopped = seconds(t0);
    await expect(c.search(ldap.peopleDn, { filter: `(uid=${NINA.uid})` })).rejects.toThrow();
    await expect(client(ldap.url, { connectTimeout: 500 }).bind(ldap.bindDn, ldap.bindPassword)).rejects.toThrow(/ECONNREFUSED/);
    t0 = performance.now();
    await ldap.start();
    console.log(`slapd stopped in ${stopped}, started again in ${seconds(t0)}`);
    const after = await readUser(await syncClient(), NINA.uid);
    expect(after.entryUUID).toBe(before.entryUUID);
    expect(values(after, 'memberOf')).toEqual(values(before, 'memberOf'));
  });
});

(haveSlapd ? describe : describe.skip)('10,000 users and 200 groups preloaded with slapadd', () => {
  const USERS = 10_000;
  const GROUP_COUNT = 200;
  let ldap: TestSlapd;

  beforeAll(async () => {
    let t0 = performance.now();
    const preload = generateUsersLdif(USERS, GROUP_COUNT, { memberOf: true });
    const generated = seconds(t0);
    t0 = performance.now();
    ldap = await startSlapd({ preload });
    console.log(`${USERS} users + ${GROUP_COUNT} groups: LDIF (${(preload.length / 1e6).toFixed(1)} MB) generated in ${generated}, slapadd + start + fixture in ${seconds(t0)}`);
  });
  afterAll(async () => {
    await ldap?.close();
  });

  test('the service account pages through every user; without paging it hits the size limit', async () => {
    const c = client(ldap.ldapsUrl, { tlsOptions: { ca: ldap.caPem } });
    await c.bind(ldap.bindDn, ldap.bindPassword);
    await expect(c.search(ldap.peopleDn, { filter: '(objectClass=inetOrgPerson)', attributes: ['uid'] })).rejects.toBeInstanceOf(SizeLimitExceededError);

    const t0 = performance.now();
    const uuids = new Set<string>();
    let pages = 0;
    for await (const page of c.searchPaginated(ldap.peopleDn, { filter: '(objectClass=inetOrgPerson)', attributes: SYNC_ATTRIBUTES, paged: { pageSize: 500 } })) {
      pages++;
      for (const entry of page.searchEntries) uuids.add(String(entry.entryUUID));
    }
    console.log(`paged read of ${uuids.size} users (${pages} pages of 500) over LDAPS in ${seconds(t0)}`);
    expect(uuids.size).toBe(USERS + 4);
    expect([...uuids].every((u) => UUID.test(u))).toBe(true);

    const user0 = await c.search(ldap.userDn(benchUid(0)), { scope: 'base', attributes: ['memberOf', 'entryCSN', 'modifyTimestamp'] });
    expect(values(user0.searchEntries[0], 'memberOf')).toEqual([ldap.groupDn(benchGroup(0)), ldap.groupDn(benchGroup(1))]);
    expect(String(user0.searchEntries[0].entryCSN)).toMatch(CSN);
  });

  test('groups list their members (about 1.33 memberships per user)', async () => {
    const c = client(ldap.url);
    await c.bind(ldap.bindDn, ldap.bindPassword);
    const { searchEntries } = await c.search(ldap.groupsDn, { filter: '(cn=Bench Group *)', attributes: ['cn', 'member'] });
    expect(searchEntries).toHaveLength(GROUP_COUNT);
    const memberships = searchEntries.reduce((sum, g) => sum + values(g, 'member').length, 0);
    // Every user once, and every third user (i = 0, 3, …) a second time unless both groups coincide.
    expect(memberships).toBeGreaterThan(USERS * 1.3);
    expect(memberships).toBeLessThanOrEqual(USERS + Math.ceil(USERS / 3));
  });

  test('a preloaded user binds with the bench password', async () => {
    await client(ldap.url).bind(ldap.userDn(benchUid(1234)), BENCH_PASSWORD);
    await expect(client(ldap.url).bind(ldap.userDn(benchUid(1234)), 'nope')).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});
