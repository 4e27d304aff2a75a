// What OpenLDAP in the integration suites cannot show: Active Directory's shapes — objectGUID bytes,
// the userAccountControl disabled bit, memberOf with nested groups, uSNChanged watermarks — read
// through the same functions, from entries as ldapts returns them.
import type { Entry } from 'ldapts';
import { changedSince, currentWatermark, guidString, normDn, readGroups, toEntry, userAttributes } from './directory-reader.ts';
import type { LdapConnection } from './ldap-connection.ts';
import { sourceSettings } from './source-settings.ts';

const adInput = {
  key: 'corp', name: 'Corp', preset: 'active-directory' as const, urls: ['ldaps://dc1.corp.example'],
  bindDn: 'CN=svc,DC=corp,DC=example', baseDn: 'DC=corp,DC=example',
};
const ad = sourceSettings.parse(adInput);

/** A connection that answers every paged search with the given entries. */
const fakeConnection = (entries: Entry[]): LdapConnection => ({
  url: 'ldaps://dc1.corp.example',
  async *pages() {
    yield entries;
  },
  search: async () => entries,
  close: async () => {},
});

const group = (cn: string, memberOf: string[] = []): Entry => ({ dn: `CN=${cn},OU=Groups,DC=corp,DC=example`, cn, memberOf });
const GUID_BYTES = Buffer.from('33221100554477668899aabbccddeeff', 'hex');

const person = (overrides: Partial<Entry> = {}): Entry => ({
  dn: 'CN=Nina Patel,OU=Staff,DC=corp,DC=example',
  objectGUID: GUID_BYTES, sAMAccountName: 'npatel', mail: 'nina.patel@corp.example', givenName: 'Nina', sn: 'Patel',
  displayName: 'Nina Patel', telephoneNumber: '+1 617 555 0101', employeeID: 'E1001', department: 'Emergency', title: 'Charge Nurse',
  manager: 'CN=Omar Haddad,OU=Staff,DC=corp,DC=example', userAccountControl: '512', uSNChanged: '48213',
  memberOf: ['CN=ER Nurses,OU=Groups,DC=corp,DC=example'],
  ...overrides,
});

