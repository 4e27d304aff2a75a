// Bind authentication: a directory user signs in with their directory password. The service
// account finds the person's entry (the login escaped per RFC 4515, so `*)(uid=*` is a literal
// name, not a filter), then a separate connection binds as that entry with the password. An empty
// password never reaches the directory (to LDAP it is an anonymous bind, which "succeeds").
import { escapeFilter } from 'ldapts';
import type { TestFinding } from '../upstream/index.ts';
import { DirectoryError } from './directory-error.ts';
import { first, toEntry, userAttributes, type DirectoryEntry, type GroupIndex } from './directory-reader.ts';
import { connect, verifyBind, type LdapConnection } from './ldap-connection.ts';
import type { LoadedSource } from './source-service.ts';

/** AD's LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nested groups, in one search. */
export const IN_CHAIN = '1.2.840.113556.1.4.1941';

/** The groups of one user, found from the groups' side (works whether or not the server keeps memberOf). */
export async function groupsOfUser(conn: LdapConnection, source: LoadedSource, dn: string): Promise<GroupIndex> {
  const s = source.settings;
  const nameAttr = s.attributes.groupName;
  const memberTest = (value: string) => (s.groupMembership === 'member' ? escapeFilter`(|(member=${value})(uniqueMember=${value}))` : escapeFilter`(member=${value})`);
  const found = new Map<string, string>();
  if (s.nestedGroups && source.row.preset === 'active-directory') {
    for (const g of await conn.search(s.groupBaseDn, `(&${s.groupFilter}(member:${IN_CHAIN}:=${escapeFilter`${dn}`}))`, [nameAttr])) found.set(g.dn, first(g, nameAttr) ?? g.dn);
  } else {
    // Direct groups, then (when nested) the groups those are members of, until no new one appears.
    let frontier = [dn];
    for (let depth = 0; frontier.length && depth < 20; depth++) {
      const filter = `(&${s.groupFilter}(|${frontier.map(memberTest).join('')}))`;
      const next: string[] = [];
      for (const g of await conn.search(s.groupBaseDn, filter, [nameAttr])) {
        if (found.has(g.dn)) continue;
        found.set(g.dn, first(g, nameAttr) ?? g.dn);
        next.push(g.dn);
      }
      frontier = s.nestedGroups ? next : [];
    }
  }
  return { size: found.size, of: () => ({ names: [...found.values()], dns: [...found.keys()] }) };
}

/** The entry a login names: by username, else by email; none, or more than one, is no one. */
async function findEntry(conn: LdapConnection, source: LoadedSource, login: string) {
  const s = source.settings;
  const { attributes, binary } = userAttributes(s);
  const filter = `(&${s.userFilter}(|${escapeFilter`(${s.attributes.username}=${login})`}${escapeFilter`(${s.attributes.email}=${login})`}))`;
  const entries = await conn.search(s.baseDn, filter, attributes, { binary });
  return entries.length === 1 ? entries[0] : undefined;
}

export type BindVerdict =
  | { ok: true; entry: DirectoryEntry }
  | { ok: false; reason: 'unknown_user' | 'bad_password' };

/** Checks a directory password; a directory that cannot be reached is an error, not a wrong password. */
export async function verifyDirectoryPassword(source: LoadedSource, login: string, password: string): Promise<BindVerdict> {
  if (!password) return { ok: false, reason: 'bad_password' };
  if (!login || login.length > 256) return { ok: false, reason: 'unknown_user' };
  const s = source.settings;
  const conn = await connect(s, { dn: s.bindDn, password: source.bindPassword });
  try {
    const raw = await findEntry(conn, source, login);
    if (!raw) return { ok: false, reason: 'unknown_user' };
    if (!(await verifyBind(s, conn.url, raw.dn, password))) return { ok: false, reason: 'bad_password' };
    const entry = toEntry(raw, s, source.row.key, await groupsOfUser(conn, source, raw.dn));
    return entry ? { ok: true, entry } : { ok: false, reason: 'unknown_user' };
  } finally {
    await conn.close();
  }
}

/** `directory test`: each server reachable over verified TLS, the service account accepted, the searches answering. */
export async function testSource(source: LoadedSource): Promise<TestFinding[]> {
  const s = source.settings;
  const findings: TestFinding[] = [];
  let reachable: LdapConnection | undefined;
  for (const url of s.urls) {
    try {
      const conn = await connect(s, { dn: s.bindDn, password: source.bindPassword }, [url]);
      findings.push({ check: `server ${url}`, ok: true, detail: 'reachable over verified TLS; the service account is accepted' });
      if (reachable) await conn.close();
      else reachable = conn;
    } catch (error) {
      findings.push({ check: `server ${url}`, ok: false, detail: error instanceof DirectoryError ? `${error.reason}: ${error.message}` : String(error) });
    }
  }
  if (!reachable) return findings;
  try {
    const users = await reachable.search(s.baseDn, s.userFilter, ['1.1'], { limit: 1 }).catch((e: DirectoryError) => (e.message.includes('Size') ? [{}] : Promise.reject(e)));
    findings.push({ check: 'user search', ok: users.length > 0, detail: users.length ? `${s.userFilter} under ${s.baseDn} finds users` : `${s.userFilter} under ${s.baseDn} finds no users` });
    const groups = await reachable.search(s.groupBaseDn, s.groupFilter, ['1.1'], { limit: 1 }).catch((e: DirectoryError) => (e.message.includes('Size') ? [{}] : Promise.reject(e)));
    findings.push({ check: 'group search', ok: true, detail: groups.length ? `${s.groupFilter} under ${s.groupBaseDn} finds groups` : `${s.groupFilter} under ${s.groupBaseDn} finds no groups (mapping rules on groups will not match)` });
  } catch (error) {
    findings.push({ check: 'search', ok: false, detail: (error as Error).message });
  } finally {
    await reachable.close();
  }
  return findings;
}

