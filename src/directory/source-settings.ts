// A directory source's settings: one schema, validated on every write (CLI, admin API). Presets
// fill in what Active Directory and OpenLDAP name differently; an admin gives the rest.
import { z } from 'zod';
import { schemas } from '../accounts/index.ts';
import { mappingRules, PROFILE_FIELDS } from '../upstream/index.ts';

export const PRESETS = ['active-directory', 'openldap'] as const;
export type Preset = (typeof PRESETS)[number];

/** Directory attributes read into a person's profile (the names are the source's own). */
export const ATTRIBUTE_FIELDS = ['id', 'username', 'email', 'givenName', 'familyName', 'displayName', 'phone', 'employeeId', 'department', 'title', 'manager', 'groupName'] as const;
export type AttributeField = (typeof ATTRIBUTE_FIELDS)[number];

const attributeName = z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,63}(;[A-Za-z0-9-]+)?$|^[0-9]+(\.[0-9]+)+$/, 'must be an LDAP attribute name or OID');
// Filters are given by an admin, not built from user input; what they contain is checked by the server.
const filter = z.string().min(3).max(4096).regex(/^\(.*\)$/s, 'must be an LDAP filter in parentheses, e.g. (objectClass=inetOrgPerson)');
const dn = z.string().min(3).max(1024).regex(/^[A-Za-z][\w-]*=.+/, 'must be a distinguished name, e.g. dc=clinic,dc=example');
const ldapUrl = z.string().max(1024).refine((u) => {
  try {
    const url = new URL(u);
    return (url.protocol === 'ldap:' || url.protocol === 'ldaps:') && url.hostname !== '' && (url.pathname === '' || url.pathname === '/') && !url.search && !url.username && !url.password;
  } catch {
    return false;
  }
}, 'must be ldaps://host[:port] or ldap://host[:port] (then with StartTLS), without credentials (they go in bindDn and bindPassword)');
const pem = z.string().max(64 * 1024).regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'must be one or more PEM certificates');

const PRESET_DEFAULTS: Record<Preset, {
  userFilter: string; groupFilter: string; groupMembership: 'memberOf' | 'member'; nestedGroups: boolean;
  changeAttribute: 'uSNChanged' | 'entryCSN' | 'modifyTimestamp'; attributes: Record<AttributeField, string>;
  disabledWhen?: { attribute: string; flag: number };
}> = {
  'active-directory': {
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    groupFilter: '(objectClass=group)',
    groupMembership: 'memberOf',
    nestedGroups: true,
    changeAttribute: 'uSNChanged',
    attributes: {
      id: 'objectGUID', username: 'sAMAccountName', email: 'mail', givenName: 'givenName', familyName: 'sn', displayName: 'displayName',
      phone: 'telephoneNumber', employeeId: 'employeeID', department: 'department', title: 'title', manager: 'manager', groupName: 'cn',
    },
    // ACCOUNTDISABLE (0x2) of userAccountControl.
    disabledWhen: { attribute: 'userAccountControl', flag: 2 },
  },
  openldap: {
    userFilter: '(objectClass=inetOrgPerson)',
    groupFilter: '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))',
    groupMembership: 'member',
    nestedGroups: false,
    changeAttribute: 'entryCSN',
    attributes: {
      id: 'entryUUID', username: 'uid', email: 'mail', givenName: 'givenName', familyName: 'sn', displayName: 'cn',
      phone: 'telephoneNumber', employeeId: 'employeeNumber', department: 'departmentNumber', title: 'title', manager: 'manager', groupName: 'cn',
    },
  },
};

const disabledWhen = z.union([
  z.strictObject({ attribute: attributeName, flag: z.int().min(1).max(2 ** 31).describe('Disabled when this bit of the (integer) attribute is set') }),
  z.strictObject({ attribute: attributeName, equals: z.string().min(1).max(256).describe('Disabled when the attribute has this value (case-insensitive)') }),
  z.strictObject({ attribute: attributeName, present: z.literal(true).describe('Disabled when the attribute is present') }),
]);

