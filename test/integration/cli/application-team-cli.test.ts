// `caregate app show|update|rotate-secret|delete` and `caregate team rename|members|roles|assign|
// unassign` as an operator runs them: real child processes (`node bin/caregate.js --json …`) on a
// fresh store, building on each other in order. What the changes do to sign-ins and tokens is
// covered through the admin API (test/integration/admin/application-admin.test.ts); here, that the
// command line reaches the same services, prints one JSON document, and fails with the right exit code.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner } from '../../support/cli-runner.ts';
import type { CaregateProcess } from '../../support/caregate-process.ts';

const PASSWORD = 'first-long-password-of-tests';
// Each command is a new process opening the store (~1.5 s, far more on a busy machine); a test runs several.
jest.setTimeout(300_000);

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let operator: CliRunner;
/** Embedded mode: the running server the commands go to (serveForCli). */
let server: CaregateProcess | undefined;

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: 'cli-app-operator' });
  server = await serveForCli(operator);
  await operator.ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate app (${testMode()} store)`, () => {
  let chart: { client_id: string; client_secret: string };

  beforeAll(async () => {
    chart = await operator.ok(['app', 'create', '--tenant', 'acme', '--name', 'Chart', '--redirect-uri', 'https://chart.example/cb']);
  });

  it('app show prints the application, never its secret', async () => {
    const shown = await operator.ok(['app', 'show', chart.client_id, '--tenant', 'acme']);
    expect(shown).toMatchObject({ clientId: chart.client_id, name: 'Chart', redirectUris: ['https://chart.example/cb'] });
    expect(JSON.stringify(shown)).not.toContain(chart.client_secret);
    expect(shown).not.toHaveProperty('clientSecretSealed');
    expect((await operator.refused(['app', 'show', 'nope', '--tenant', 'acme'])).code).toBe(4);
  });

  it('app update replaces the lists given and leaves the rest; --clear empties one', async () => {
    const updated = await operator.ok(['app', 'update', chart.client_id, '--tenant', 'acme', '--redirect-uri', 'https://chart.example/a', '--redirect-uri', 'https://chart.example/b',
      '--permission', 'notes:read', '--permission', 'notes:edit', '--require-consent']);
    expect(updated).toMatchObject({ redirectUris: ['https://chart.example/a', 'https://chart.example/b'], permissions: ['notes:read', 'notes:edit'], requireConsent: true, name: 'Chart' });
    const cleared = await operator.ok(['app', 'update', chart.client_id, '--tenant', 'acme', '--clear', 'permissions', '--no-require-consent']);
    expect(cleared).toMatchObject({ permissions: [], requireConsent: false, redirectUris: ['https://chart.example/a', 'https://chart.example/b'] });
  });

  it('app update refuses an application that would not work (exit 2, naming the field), and changes nothing', async () => {
    const { code, error } = await operator.refused(['app', 'update', chart.client_id, '--tenant', 'acme', '--clear', 'redirect-uris']);
    expect([code, error.error]).toEqual([2, 'invalid_request']);
    expect(error.error_description).toMatch(/^redirectUris: required for the authorization_code grant/);
    const adminApi = await operator.refused(['app', 'update', chart.client_id, '--tenant', 'acme', '--allow-resource', `${server?.url ?? 'http://localhost:3000'}/admin/api`]);
    expect(adminApi.error.error_description).toMatch(/^allowedResources: the admin API/);
    expect((await operator.refused(['app', 'update', chart.client_id, '--tenant', 'acme', '--clear', 'everything'])).code).toBe(2);
    expect((await operator.ok(['app', 'show', chart.client_id, '--tenant', 'acme'])).redirectUris).toHaveLength(2);
  });

  it('app rotate-secret prints the new secret once, with the end of the overlap (default 60 minutes; 0: none)', async () => {
    const before = Date.now();
    const rotated = await operator.ok(['app', 'rotate-secret', chart.client_id, '--tenant', 'acme']);
    expect(rotated.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.client_secret).not.toBe(chart.client_secret);
    expect(new Date(rotated.previousSecretExpiresAt).getTime()).toBeGreaterThanOrEqual(before + 59 * 60_000);
    const shown = await operator.ok(['app', 'show', chart.client_id, '--tenant', 'acme']);
    expect(shown.previousSecretExpiresAt).toBe(rotated.previousSecretExpiresAt);
    expect(JSON.stringify(shown)).not.toContain(rotated.client_secret);

    const now = await operator.ok(['app', 'rotate-secret', chart.client_id, '--tenant', 'acme', '--overlap-minutes', '0']);
    expect(now.previousSecretExpiresAt).toBeNull();
    expect((await operator.refused(['app', 'rotate-secret', chart.client_id, '--tenant', 'acme', '--overlap-minutes', '20000'])).code).toBe(2);
  });

  it('app rotate-secret without --json says until when the old secret works', async () => {
    const out = await operator.run(['app', 'rotate-secret', chart.client_id, '--tenant', 'acme', '--overlap-minutes', '5'], { json: false });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^client_secret: [A-Za-z0-9_-]{43} {2}\(shown once\)\nThe previous secret works until \d{4}-\d\d-\d\dT/);
  });

  it('app delete removes the application', async () => {
    expect(await operator.ok(['app', 'delete', chart.client_id, '--tenant', 'acme'])).toEqual({ deleted: chart.client_id });
    expect((await operator.refused(['app', 'show', chart.client_id, '--tenant', 'acme'])).code).toBe(4);
    expect((await operator.refused(['app', 'delete', chart.client_id, '--tenant', 'acme'])).code).toBe(4);
  });
});

describe(`caregate team (${testMode()} store)`, () => {
  beforeAll(async () => {
    await operator.ok(['team', 'create', '--tenant', 'acme', '--key', 'nurses', '--name', 'Nurses']);
    await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'bob', '--password', PASSWORD]);
    await operator.ok(['team', 'add', '--tenant', 'acme', '--team', 'nurses', '--user', 'bob']);
  });

  it('team rename changes the name and keeps the key', async () => {
    expect(await operator.ok(['team', 'rename', 'nurses', '--tenant', 'acme', '--name', 'Night nurses'])).toMatchObject({ key: 'nurses', name: 'Night nurses' });
    expect((await operator.refused(['team', 'rename', 'nobody', '--tenant', 'acme', '--name', 'x'])).code).toBe(4);
  });

  it('team members lists the members', async () => {
    expect(await operator.ok(['team', 'members', 'nurses', '--tenant', 'acme'])).toEqual([expect.objectContaining({ username: 'bob', status: 'active' })]);
  });

  it('team assign, roles and unassign give, list and take away a role at a scope', async () => {
    await operator.ok(['location', 'create', '--tenant', 'acme', '--key', 'north']);
    const given = await operator.ok(['team', 'assign', 'nurses', '--tenant', 'acme', '--role', 'report_viewer@location:north']);
    expect(given).toMatchObject({ id: expect.any(String), scopeType: 'location' });
    expect(await operator.ok(['team', 'roles', 'nurses', '--tenant', 'acme'])).toEqual([
      expect.objectContaining({ id: given.id, role: 'report_viewer', scope: { type: 'location', key: 'north' } }),
    ]);
    const human = await operator.run(['team', 'roles', 'nurses', '--tenant', 'acme'], { json: false });
    expect(human.stdout).toBe(`report_viewer\t@location:north\t${given.id}\n`);

    expect((await operator.refused(['team', 'unassign', 'nurses', '--tenant', 'acme', '--role', 'report_viewer'])).code).toBe(4);
    expect(await operator.ok(['team', 'unassign', 'nurses', '--tenant', 'acme', '--role', 'report_viewer@location:north'])).toMatchObject({ removed: [given.id] });
    expect(await operator.ok(['team', 'roles', 'nurses', '--tenant', 'acme'])).toEqual([]);
  });

  it('with --as, a user gives a team only roles whose permissions they hold, and edits no application without caregate.applications:edit', async () => {
    await operator.ok(['role', 'create', '--tenant', 'acme', '--key', 'team_lead', '--permission', 'caregate.assignments:create', '--permission', 'caregate.assignments:read',
      '--permission', 'caregate.applications:read', '--permission', 'reports:read']);
    await operator.ok(['user', 'create', '--tenant', 'acme', '--username', 'lead', '--password', PASSWORD, '--role', 'team_lead']);
    const escalation = await operator.refused(['team', 'assign', 'nurses', '--tenant', 'acme', '--role', 'billing_user', '--as', 'lead']);
    expect(escalation.error).toMatchObject({ error: 'escalation_refused', details: { role: 'billing_user', missing: ['billing:read'] } });
    const given = await operator.ok(['team', 'assign', 'nurses', '--tenant', 'acme', '--role', 'report_viewer', '--as', 'lead']);
    expect((await operator.ok(['team', 'roles', 'nurses', '--tenant', 'acme', '--as', 'lead'])).map((a: { id: string }) => a.id)).toEqual([given.id]);

    const job = await operator.ok(['app', 'create', '--tenant', 'acme', '--name', 'Job', '--grant', 'client_credentials']);
    expect((await operator.ok(['app', 'show', job.client_id, '--tenant', 'acme', '--as', 'lead'])).name).toBe('Job');
    for (const command of [['app', 'update', job.client_id, '--name', 'Mine'], ['app', 'rotate-secret', job.client_id], ['app', 'delete', job.client_id], ['team', 'rename', 'nurses', '--name', 'Mine']]) {
      expect((await operator.refused([...command, '--tenant', 'acme', '--as', 'lead'])).error.error).toBe('insufficient_permissions');
    }
  });
});
