// Reads people and groups from a directory source into upstream identities: the attribute mapping,
// group membership (a user's memberOf, or each group's member list, with nested groups resolved
// through the groups' own memberships), the disabled test, and the change watermark.
import { escapeFilter, type Entry } from 'ldapts';
import type { UpstreamIdentity } from '../upstream/index.ts';
import { DirectoryError } from './directory-error.ts';
import type { LdapConnection } from './ldap-connection.ts';
import type { SourceSettings } from './source-settings.ts';

export interface DirectoryEntry {
  dn: string;
  identity: UpstreamIdentity;
  /** Employee id, department, title, manager, given and family name, as the directory has them. */
  profile: Record<string, string>;
  disabled: boolean;
}

export interface Watermark {
  attribute: string;
  value: string;
  server: string;
}

/** Directory DNs compare without regard to case or the spaces around separators. */
export const normDn = (dn: string) => dn.trim().toLowerCase().replace(/\s*([,=+])\s*/g, '$1');

// An entry's attributes by lower-cased name, built once per entry (servers spell names as they like).
const indexes = new WeakMap<Entry, Map<string, Array<string | Buffer>>>();
function indexOf(entry: Entry): Map<string, Array<string | Buffer>> {
  let index = indexes.get(entry);
  if (!index) {
    index = new Map();
    for (const [name, value] of Object.entries(entry)) if (name !== 'dn') index.set(name.toLowerCase(), Array.isArray(value) ? value : [value]);
    indexes.set(entry, index);
  }
  return index;
}

/** An entry's values of one attribute, whatever case the server spelled its name in. */
const valuesOf = (entry: Entry, attribute: string): Array<string | Buffer> => indexOf(entry).get(attribute.toLowerCase()) ?? [];
export const first = (entry: Entry, attribute: string): string | undefined => {
  const [v] = valuesOf(entry, attribute);
  return v === undefined ? undefined : Buffer.isBuffer(v) ? v.toString('utf8') : v;
};
const strings = (entry: Entry, attribute: string) => valuesOf(entry, attribute).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));