const base = z.strictObject({
  key: schemas.keySchema.describe("Stable name: in its users' source (ldap:<key>)"),
  name: z.string().min(1).max(200),
  preset: z.enum(PRESETS).describe('active-directory or openldap: fills in filters, attribute names, membership and change tracking'),
  urls: z.array(ldapUrl).min(1).max(10).describe('Servers, tried in order (failover); ldaps://, or ldap:// upgraded with StartTLS'),
  caCertificates: pem.optional().describe("PEM certificate(s) of the CA that signed the servers' certificates (default: the system's trusted CAs)"),
  bindDn: dn.describe('The service account that searches the directory'),
  bindPassword: z.string().min(1).max(1024).optional().describe('Its password (stored sealed, never shown)'),
  baseDn: dn.describe('Where users are searched (subtree)'),
  groupBaseDn: dn.optional().describe('Where groups are searched (default: baseDn)'),
  userFilter: filter.optional().describe('Which entries are users (preset default)'),
  groupFilter: filter.optional().describe('Which entries are groups (preset default)'),
  groupMembership: z.enum(['memberOf', 'member']).optional().describe("memberOf: read the user's memberOf; member: read each group's member list (preset default)"),
  nestedGroups: z.boolean().optional().describe('Count membership through nested groups (AD default: yes)'),
  attributes: z.strictObject(Object.fromEntries(ATTRIBUTE_FIELDS.map((f) => [f, attributeName.optional()])) as Record<AttributeField, z.ZodOptional<typeof attributeName>>)
    .default({}).describe('Directory attribute for each profile field (preset defaults)'),
  disabledWhen: disabledWhen.optional().describe('When an entry counts as disabled (AD default: userAccountControl bit 2); an entry gone from the search is disabled too'),
  changeAttribute: z.enum(['uSNChanged', 'entryCSN', 'modifyTimestamp']).optional().describe('What incremental sync compares with its watermark (preset default)'),
  pageSize: z.int().min(10).max(5000).default(500).describe('Entries per page of a paged search'),
  timeoutSeconds: z.int().min(1).max(300).default(30).describe('Time-out of each LDAP operation'),
  connectTimeoutSeconds: z.int().min(1).max(60).default(5).describe('Time-out of each connection attempt, before the next server is tried'),
  syncIntervalMinutes: z.int().min(0).max(24 * 60).default(15).describe('How often the server syncs this source (0: only when asked)'),
  fullSyncHours: z.int().min(1).max(24 * 30).default(24).describe('Every how many hours a scheduled run is full (the others are incremental)'),
  disableThresholdPercent: z.number().min(0).max(100).default(10).describe("A run that would disable more than this share of the source's users stops before changing anything"),
  disableThresholdMinimum: z.int().min(0).max(100_000).default(1).describe('…unless it disables at most this many (so one leaver does not stop a small clinic)'),
  bindAuth: z.boolean().default(true).describe('Users of this source sign in with their directory password'),
  jit: z.boolean().default(true).describe('Create a user who signs in with a directory password before the first sync has brought them'),
  linkByEmail: z.boolean().default(false).describe('Link a directory entry to an existing account with the same email'),
  profileFields: z.array(z.enum(PROFILE_FIELDS)).default(['email', 'displayName', 'phone']).describe('Profile fields the directory owns'),
  mappings: mappingRules.default([]),
  enabled: z.boolean().default(true),
});

/** The settings as stored and used: preset defaults applied, every field present. */
export const sourceSettings = base.transform((s) => {
  const preset = PRESET_DEFAULTS[s.preset];
  return {
    ...s,
    groupBaseDn: s.groupBaseDn ?? s.baseDn,
    userFilter: s.userFilter ?? preset.userFilter,
    groupFilter: s.groupFilter ?? preset.groupFilter,
    groupMembership: s.groupMembership ?? preset.groupMembership,
    nestedGroups: s.nestedGroups ?? preset.nestedGroups,
    changeAttribute: s.changeAttribute ?? preset.changeAttribute,
    attributes: { ...preset.attributes, ...Object.fromEntries(Object.entries(s.attributes).filter(([, v]) => v)) } as Record<AttributeField, string>,
    disabledWhen: s.disabledWhen ?? preset.disabledWhen,
  };
});

export type SourceSettings = z.output<typeof sourceSettings>;
/** What an admin gives (CLI, admin API): the preset fills the rest. */
export const sourceRequest = base;
export type SourceInput = z.input<typeof base>;
/** What is stored: the admin's settings with plain defaults filled in, but not the preset's, so a preset can improve in a later release. */
export type StoredSettings = z.output<typeof base>;
