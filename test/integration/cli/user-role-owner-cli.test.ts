// `caregate user show|update|set-password|unassign|bulk|permissions|override`, `caregate role
// show|update|delete|derived`, `caregate owner …` and `caregate tenant profile-schema` as an operator
// runs them: real processes (`node bin/caregate.js --json …`), against a running embedded server or,
// on PostgreSQL, writing the database themselves. In order: the tests build on each other. What the
// rules behind them do is covered through the admin API (user-admin, role-admin, access-rules,
// ownership, admin-escalation); here, that the command line reaches the same services, prints one
// JSON document, refuses with the documented exit code, and changes nothing when it refuses.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner } from '../../support/cli-runner.ts';
import type { CaregateProcess } from '../../support/caregate-process.ts';

const PASSWORD = 'first-long-password-of-tests';
// Without a running server (PostgreSQL mode) each command is a process opening the store.
jest.setTimeout(300_000);

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let operator: CliRunner;
/** Embedded mode: the running server the commands go to (serveForCli). */
let server: CaregateProcess | undefined;
const ok = (args: string[], input?: string) => operator.ok(args, input === undefined ? undefined : { input });
const refused = (args: string[], input?: string) => operator.refused(args, input === undefined ? undefined : { input });
const T = ['--tenant', 'acme'];
const roleKeys = async (user: string) => (await ok(['user', 'show', user, ...T])).assignments.map((a: any) => `${a.role}${a.scope.type === 'tenant' ? '' : `@${a.scope.type}:${a.scope.key}`}`).sort();

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: 'cli-people-operator' });
  server = await serveForCli(operator);
  await ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
  await ok(['location', 'create', ...T, '--key', 'north', '--name', 'North clinic']);
  await ok(['app', 'create', ...T, '--name', 'Chart', '--redirect-uri', 'https://chart.example/cb', '--permission', 'reports:read', '--permission', 'reports:export']);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate tenant profile-schema, user create|show|update|set-password (${testMode()} store)`, () => {
  it('profile-schema --file replaces the declarations; a bad one is refused (exit 2) and the old one stays', async () => {
    expect((await ok(['tenant', 'profile-schema', 'acme'])).userTypes).toContain('physician');
    const file = join(dir.path, 'profile.json');
    writeFileSync(file, JSON.stringify({ userTypes: ['physician', 'nurse'], attributes: [{ key: 'npi', label: 'NPI', type: 'string', pattern: '[0-9]{10}', claim: true }] }));
    expect(await ok(['tenant', 'profile-schema', 'acme', '--file', file])).toMatchObject({ userTypes: ['physician', 'nurse'], attributes: [{ key: 'npi', claim: true }] });
    writeFileSync(file, JSON.stringify({ userTypes: [] }));
    expect((await refused(['tenant', 'profile-schema', 'acme', '--file', file])).code).toBe(2);
    expect((await refused(['tenant', 'profile-schema', 'acme', '--file', join(dir.path, 'missing.json')])).error.error_description).toMatch(/missing\.json: ENOENT/);
    expect((await ok(['tenant', 'profile-schema', 'acme'])).userTypes).toEqual(['physician', 'nurse']);
  });

  it('user create takes given and family name, user type and attributes; show prints the user with roles, teams and factors', async () => {
    await ok(['user', 'create', ...T, '--username', 'ada', '--password', PASSWORD, '--given-name', 'Ada', '--family-name', 'Lovelace',
      '--user-type', 'physician', '--attribute', 'npi=1234567890', '--email', 'ada@acme.example', '--role', 'report_viewer@location:north']);
    const ada = await ok(['user', 'show', 'ada', ...T]);
    expect(ada).toMatchObject({ username: 'ada', givenName: 'Ada', familyName: 'Lovelace', userType: 'physician', attributes: { npi: '1234567890' }, email: 'ada@acme.example', teams: ['everyone'], factors: [] });
    expect(ada.assignments).toEqual([expect.objectContaining({ role: 'report_viewer', scope: { type: 'location', key: 'north' } })]);
    const human = await operator.run(['user', 'show', 'ada', ...T], { json: false });
    expect(human.stdout).toContain('ada (Ada Lovelace)');
    expect(human.stdout).toContain('roles: report_viewer@location:north');

    const wrongType = await refused(['user', 'create', ...T, '--username', 'bob', '--password', PASSWORD, '--user-type', 'wizard']);
    expect(wrongType.code).toBe(2);
    expect((await refused(['user', 'show', 'bob', ...T])).code).toBe(4);
  });

  it('user update changes the fields given, clears the ones named, and refuses a command that changes nothing (exit 2)', async () => {
    const updated = await ok(['user', 'update', 'ada', ...T, '--family-name', 'King', '--clear', 'email', '--vendor', '--expires', '2031-01-31T00:00:00Z', '--remove-attribute', 'npi']);
    expect(updated).toMatchObject({ familyName: 'King', givenName: 'Ada', email: null, outsideVendor: true });
    expect(new Date(updated.expiresAt).toISOString()).toBe('2031-01-31T00:00:00.000Z');
    expect(updated.attributes ?? {}).not.toHaveProperty('npi');
    expect((await ok(['user', 'update', 'ada', ...T, '--no-vendor', '--clear', 'expires'])).outsideVendor).toBe(false);

    expect((await refused(['user', 'update', 'ada', ...T])).error.error_description).toMatch(/nothing to change/);
    expect((await refused(['user', 'update', 'ada', ...T, '--clear', 'password'])).code).toBe(2);
    expect((await refused(['user', 'update', 'ada', ...T, '--attribute', 'npi=12'])).code).toBe(2);
    expect((await ok(['user', 'show', 'ada', ...T])).familyName).toBe('King');
  });

  it('set-password reads the password from standard input, applies the policy, and never prints it', async () => {
    const [chosen, kept] = ['a-chosen-password-for-ada-42', 'another-password-ada-keeps-7'];
    expect(await ok(['user', 'set-password', 'ada', ...T, '--password-stdin'], `${chosen}\n`)).toEqual({ user: 'ada', mustChange: true });
    expect(await ok(['user', 'set-password', 'ada', ...T, '--password-stdin', '--no-must-change'], kept)).toEqual({ user: 'ada', mustChange: false });
    expect((await refused(['user', 'set-password', 'ada', ...T, '--password-stdin'], 'short')).code).toBe(2);
    // The history rule applies as on the account page: a recent password is refused.
    expect((await refused(['user', 'set-password', 'ada', ...T, '--password-stdin'], chosen)).error.error_description).toMatch(/last 5 passwords/);
    expect(operator.printed.filter((text) => text.includes(chosen) || text.includes(kept))).toEqual([]);
    const events = await ok(['audit', 'list', ...T, '--action', 'user.password.set']);
    expect(events.events ?? events).toHaveLength(2);
  });
});

describe(`caregate user unassign|bulk|permissions|override (${testMode()} store)`, () => {
  beforeAll(async () => {
    for (const name of ['u1', 'u2', 'u3', 'u4', 'u5']) await ok(['user', 'create', ...T, '--username', name, '--password', PASSWORD]);
  });

  it('bulk assign gives five users a role at once; one unknown user refuses the whole request (exit 4) and changes nobody', async () => {
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'].flatMap((u) => ['--user', u]);
    expect((await refused(['user', 'bulk', 'assign', ...T, ...users, '--user', 'nobody', '--role', 'inventory@location:north'])).code).toBe(4);
    expect(await roleKeys('u1')).toEqual([]);
    expect(await ok(['user', 'bulk', 'assign', ...T, ...users, '--role', 'inventory@location:north'])).toEqual({ action: 'assign', users: ['u1', 'u2', 'u3', 'u4', 'u5'] });
    for (const u of ['u1', 'u5']) expect(await roleKeys(u)).toEqual(['inventory@location:north']);
    expect((await refused(['user', 'bulk', 'disable', ...T, '--user', 'u1', '--role', 'inventory'])).code).toBe(2);
    expect((await refused(['user', 'bulk', 'promote', ...T, '--user', 'u1'])).code).toBe(2);
    expect(await ok(['user', 'bulk', 'unassign', ...T, '--user', 'u4', '--user', 'u5', '--role', 'inventory@location:north'])).toMatchObject({ action: 'unassign' });
    expect(await roleKeys('u5')).toEqual([]);
  });

  it('unassign takes one role away where it is held; a role not held there is 404 (exit 4)', async () => {
    expect((await refused(['user', 'unassign', 'u1', ...T, '--role', 'inventory'])).error.error_description).toBe('user "u1" does not hold role "inventory" there');
    expect(await ok(['user', 'unassign', 'u1', ...T, '--role', 'inventory@location:north'])).toMatchObject({ user: 'u1', role: 'inventory', removed: [expect.any(String)] });
    expect(await roleKeys('u1')).toEqual([]);
  });

  it('override grant and deny change what the token for an application carries; permissions explains it; remove ends it', async () => {
    const granted = await ok(['user', 'override', 'grant', 'u2', ...T, '--app', (await chart()).clientId, '--permission', 'reports:export']);
    expect(granted).toMatchObject({ effect: 'grant', permission: 'reports:export' });
    await ok(['user', 'override', 'deny', 'u2', ...T, '--app', (await chart()).clientId, '--permission', 'reports:read']);
    expect((await ok(['user', 'override', 'list', 'u2', ...T])).map((v: any) => [v.effect, v.application, v.permission]).sort())
      .toEqual([['deny', (await chart()).clientId, 'reports:read'], ['grant', (await chart()).clientId, 'reports:export']]);
    const explained = await ok(['user', 'permissions', 'u2', ...T, '--app', (await chart()).clientId]);
    expect(explained.permissions).toContain('reports:export');
    expect(explained.permissions).not.toContain('reports:read');
    expect((await refused(['user', 'override', 'grant', 'u2', ...T, '--app', (await chart()).clientId, '--permission', 'notes:edit'])).code).toBe(2);

    expect(await ok(['user', 'override', 'remove', 'u2', granted.id, ...T])).toEqual({ removed: granted.id });
    expect((await refused(['user', 'override', 'remove', 'u2', granted.id, ...T])).code).toBe(4);
    expect((await ok(['user', 'permissions', 'u2', ...T, '--app', (await chart()).clientId])).permissions).not.toContain('reports:export');
  });
});

describe(`caregate role show|update|delete|derived (${testMode()} store)`, () => {
  it('role update edits permissions and parent; show prints what it carries, inherited included', async () => {
    await ok(['role', 'create', ...T, '--key', 'clerk', '--permission', 'schedule:read']);
    const updated = await ok(['role', 'update', 'clerk', ...T, '--permission', 'schedule:read', '--permission', 'billing:read', '--parent', 'report_viewer', '--name', 'Ward clerk']);
    expect(updated).toMatchObject({ key: 'clerk', name: 'Ward clerk' });
    expect((await ok(['role', 'show', 'clerk', ...T])).effectivePermissions.sort()).toEqual(['billing:read', 'reports:read', 'schedule:read']);
    expect((await ok(['role', 'update', 'clerk', ...T, '--no-parent'])).effectivePermissions.sort()).toEqual(['billing:read', 'schedule:read']);
    expect((await refused(['role', 'update', 'clerk', ...T])).code).toBe(2);
    expect((await refused(['role', 'update', 'nope', ...T, '--name', 'x'])).code).toBe(4);
  });

  it('making a role PHI-only while people without PHI hold it is refused, naming them (exit 2), and changes nothing', async () => {
    await ok(['user', 'assign', 'u3', ...T, '--role', 'clerk']);
    const { code, error } = await refused(['role', 'update', 'clerk', ...T, '--requires-phi']);
    expect([code, error.error]).toEqual([2, 'phi_access_required']);
    expect(error.error_description).toContain('u3');
    expect((await ok(['role', 'show', 'clerk', ...T])).requiresPhi).toBe(false);
  });

  it('role delete refuses a built-in role and an assigned one (exit 5); --force ends the assignments', async () => {
    expect((await refused(['role', 'delete', 'provider', ...T])).code).toBe(5);
    expect((await refused(['role', 'delete', 'clerk', ...T])).error.error_description).toMatch(/assigned 1 time/);
    expect(await roleKeys('u3')).toEqual(['clerk', 'inventory@location:north']);
    expect(await ok(['role', 'delete', 'clerk', ...T, '--force'])).toEqual({ deleted: 'clerk' });
    expect(await roleKeys('u3')).toEqual(['inventory@location:north']);
    expect((await refused(['role', 'show', 'clerk', ...T])).code).toBe(4);
  });

  it('role derived add makes holders of one role hold another where they hold it, shown as derived; remove ends it', async () => {
    await ok(['user', 'assign', 'u4', ...T, '--role', 'billing_user@location:north']);
    const rule = await ok(['role', 'derived', 'add', ...T, '--from-role', 'billing_user', '--target', 'reporting_user']);
    expect((await ok(['role', 'derived', 'list', ...T])).map((d: any) => [d.sourceRole, d.targetRole])).toEqual([['billing_user', 'reporting_user']]);
    const explained = await ok(['user', 'permissions', 'u4', ...T]);
    expect(explained.grants).toContainEqual(expect.objectContaining({ role: 'reporting_user', scope: { type: 'location', key: 'north' }, via: 'derived' }));
    expect(await roleKeys('u4')).toEqual(['billing_user@location:north']);
    expect((await refused(['role', 'derived', 'add', ...T, '--from-role', 'billing_user', '--from-permission', 'reports:read', '--target', 'reporting_user'])).code).toBe(2);

    expect(await ok(['role', 'derived', 'remove', rule.id, ...T])).toEqual({ removed: rule.id });
    expect((await ok(['user', 'permissions', 'u4', ...T])).grants.map((g: any) => g.role)).toEqual(['billing_user']);
  });
});

describe(`caregate owner (${testMode()} store)`, () => {
  beforeAll(async () => {
    for (const name of ['olga', 'omar']) await ok(['user', 'create', ...T, '--username', name, '--password', PASSWORD, '--role', 'admin']);
  });

  it('the operator names an owner; the owner names backups; only the owner transfers (exit 6 for anyone else)', async () => {
    expect(await ok(['owner', 'show', ...T])).toEqual({ owner: null, backups: [] });
    expect((await ok(['owner', 'transfer', ...T, '--to', 'olga'])).owner).toMatchObject({ username: 'olga' });
    expect((await refused(['owner', 'backups', ...T, '--user', 'omar', '--as', 'omar'])).code).toBe(6);
    expect((await ok(['owner', 'backups', ...T, '--user', 'omar', '--as', 'olga'])).backups).toEqual([expect.objectContaining({ username: 'omar' })]);
    expect((await refused(['owner', 'backups', ...T])).code).toBe(2);

    expect((await refused(['owner', 'transfer', ...T, '--to', 'omar', '--as', 'omar'])).code).toBe(6);
    expect((await refused(['owner', 'transfer', ...T, '--to', 'u5'])).code).toBe(5);
    const shown = await ok(['owner', 'show', ...T]);
    expect([shown.owner.username, shown.backups.map((b: any) => b.username)]).toEqual(['olga', ['omar']]);
  });

  it('a backup owner cannot claim while the owner is active (exit 5); the owner cannot be disabled', async () => {
    const claim = await refused(['owner', 'claim', ...T, '--as', 'omar']);
    expect([claim.code, claim.error.error_description]).toEqual([5, expect.stringContaining('is active')]);
    expect((await refused(['user', 'disable', 'olga', ...T])).code).toBe(5);
    expect((await ok(['owner', 'transfer', ...T, '--to', 'omar', '--as', 'olga'])).owner).toMatchObject({ username: 'omar' });
    expect((await ok(['owner', 'show', ...T])).owner.username).toBe('omar');
  });
});

let chartApp: { clientId: string } | undefined;
async function chart(): Promise<{ clientId: string }> {
  chartApp ??= (await ok(['app', 'list', ...T])).find((a: any) => a.name === 'Chart');
  return chartApp!;
}