describe('Active Directory entries', () => {
  it('prints objectGUID as AD does (first three groups little-endian)', () => {
    expect(guidString(GUID_BYTES)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });

  it('asks for objectGUID as bytes, and for every mapped attribute, memberOf and the disabled flag', () => {
    const { attributes, binary } = userAttributes(ad);
    expect(binary).toEqual(['objectGUID']);
    expect(attributes).toEqual(expect.arrayContaining(['sAMAccountName', 'mail', 'employeeID', 'department', 'memberOf', 'userAccountControl', 'uSNChanged']));
  });

  it('maps an entry to an identity: subject, profile, attributes for the rules, and groups through nesting', async () => {
    // ER Nurses is in Clinical Staff, which is in All Staff: membership counts through both.
    const groups = await readGroups(fakeConnection([
      group('ER Nurses', ['CN=Clinical Staff,OU=Groups,DC=corp,DC=example']),
      group('Clinical Staff', ['cn=all staff, ou=groups, dc=corp, dc=example']),
      group('All Staff'),
      group('Billing'),
    ]), ad);
    const entry = toEntry(person(), ad, 'corp', groups)!;
    expect(entry.disabled).toBe(false);
    expect(entry.identity).toMatchObject({
      upstream: 'ldap:corp', subject: '00112233-4455-6677-8899-aabbccddeeff', username: 'npatel', email: 'nina.patel@corp.example',
      emailVerified: true, displayName: 'Nina Patel', phone: '+1 617 555 0101',
    });
    expect(entry.identity.attributes.groups!.sort()).toEqual(['All Staff', 'Clinical Staff', 'ER Nurses']);
    expect(entry.identity.attributes).toMatchObject({ department: ['Emergency'], title: ['Charge Nurse'], employeeId: ['E1001'] });
    expect(entry.profile).toEqual({ employeeId: 'E1001', department: 'Emergency', title: 'Charge Nurse', manager: 'CN=Omar Haddad,OU=Staff,DC=corp,DC=example', givenName: 'Nina', familyName: 'Patel' });
  });

  it('counts only direct groups when nesting is off, and only groups the group search found', async () => {
    const flat = sourceSettings.parse({ ...adInput, nestedGroups: false });
    const groups = await readGroups(fakeConnection([group('ER Nurses', ['CN=Clinical Staff,OU=Groups,DC=corp,DC=example']), group('Clinical Staff')]), flat);
    const entry = toEntry(person({ memberOf: ['CN=ER Nurses,OU=Groups,DC=corp,DC=example', 'CN=Domain Users,CN=Users,DC=corp,DC=example'] }), flat, 'corp', groups)!;
    expect(entry.identity.attributes.groups).toEqual(['ER Nurses']);
  });

  it.each([
    ['512 (normal account)', '512', false],
    ['514 (normal, ACCOUNTDISABLE)', '514', true],
    ['66050 (password never expires, disabled)', '66050', true],
    ['66048 (password never expires)', '66048', false],
  ])('reads userAccountControl %s', async (_, uac, disabled) => {
    const groups = await readGroups(fakeConnection([]), ad);
    expect(toEntry(person({ userAccountControl: uac }), ad, 'corp', groups)!.disabled).toBe(disabled);
  });

  it('skips an entry without its id attribute', async () => {
    const groups = await readGroups(fakeConnection([]), ad);
    expect(toEntry(person({ objectGUID: [] }), ad, 'corp', groups)).toBeUndefined();
  });

  it('asks for entries changed after the watermark: uSNChanged above it, entryCSN after it', () => {
    expect(changedSince('(objectClass=user)', { attribute: 'uSNChanged', value: '48213', server: 'x' })).toBe('(&(objectClass=user)(uSNChanged>=48214))');
    expect(changedSince('(objectClass=inetOrgPerson)', { attribute: 'entryCSN', value: '20261125010148.122485Z#000000#000#000000', server: 'x' }))
      .toBe('(&(objectClass=inetOrgPerson)(entryCSN>=20261125010148.122485Z#000000#000#000000)(!(entryCSN=20261125010148.122485Z#000000#000#000000)))');
    // A value with filter syntax in it is escaped, never interpreted.
    expect(changedSince('(o=x)', { attribute: 'modifyTimestamp', value: '2026*)(uid=*', server: 'x' })).toBe('(&(o=x)(modifyTimestamp>=2026\\2a\\29\\28uid=\\2a))');
  });

  it('refuses a group whose member list AD hands out in ranges (half a list would strip roles)', async () => {
    const huge: Entry = { dn: 'CN=All Staff,OU=Groups,DC=corp,DC=example', cn: 'All Staff', 'member;range=0-1499': ['CN=a,DC=corp,DC=example'] };
    const byMember = sourceSettings.parse({ ...adInput, groupMembership: 'member' });
    await expect(readGroups(fakeConnection([huge]), byMember)).rejects.toMatchObject({ reason: 'search_failed', message: expect.stringContaining('member;range=0-1499') });
  });

  it('names the domain controller in a uSNChanged watermark: USNs are per DC, and a URL may name several', async () => {
    const rootDse: Entry = { dn: '', highestCommittedUSN: '90817', dsServiceName: 'CN=NTDS Settings,CN=DC2,CN=Servers,CN=Boston,CN=Sites,CN=Configuration,DC=corp,DC=example' };
    expect(await currentWatermark(fakeConnection([rootDse]), ad, new Date())).toEqual({
      attribute: 'uSNChanged', value: '90817', server: `ldaps://dc1.corp.example ${rootDse.dsServiceName}`,
    });
  });

  it('compares DNs without regard to case or spaces around separators', () => {
    expect(normDn('CN=ER Nurses, OU=Groups , DC=corp,DC=example')).toBe(normDn('cn=er nurses,ou=groups,dc=corp,dc=example'));
  });
});

describe('source settings', () => {
  it('fills in the preset and keeps what the admin gave', () => {
    const s = sourceSettings.parse({ ...adInput, preset: 'openldap', attributes: { email: 'userPrincipalName' } });
    expect(s).toMatchObject({ userFilter: '(objectClass=inetOrgPerson)', groupMembership: 'member', changeAttribute: 'entryCSN', disabledWhen: undefined });
    expect(s.attributes).toMatchObject({ id: 'entryUUID', username: 'uid', email: 'userPrincipalName' });
  });

  it.each([
    ['an http:// URL', { urls: ['http://dc1.corp.example'] }, 'urls'],
    ['a URL with a path', { urls: ['ldaps://dc1.corp.example/dc=corp'] }, 'urls'],
    ['no server', { urls: [] }, 'urls'],
    ['credentials in a URL', { urls: ['ldaps://svc:secret@dc1.corp.example'] }, 'urls'],
    ['a filter without parentheses', { userFilter: 'objectClass=user' }, 'userFilter'],
    ['an attribute name with a filter in it', { attributes: { email: 'mail)(uid=*' } }, 'attributes'],
    ['a setting that does not exist', { tlsVerify: false }, ''],
  ])('refuses %s', (_, patch, field) => {
    const result = sourceSettings.safeParse({ ...adInput, ...patch });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).toContain(field);
  });
});