/** AD's objectGUID is 16 bytes, the first three groups little-endian; as AD itself prints it. */
export function guidString(bytes: Buffer): string {
  const hex = (b: Buffer) => b.toString('hex');
  const le = (start: number, end: number) => hex(Buffer.from(bytes.subarray(start, end)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`;
}

/** The group memberships of a source, read once per run. */
export interface GroupIndex {
  /** Group names (and DNs) a user belongs to, nested groups included when the source says so. */
  of(entry: Entry): { names: string[]; dns: string[] };
  size: number;
}

interface Group { dn: string; name: string; parents: Set<string> }

export async function readGroups(conn: LdapConnection, s: SourceSettings, onPage?: () => Promise<void>): Promise<GroupIndex> {
  const nameAttr = s.attributes.groupName;
  const byMember = s.groupMembership === 'member';
  const attributes = [nameAttr, ...(byMember ? ['member', 'uniqueMember'] : ['memberOf'])];
  const groups = new Map<string, Group>();
  const members = new Map<string, string[]>(); // member DN → group DNs (member mode)
  for await (const page of conn.pages(s.groupBaseDn, s.groupFilter, attributes)) {
    for (const entry of page) {
      // AD hands out member lists over 1,500 values in ranges (member;range=0-1499): half a list is no list.
      const ranged = Object.keys(entry).find((name) => /;range=/i.test(name));
      if (ranged) throw new DirectoryError('search_failed', `group ${entry.dn} returned ${ranged}: a ranged member list; use groupMembership memberOf for groups this large`);
      const dn = normDn(entry.dn);
      const group: Group = { dn: entry.dn, name: first(entry, nameAttr) ?? entry.dn, parents: new Set() };
      groups.set(dn, group);
      if (byMember) {
        for (const m of [...strings(entry, 'member'), ...strings(entry, 'uniqueMember')]) {
          const key = normDn(m.replace(/#'[01]*'B$/, '')); // uniqueMember may carry an optional UID
          members.set(key, [...(members.get(key) ?? []), dn]);
        }
      } else {
        for (const parent of strings(entry, 'memberOf')) group.parents.add(normDn(parent));
      }
    }
    await onPage?.();
  }
  // A group that is a member of another: its parents (member mode learns them from the lists).
  if (byMember) for (const [dn, group] of groups) for (const parent of members.get(dn) ?? []) group.parents.add(parent);

  return {
    size: groups.size,
    of(entry) {
      const direct = byMember ? (members.get(normDn(entry.dn)) ?? []) : strings(entry, 'memberOf').map(normDn);
      const found = new Set(direct.filter((dn) => groups.has(dn)));
      if (s.nestedGroups) {
        const queue = [...found];
        while (queue.length) {
          for (const parent of groups.get(queue.pop()!)!.parents) {
            if (groups.has(parent) && !found.has(parent)) {
              found.add(parent);
              queue.push(parent);
            }
          }
        }
      }
      const list = [...found].map((dn) => groups.get(dn)!);
      return { names: list.map((g) => g.name), dns: list.map((g) => g.dn) };
    },
  };
}

/** The attributes a user search asks for. */
export function userAttributes(s: SourceSettings): { attributes: string[]; binary: string[] } {
  const a = s.attributes;
  const attributes = new Set([a.id, a.username, a.email, a.givenName, a.familyName, a.displayName, a.phone, a.employeeId, a.department, a.title, a.manager, s.changeAttribute]);
  if (s.groupMembership === 'memberOf') attributes.add('memberOf');
  if (s.disabledWhen) attributes.add(s.disabledWhen.attribute);
  return { attributes: [...attributes], binary: a.id.toLowerCase() === 'objectguid' ? [a.id] : [] };
}

function isDisabled(entry: Entry, s: SourceSettings): boolean {
  const rule = s.disabledWhen;
  if (!rule) return false;
  const values = strings(entry, rule.attribute);
  if ('flag' in rule) return values.some((v) => /^-?\d+$/.test(v) && (BigInt(v) & BigInt(rule.flag)) !== 0n);
  if ('equals' in rule) return values.some((v) => v.toLowerCase() === rule.equals.toLowerCase());
  return values.length > 0;
}

/** A directory entry as an upstream identity; undefined when it lacks the id attribute. */
export function toEntry(entry: Entry, s: SourceSettings, sourceKey: string, groups: GroupIndex): DirectoryEntry | undefined {
  const a = s.attributes;
  const [rawId] = valuesOf(entry, a.id);
  const subject = rawId === undefined ? undefined : Buffer.isBuffer(rawId) ? (rawId.length === 16 ? guidString(rawId) : rawId.toString('hex')) : rawId;
  if (!subject) return undefined;
  const profile = Object.fromEntries(
    (['employeeId', 'department', 'title', 'manager', 'givenName', 'familyName'] as const)
      .map((f) => [f, first(entry, a[f])] as const).filter(([, v]) => v !== undefined && v !== ''),
  ) as Record<string, string>;
  const member = groups.of(entry);
  const username = first(entry, a.username);
  const email = first(entry, a.email);
  const displayName = first(entry, a.displayName) || [profile.givenName, profile.familyName].filter(Boolean).join(' ') || undefined;
  const attributes: Record<string, string[]> = { groups: member.names, groupDns: member.dns };
  for (const field of ['username', 'email', 'employeeId', 'department', 'title', 'manager', 'givenName', 'familyName', 'displayName'] as const) {
    const values = strings(entry, a[field]);
    if (values.length) attributes[field] = values;
  }
  return {
    dn: entry.dn,
    profile,
    disabled: isDisabled(entry, s),
    identity: {
      upstream: `ldap:${sourceKey}`, subject, username, email, displayName,
      // The organisation's own directory, maintained by its administrators, vouches for the address.
      emailVerified: Boolean(email), phone: first(entry, a.phone), attributes, mfa: false,
    },
  };
}

/** Where the directory is now, read before a run searches, so no change made during it is missed. */
export async function currentWatermark(conn: LdapConnection, s: SourceSettings, startedAt: Date): Promise<Watermark | undefined> {
  const mark = (value: string) => ({ attribute: s.changeAttribute, value, server: conn.url });
  if (s.changeAttribute === 'uSNChanged') {
    // USNs are per domain controller: the watermark names the one (dsServiceName), not just the URL,
    // which may be a round-robin name for several.
    const [root] = await conn.search('', '(objectClass=*)', ['highestCommittedUSN', 'dsServiceName'], { scope: 'base' });
    const usn = root && first(root, 'highestCommittedUSN');
    const dc = root && first(root, 'dsServiceName');
    return usn ? { ...mark(usn), server: dc ? `${conn.url} ${dc}` : conn.url } : undefined;
  }
  if (s.changeAttribute === 'modifyTimestamp') {
    // Five minutes of overlap for clocks that differ; seeing an entry twice changes nothing.
    return mark(generalizedTime(new Date(startedAt.getTime() - 5 * 60_000)));
  }
  // entryCSN: the contextCSN the syncprov overlay keeps on the database's suffix entry.
  const parts = s.baseDn.split(/(?<!\\),/);
  for (let i = 0; i < parts.length - 1; i++) {
    const dn = parts.slice(i).join(',');
    const [entry] = await conn.search(dn, '(objectClass=*)', ['contextCSN'], { scope: 'base' }).catch(() => []);
    const csns = entry ? strings(entry, 'contextCSN') : [];
    if (csns.length) return mark(csns.sort().at(-1)!);
  }
  return undefined;
}

export const generalizedTime = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/** The filter for entries changed since `watermark` (users or groups). */
export function changedSince(base: string, watermark: Watermark): string {
  const v = watermark.value;
  switch (watermark.attribute) {
    case 'uSNChanged':
      return `(&${base}(uSNChanged>=${(BigInt(v) + 1n).toString()}))`;
    case 'modifyTimestamp':
      return `(&${base}${escapeFilter`(modifyTimestamp>=${v})`})`;
    default:
      // entryCSN has ordering but no "greater than": at-or-after, and not the one already seen.
      return `(&${base}${escapeFilter`(entryCSN>=${v})(!(entryCSN=${v}))`})`;
  }
}
