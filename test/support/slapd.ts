// A real OpenLDAP server (Debian's slapd) for directory-sync and LDAP-bind tests: a generated
// slapd.conf and mdb database in a temp dir, plain LDAP (with StartTLS) and LDAPS on free loopback
// ports with a certificate from a CA made at start, the memberof/refint/syncprov overlays, and a
// small clinic fixture. Fixtures load with ldapmodify as the rootdn; large data sets with slapadd.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { Client } from 'ldapts';
import { freePort } from './free-port.ts';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const LDAPMODIFY = '/usr/bin/ldapmodify';
const SETPRIV = '/usr/bin/setpriv';
const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `/etc/ldap/schema/${s}.schema`);

export const DEFAULT_BASE_DN = 'dc=clinic,dc=example';
export const ADMIN_PASSWORD = 'slapd-admin-password';
export const SERVICE_ACCOUNT = { cn: 'caregate-sync', password: 'sync-account-password' } as const;
/** Entries per search without the paged-results control, and the largest page, for the service account (AD's MaxPageSize is 1000). */
export const SIZE_LIMIT = 500;
export const GROUPS = { erNurses: 'ER Nurses', reporting: 'Reporting' } as const;

export interface FixtureUser {
  uid: string; cn: string; givenName: string; sn: string; mail: string; telephoneNumber: string;
  employeeNumber: string; departmentNumber: string; title: string; password: string; groups: string[];
}
const user = (u: Omit<FixtureUser, 'cn'>): FixtureUser => ({ ...u, cn: `${u.givenName} ${u.sn}` });
export const NINA = user({ uid: 'nina.patel', givenName: 'Nina', sn: 'Patel', mail: 'nina.patel@clinic.example', telephoneNumber: '+1 617 555 0101', employeeNumber: 'E1001', departmentNumber: 'Emergency', title: 'Charge Nurse', password: 'nina-ldap-password', groups: [GROUPS.erNurses] });
export const OMAR = user({ uid: 'omar.haddad', givenName: 'Omar', sn: 'Haddad', mail: 'omar.haddad@clinic.example', telephoneNumber: '+1 617 555 0102', employeeNumber: 'E1002', departmentNumber: 'Emergency', title: 'Registered Nurse', password: 'omar-ldap-password', groups: [GROUPS.erNurses, GROUPS.reporting] });
export const GRACE = user({ uid: 'grace.kim', givenName: 'Grace', sn: 'Kim', mail: 'grace.kim@clinic.example', telephoneNumber: '+1 617 555 0103', employeeNumber: 'E1003', departmentNumber: 'Quality', title: 'Data Analyst', password: 'grace-ldap-password', groups: [GROUPS.reporting] });
/** Non-ASCII names (base64 in LDIF), and in no group. */
export const ZOE = user({ uid: 'zoe.angstrom', givenName: 'Zoë', sn: 'Ångström', mail: 'zoe.angstrom@clinic.example', telephoneNumber: '+1 617 555 0104', employeeNumber: 'E1004', departmentNumber: 'Radiology', title: 'Radiographer', password: 'zoe-ldap-password', groups: [] });
export const FIXTURE_USERS: readonly FixtureUser[] = [NINA, OMAR, GRACE, ZOE];

export interface TestSlapd {
  url: string;            // ldap://127.0.0.1:PORT (StartTLS offered)
  ldapsUrl: string;       // ldaps://127.0.0.1:PORT2
  caPem: string;          // the test CA that signed the server certificate (SAN 127.0.0.1, localhost)
  baseDn: string;
  bindDn: string; bindPassword: string;   // the service account: reads everything but userPassword
  adminDn: string; adminPassword: string; // the rootdn
  peopleDn: string; groupsDn: string;
  userDn(uid: string): string;
  groupDn(cn: string): string;
  /** Applies LDIF as the rootdn with `ldapmodify -a`: plain entries are added, `changetype:` records applied. */
  ldif(text: string): Promise<void>;
  /** SIGTERM and wait for exit; start again on the same ports with the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes the temp dir (idempotent). */
  close(): Promise<void>;
}

export interface StartSlapdOptions {
  baseDn?: string;
  /**
   * LDIF loaded with `slapadd -q` before the server starts (after the suffix and OUs, before the
   * fixture users): far faster than ldapadd for thousands of entries. Overlays do not run offline,
   * so memberOf is not computed for these entries; write it in the LDIF
   * (`generateUsersLdif(..., { memberOf: true })`) or read groups by their `member` values.
   */
  preload?: string;
}

