// `caregate service-account …`, `api-key …`, `network-rule …` and `delegation …` as an operator runs
// them: real child processes (`node bin/caregate.js --json …`) on a fresh store, through a running
// server in embedded mode. What the features do to sign-ins and tokens is covered through the admin
// API (test/integration/access/, network/); here, that the command line reaches the same services,
// prints one JSON document (a key's value once), fails with the documented exit code, and that a
// user acting with --as is refused what they may not do, with nothing changed.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner } from '../../support/cli-runner.ts';
import type { CaregateProcess } from '../../support/caregate-process.ts';

const PASSWORD = 'first-long-password-of-tests';
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
// Each command is a new process (and, on PostgreSQL, a new connection to the store); a test runs several.
jest.setTimeout(300_000);

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let operator: CliRunner;
let server: CaregateProcess | undefined;

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: 'cli-access-operator' });
  server = await serveForCli(operator);
  await operator.ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
  await operator.ok(['location', 'create', '--tenant', 'acme', '--key', 'north']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'ann', '--password', PASSWORD, '--phi', '--role', 'manager@location:north']);
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'dev', '--password', PASSWORD, '--phi']);
  // Holds no admin permission at all: every command below refuses her.
  await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'nora', '--password', PASSWORD]);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate service-account and api-key (${testMode()} store)`, () => {
  let key: { id: string; key: string };

  it('service-account create makes an account (a duplicate exits 5) that user assign gives roles', async () => {
    expect(await operator.ok(['service-account', 'create', '--tenant', 'acme', '--username', 'nightly-export', '--name', 'Nightly export'])).toEqual(
      expect.objectContaining({ id: expect.any(String), username: 'nightly-export', displayName: 'Nightly export', status: 'active', activeKeys: 0 }),
    );
    const again = await operator.refused(['service-account', 'create', '--tenant', 'acme', '--username', 'nightly-export']);
    expect([again.code, again.error.error]).toEqual([5, 'conflict']);
    expect((await operator.refused(['service-account', 'create', '--tenant', 'acme', '--username', 'Not Valid'])).code).toBe(2);
    await operator.ok(['user', 'assign', 'nightly-export', '--tenant', 'acme', '--role', 'report_viewer']);
  });

  it('api-key issue prints the value once (in the JSON with --json); the operator must name an owner', async () => {
    const noOwner = await operator.refused(['api-key', 'issue', 'nightly-export', '--tenant', 'acme', '--name', 'warehouse', '--permission', 'reports:read', '--expires', inDays(30)]);
    expect([noOwner.code, noOwner.error.error_description]).toEqual([2, expect.stringContaining('--owner')]);
    const beyond = await operator.refused(['api-key', 'issue', 'nightly-export', '--tenant', 'acme', '--name', 'warehouse', '--permission', 'billing:read', '--expires', inDays(30), '--owner', 'ann']);
    expect([beyond.code, beyond.error.error_description]).toEqual([2, expect.stringContaining('does not hold billing:read')]);

    key = await operator.ok(['api-key', 'issue', 'nightly-export', '--tenant', 'acme', '--name', 'warehouse', '--permission', 'reports:read', '--expires', inDays(30), '--owner', 'ann', '--rate-limit', '30']);
    expect(key).toEqual(expect.objectContaining({
      id: expect.any(String), key: expect.stringMatching(/^cgk_/), name: 'warehouse', permissions: ['reports:read'], account: 'nightly-export', owner: 'ann', state: 'active', rateLimitPerMinute: 30,
    }));
    expect(key).not.toHaveProperty('secretHash');

    const human = await operator.run(['api-key', 'issue', 'nightly-export', '--tenant', 'acme', '--name', 'spare', '--permission', 'reports:read', '--expires', inDays(5), '--owner', 'ann'], { json: false });
    expect([human.code, human.stdout]).toEqual([0, expect.stringMatching(/^API key [0-9a-f-]{36} for nightly-export: cgk_\S+ {2}\(shown once; store it now\)\n$/)]);
  });

  it('api-key list shows the keys with their state and owner, never a value', async () => {
    const listed = await operator.ok(['api-key', 'list', '--tenant', 'acme', '--account', 'nightly-export']);
    expect(listed.map((k: any) => k.name).sort()).toEqual(['spare', 'warehouse']);
    expect(listed.find((k: any) => k.id === key.id)).toEqual(expect.objectContaining({ owner: 'ann', state: 'active', usesPerDay: {} }));
    expect(JSON.stringify(listed)).not.toContain(key.key);
    expect(await operator.ok(['api-key', 'list', '--tenant', 'acme', '--owner', 'dev'])).toEqual([]);
    expect((await operator.ok(['service-account', 'list', '--tenant', 'acme']))).toEqual([expect.objectContaining({ username: 'nightly-export', activeKeys: 2 })]);
  });

  it('api-key rotate prints a new value once and the end of the old one; a rotated key is not rotated again (exit 5)', async () => {
    const rotated = await operator.ok(['api-key', 'rotate', key.id, '--tenant', 'acme', '--expires', inDays(60), '--overlap-minutes', '0']);
    expect(rotated).toEqual(expect.objectContaining({ key: expect.stringMatching(/^cgk_/), permissions: ['reports:read'], previous: { id: key.id, expiresAt: expect.any(String) } }));
    expect(rotated.key).not.toBe(key.key);
    expect((await operator.refused(['api-key', 'rotate', key.id, '--tenant', 'acme', '--expires', inDays(60)])).code).toBe(5);
    expect((await operator.refused(['api-key', 'rotate', '00000000-0000-4000-8000-000000000000', '--tenant', 'acme', '--expires', inDays(60)])).code).toBe(4);
    expect((await operator.refused(['api-key', 'rotate', rotated.id, '--tenant', 'acme', '--expires', inDays(5000)])).error.error_description).toMatch(/^expiresAt: keys of this tenant live at most/);

    expect(await operator.ok(['api-key', 'revoke', rotated.id, '--tenant', 'acme'])).toEqual({ revoked: rotated.id });
    expect((await operator.ok(['api-key', 'list', '--tenant', 'acme'])).find((k: any) => k.id === rotated.id).state).toBe('revoked');
  });

  it('usage errors exit 2 with one JSON error', async () => {
    const missing = await operator.refused(['api-key', 'issue', 'nightly-export', '--tenant', 'acme', '--permission', 'reports:read', '--expires', inDays(3)]);
    expect([missing.code, missing.error.error, missing.error.error_description]).toEqual([2, 'invalid_usage', expect.stringContaining('--name')]);
    expect((await operator.refused(['api-key', 'rotate', key.id, '--tenant', 'acme', '--expires', inDays(3), '--overlap-minutes', 'soon'])).code).toBe(2);
  });

  it('with --as, a user without caregate.service_accounts:* is refused (exit 6) and nothing changes', async () => {
    for (const command of [
      ['service-account', 'list'], ['service-account', 'create', '--username', 'mine'], ['service-account', 'delete', 'nightly-export'],
      ['api-key', 'list'], ['api-key', 'issue', 'nightly-export', '--name', 'mine', '--permission', 'reports:read', '--expires', inDays(3)], ['api-key', 'revoke', key.id],
    ]) {
      const refused = await operator.refused([...command, '--tenant', 'acme', '--as', 'nora']);
      expect([command.join(' '), refused.code, refused.error.error]).toEqual([command.join(' '), 6, 'insufficient_permissions']);
    }
    expect((await operator.ok(['service-account', 'list', '--tenant', 'acme'])).map((a: any) => a.username)).toEqual(['nightly-export']);
  });

  it('service-account delete removes the account and its keys', async () => {
    expect(await operator.ok(['service-account', 'delete', 'nightly-export', '--tenant', 'acme'])).toEqual({ deleted: 'nightly-export' });
    expect(await operator.ok(['api-key', 'list', '--tenant', 'acme'])).toEqual([]);
    expect((await operator.refused(['service-account', 'delete', 'nightly-export', '--tenant', 'acme'])).code).toBe(4);
  });
});

describe(`caregate network-rule (${testMode()} store)`, () => {
  it('set-tenant and set-role store normalised ranges that show lists; bad ranges exit 2', async () => {
    expect(await operator.ok(['network-rule', 'show', '--tenant', 'acme'])).toEqual({ tenant: null, roles: [] });
    const tenantRule = await operator.ok(['network-rule', 'set-tenant', '--tenant', 'acme', '--range', '10.20.0.0/16', '--range', '2001:db8:5::/48', '--description', 'Main St clinic']);
    expect(tenantRule).toEqual(expect.objectContaining({ ranges: ['10.20.0.0/16', '2001:db8:5::/48'], description: 'Main St clinic', updatedBy: 'cli:cli-access-operator' }));
    const hostBits = await operator.refused(['network-rule', 'set-tenant', '--tenant', 'acme', '--range', '10.20.1.1/16']);
    expect([hostBits.code, hostBits.error.error_description]).toEqual([2, expect.stringMatching(/^ranges: /)]);
    expect(await operator.ok(['network-rule', 'set-role', 'provider', '--tenant', 'acme', '--range', '10.0.0.0/8'])).toEqual(expect.objectContaining({ role: 'provider', ranges: ['10.0.0.0/8'] }));
    expect((await operator.refused(['network-rule', 'set-role', 'nobody', '--tenant', 'acme', '--range', '10.0.0.0/8'])).code).toBe(4);

    const shown = await operator.run(['network-rule', 'show', '--tenant', 'acme'], { json: false });
    expect(shown.stdout).toBe('tenant-wide: 10.20.0.0/16 2001:db8:5::/48\tMain St clinic\nrole provider: 10.0.0.0/8\n');
  });

  it('a usage error exits 2: a range is required', async () => {
    const { code, error } = await operator.refused(['network-rule', 'set-role', 'provider', '--tenant', 'acme']);
    expect([code, error.error, error.error_description]).toEqual([2, 'invalid_usage', expect.stringContaining('--range')]);
  });

  it('with --as, a user without caregate.policy:edit or caregate.roles:edit is refused (exit 6) and the rules stay', async () => {
    for (const command of [['show'], ['set-tenant', '--range', '0.0.0.0/0'], ['clear-tenant'], ['set-role', 'provider', '--range', '0.0.0.0/0'], ['clear-role', 'provider']]) {
      expect((await operator.refused(['network-rule', ...command, '--tenant', 'acme', '--as', 'nora'])).code).toBe(6);
    }
    const rules = await operator.ok(['network-rule', 'show', '--tenant', 'acme']);
    expect([rules.tenant.ranges, rules.roles.map((r: any) => r.ranges)]).toEqual([['10.20.0.0/16', '2001:db8:5::/48'], [['10.0.0.0/8']]]);
  });

  it('clear-role and clear-tenant remove the rules; removing one that is not there exits 4', async () => {
    expect(await operator.ok(['network-rule', 'clear-role', 'provider', '--tenant', 'acme'])).toEqual({ removed: 'provider' });
    expect((await operator.refused(['network-rule', 'clear-role', 'provider', '--tenant', 'acme'])).code).toBe(4);
    expect(await operator.ok(['network-rule', 'clear-tenant', '--tenant', 'acme'])).toEqual({ removed: 'tenant' });
    expect(await operator.ok(['network-rule', 'show', '--tenant', 'acme'])).toEqual({ tenant: null, roles: [] });
  });
});

describe(`caregate delegation (${testMode()} store)`, () => {
  let delegation: { id: string };

  it('delegation create passes a person\'s role, named by person and role or by assignment id', async () => {
    delegation = await operator.ok(['delegation', 'create', '--tenant', 'acme', '--from', 'ann', '--role', 'manager@location:north', '--delegate', 'dev', '--expires', inDays(7), '--reason', 'leave']);
    expect(delegation).toEqual(expect.objectContaining({
      id: expect.any(String), delegator: expect.objectContaining({ username: 'ann' }), delegate: expect.objectContaining({ username: 'dev' }), role: 'manager', status: 'active', permissions: null,
    }));
    const ann = await operator.ok(['user', 'show', 'ann', '--tenant', 'acme']);
    const again = await operator.refused(['delegation', 'create', '--tenant', 'acme', '--assignment', ann.assignments[0].id, '--delegate', 'dev', '--expires', inDays(7)]);
    expect(again.error).toEqual(expect.objectContaining({ error: 'delegation_refused', details: expect.objectContaining({ reason: 'duplicate', delegation: delegation.id }) }));
    expect((await operator.refused(['delegation', 'create', '--tenant', 'acme', '--from', 'ann', '--role', 'manager', '--delegate', 'dev', '--expires', inDays(7)])).code).toBe(4);
  });

  it('delegation create refuses unclear or bad input with exit 2', async () => {
    for (const command of [
      ['--delegate', 'dev', '--expires', inDays(7)],
      ['--from', 'ann', '--delegate', 'dev', '--expires', inDays(7)],
      ['--assignment', 'not-an-id', '--delegate', 'dev', '--expires', inDays(7)],
      ['--from', 'ann', '--role', 'manager@location:north', '--delegate', 'dev', '--expires', 'someday'],
    ]) {
      expect([command.join(' '), (await operator.refused(['delegation', 'create', '--tenant', 'acme', ...command])).code]).toEqual([command.join(' '), 2]);
    }
    expect((await operator.refused(['delegation', 'create', '--tenant', 'acme', '--from', 'ann', '--role', 'manager@location:north', '--expires', inDays(7)])).error.error).toBe('invalid_usage');
  });

  it('delegation list shows running delegations, for people one line each', async () => {
    expect((await operator.ok(['delegation', 'list', '--tenant', 'acme'])).map((d: any) => d.id)).toEqual([delegation.id]);
    const human = await operator.run(['delegation', 'list', '--tenant', 'acme'], { json: false });
    expect(human.stdout).toMatch(new RegExp(`^${delegation.id}\tactive\tann -> dev\tmanager@location\tuntil \\d{4}-`));
  });

  it('with --as, a user without caregate.assignments:* is refused (exit 6) and the delegation runs on', async () => {
    for (const command of [['list'], ['end', delegation.id], ['create', '--from', 'ann', '--role', 'manager@location:north', '--delegate', 'nora', '--expires', inDays(3)]]) {
      expect((await operator.refused(['delegation', ...command, '--tenant', 'acme', '--as', 'nora'])).error.error).toBe('insufficient_permissions');
    }
    expect((await operator.ok(['delegation', 'list', '--tenant', 'acme'])).map((d: any) => d.status)).toEqual(['active']);
  });

  it('delegation end ends it now; it stays listed with --ended', async () => {
    expect(await operator.ok(['delegation', 'end', delegation.id, '--tenant', 'acme'])).toEqual({ ended: delegation.id });
    expect(await operator.ok(['delegation', 'list', '--tenant', 'acme'])).toEqual([]);
    expect((await operator.ok(['delegation', 'list', '--tenant', 'acme', '--ended'])).map((d: any) => [d.id, d.status])).toEqual([[delegation.id, 'ended']]);
    expect((await operator.refused(['delegation', 'end', 'nope', '--tenant', 'acme'])).code).toBe(2);
    expect((await operator.refused(['delegation', 'end', '00000000-0000-4000-8000-000000000000', '--tenant', 'acme'])).code).toBe(4);
  });
});