/** slapd, slapadd and ldapmodify are installed (Debian packages slapd and ldap-utils). */
export function slapdAvailable(): boolean {
  return [SLAPD, SLAPADD, LDAPMODIFY, ...SCHEMAS].every((path) => existsSync(path));
}

export async function startSlapd(options: StartSlapdOptions = {}): Promise<TestSlapd> {
  const baseDn = options.baseDn ?? DEFAULT_BASE_DN;
  if (!/^dc=[^,]+(,dc=[^,]+)*$/i.test(baseDn)) throw new Error(`baseDn must be dc=…,dc=… (got ${baseDn})`);
  const dir = await mkdtemp(join(tmpdir(), 'caregate-slapd-'));
  const dns = {
    adminDn: `cn=admin,${baseDn}`,
    bindDn: `cn=${SERVICE_ACCOUNT.cn},ou=services,${baseDn}`,
    peopleDn: `ou=people,${baseDn}`,
    groupsDn: `ou=groups,${baseDn}`,
  };
  let child: ChildProcess | undefined;
  let log = '';
  let ports: [number, number] = [0, 0];
  const urls = () => [`ldap://127.0.0.1:${ports[0]}`, `ldaps://127.0.0.1:${ports[1]}`] as const;

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    log = '';
    // setpriv: the kernel sends slapd SIGTERM if this process dies without closing it.
    const argv = [SLAPD, '-f', join(dir, 'slapd.conf'), '-h', urls().map((u) => `${u}/`).join(' '), '-d', 'none'];
    const proc = existsSync(SETPRIV) ? spawn(SETPRIV, ['--pdeathsig', 'TERM', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const keep = (chunk: Buffer) => (log = (log + chunk).slice(-8000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    const closed = new Promise((resolve) => proc.once('close', resolve));
    const spawnError = new Promise<never>((_, reject) => proc.once('error', reject));
    spawnError.catch(() => undefined); // only reported through the race below
    try {
      await Promise.race([waitUntilAnswering(urls()[0], () => proc.exitCode === null && proc.signalCode === null), spawnError]);
    } catch (error) {
      await stop();
      if (proc.pid) await closed; // so the log holds all it printed
      throw new Error(`slapd did not start on ${urls().join(' ')}: ${(error as Error).message}\n${log}`);
    }
  };

  try {
    const tls = await testTls();
    await writeFile(join(dir, 'ca.pem'), tls.caPem);
    await writeFile(join(dir, 'server.pem'), tls.certPem);
    await writeFile(join(dir, 'server.key'), tls.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'slapd.conf'), slapdConf(dir, baseDn, dns.adminDn, dns.bindDn));
    const skeleton = skeletonLdif(baseDn, dns.bindDn);
    if (options.preload) await slapadd(dir, `${skeleton}\n${options.preload}`);
    // Another process may take a port between freePort() and slapd's bind: then try new ones.
    for (let attempt = 1; ; attempt++) {
      ports = [await freePort(), await freePort()];
      try {
        await start();
        break;
      } catch (error) {
        if (attempt === 3 || !/errno=98/.test(String(error))) throw error;
      }
    }
    const fixture = new Array<string>();
    if (!options.preload) fixture.push(skeleton);
    fixture.push(FIXTURE_USERS.map((u) => userLdif(u, dns.peopleDn)).join('\n'), groupsLdif(FIXTURE_USERS, baseDn));
    await ldapmodify(urls()[0], dns.adminDn, fixture.join('\n'));
    const [url, ldapsUrl] = urls();
    return {
      url, ldapsUrl, caPem: tls.caPem, baseDn, ...dns,
      bindPassword: SERVICE_ACCOUNT.password, adminPassword: ADMIN_PASSWORD,
      userDn: (uid) => `uid=${uid},${dns.peopleDn}`,
      groupDn: (cn) => `cn=${cn},${dns.groupsDn}`,
      ldif: (text) => ldapmodify(url, dns.adminDn, text),
      stop,
      start,
      close: async () => {
        await stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function slapdConf(dir: string, baseDn: string, adminDn: string, serviceDn: string): string {
  return `${SCHEMAS.map((s) => `include ${s}`).join('\n')}
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload refint
moduleload syncprov
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server.key
password-hash {SSHA}
sizelimit ${SIZE_LIMIT}

database mdb
suffix "${baseDn}"
rootdn "${adminDn}"
rootpw ${ADMIN_PASSWORD}
directory ${dir}
maxsize 1073741824
# A throwaway database: no fsync per write.
dbnosync
index objectClass eq
index uid,mail,cn,employeeNumber eq
index entryUUID,entryCSN eq
index member,memberOf eq
# Past ${SIZE_LIMIT} entries the sync account must page (as against AD), but paging has no total limit.
limits dn.exact="${serviceDn}" size.soft=${SIZE_LIMIT} size.hard=${SIZE_LIMIT} size.pr=${SIZE_LIMIT} size.prtotal=unlimited
access to attrs=userPassword
  by self =xw
  by anonymous auth
  by * none
access to *
  by dn.exact="${serviceDn}" read
  by self read
  by * none
# syncprov keeps contextCSN on the suffix: the directory's high-water mark for incremental sync.
overlay syncprov
overlay memberof
memberof-refint TRUE
overlay refint
refint_attributes member
`;
}

/** A CA and a server certificate for 127.0.0.1 and localhost signed by it (ECDSA P-256, one day). */
async function testTls(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86_400_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex'), name: 'CN=Caregate test LDAP CA', notBefore, notAfter, keys: caKeys, signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'), subject: 'CN=localhost', issuer: ca.subject, notBefore, notAfter,
    publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem };
}

/** Polls until slapd answers a root DSE search (a TCP accept alone comes before it serves). */
async function waitUntilAnswering(url: string, alive: () => boolean, withinMs = 10_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (alive()) {
    const client = new Client({ url, connectTimeout: 500, timeout: 1000 });
    try {
      await client.search('', { scope: 'base', attributes: ['namingContexts'] });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`slapd at ${url} did not answer within ${withinMs} ms: ${String(error)}`);
    } finally {
      await client.unbind().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('slapd exited');
}

function ldapmodify(url: string, adminDn: string, ldif: string): Promise<void> {
  return run(LDAPMODIFY, ['-a', '-x', '-H', url, '-D', adminDn, '-w', ADMIN_PASSWORD], ldif);
}

async function slapadd(dir: string, ldif: string): Promise<void> {
  const file = join(dir, 'preload.ldif');
  await writeFile(file, ldif);
  // -q: no consistency checks or per-entry sync; -w: write contextCSN from the loaded entries.
  await run(SLAPADD, ['-q', '-w', '-f', join(dir, 'slapd.conf'), '-l', file]);
  await rm(file);
}

/** Runs a command with `input` on stdin; rejects with its output when it exits non-zero. */
function run(command: string, args: string[], input = ''): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    proc.stdout.on('data', (chunk) => (output = (output + chunk).slice(-8000)));
    proc.stderr.on('data', (chunk) => (output = (output + chunk).slice(-8000)));
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}:\n${output}`))));
    proc.stdin.on('error', () => undefined); // EPIPE when it fails early; the exit code says why
    proc.stdin.end(input);
  });
}

/** One LDIF record; values that are not RFC 2849 SAFE-STRINGs go base64 (`attr:: `). */
export function ldifEntry(dn: string, attributes: Record<string, string | readonly string[]>): string {
  const line = (name: string, value: string) =>
    /^(?:[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f][\x01-\x09\x0b\x0c\x0e-\x7f]*)?$/.test(value) && !value.endsWith(' ')
      ? `${name}: ${value}`
      : `${name}:: ${Buffer.from(value).toString('base64')}`;
  const lines = [line('dn', dn)];
  for (const [name, values] of Object.entries(attributes)) for (const value of [values].flat()) lines.push(line(name, value));
  return `${lines.join('\n')}\n`;
}

/** `{SSHA}` as OpenLDAP stores it: base64(SHA-1(password ‖ salt) ‖ salt). */
export function sshaPassword(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

function skeletonLdif(baseDn: string, serviceDn: string): string {
  const dc = /^dc=([^,]+)/i.exec(baseDn)![1];
  return [
    ldifEntry(baseDn, { objectClass: ['dcObject', 'organization'], dc, o: 'Clinic' }),
    ...['people', 'groups', 'services'].map((ou) => ldifEntry(`ou=${ou},${baseDn}`, { objectClass: 'organizationalUnit', ou })),
    ldifEntry(serviceDn, { objectClass: ['applicationProcess', 'simpleSecurityObject'], cn: SERVICE_ACCOUNT.cn, userPassword: sshaPassword(SERVICE_ACCOUNT.password) }),
  ].join('\n');
}

function userLdif(u: FixtureUser, peopleDn: string): string {
  const { password, groups, ...attributes } = u;
  return ldifEntry(`uid=${u.uid},${peopleDn}`, { objectClass: 'inetOrgPerson', ...attributes, userPassword: sshaPassword(password) });
}

/** groupOfNames entries for every group the users name (a groupOfNames needs one member at least). */
function groupsLdif(users: readonly FixtureUser[], baseDn: string): string {
  const members = new Map<string, string[]>();
  for (const u of users) for (const g of u.groups) members.set(g, [...(members.get(g) ?? []), `uid=${u.uid},ou=people,${baseDn}`]);
  return [...members].map(([cn, member]) => ldifEntry(`cn=${cn},ou=groups,${baseDn}`, { objectClass: 'groupOfNames', cn, member })).join('\n');
}

export const BENCH_PASSWORD = 'bench-user-password';
export const benchUid = (i: number) => `user${String(i).padStart(5, '0')}`;
export const benchGroup = (j: number) => `Bench Group ${String(j).padStart(3, '0')}`;

/**
 * `count` inetOrgPerson users (uid user00000…, password BENCH_PASSWORD) and then `groups`
 * groupOfNames groups (cn "Bench Group 000"…). User i is in group i mod groups, and every third
 * user also in group (7i + 1) mod groups, so groups hold about 1.33 × count / groups members.
 * With `memberOf`, users carry the memberOf values the overlay would have written (for slapadd,
 * which runs no overlay; ldapmodify refuses memberOf, so leave it off there).
 */
export function generateUsersLdif(count: number, groups: number, options: { baseDn?: string; memberOf?: boolean } = {}): string {
  const baseDn = options.baseDn ?? DEFAULT_BASE_DN;
  if (groups > count) throw new Error('every group needs a member: groups must not exceed count');
  const givenNames = ['Ana', 'Ben', 'Chen', 'Dara', 'Elif', 'Femi', 'Gia', 'Hugo', 'Ines', 'Jon', 'Kofi', 'Lena'];
  const surnames = ['Adams', 'Baker', 'Costa', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Huang', 'Ito', 'Jensen', 'Khan', 'Lopez', 'Moreau'];
  const departments = ['Emergency', 'Radiology', 'Oncology', 'Pediatrics', 'Quality', 'Pharmacy'];
  const titles = ['Registered Nurse', 'Physician', 'Technician', 'Clerk', 'Pharmacist'];
  const password = sshaPassword(BENCH_PASSWORD); // one hash for all: hashing 10k is not what is measured
  const groupDn = (j: number) => `cn=${benchGroup(j)},ou=groups,${baseDn}`;
  const members = Array.from({ length: groups }, () => new Array<string>());
  const out = new Array<string>();
  for (let i = 0; i < count; i++) {
    const uid = benchUid(i);
    const dn = `uid=${uid},ou=people,${baseDn}`;
    const mine = [...new Set(i % 3 === 0 ? [i % groups, (7 * i + 1) % groups] : [i % groups])];
    for (const j of mine) members[j].push(dn);
    const givenName = givenNames[i % givenNames.length];
    const sn = surnames[Math.floor(i / givenNames.length) % surnames.length];
    out.push(ldifEntry(dn, {
      objectClass: 'inetOrgPerson', uid, cn: `${givenName} ${sn} ${i}`, givenName, sn, mail: `${uid}@clinic.example`,
      telephoneNumber: `+1 617 555 ${String(i % 10_000).padStart(4, '0')}`, employeeNumber: `B${String(i).padStart(6, '0')}`,
      departmentNumber: departments[i % departments.length], title: titles[i % titles.length], userPassword: password,
      ...(options.memberOf ? { memberOf: mine.map(groupDn) } : {}),
    }));
  }
  members.forEach((member, j) => out.push(ldifEntry(groupDn(j), { objectClass: 'groupOfNames', cn: benchGroup(j), member })));
  return out.join('\n');
}
