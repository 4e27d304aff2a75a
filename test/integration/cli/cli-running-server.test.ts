// The command line while Caregate runs, as real processes: `caregate serve`, and `caregate …`
// beside it. With the embedded database a command runs inside the server, over the socket in its
// data directory, so the server sees a change at once (even its in-memory lockout counters); on
// PostgreSQL the command writes the database itself. Either way a change is audited as the CLI
// operator; `--as <user>` runs a command with that user's rights and refuses what they lack (exit 6,
// nothing written); usage errors answer in JSON; `--version` prints the version. In order: the
// tests build on each other.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { lstatSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.ts';
import { createLogger } from '../../../src/logger.ts';
import { openRuntime } from '../../../src/runtime.ts';
import { createAgent, formOf } from '../../support/browser-agent.ts';
import { freePort } from '../../support/caregate.ts';
import { spawnCaregate, type CaregateProcess } from '../../support/caregate-process.ts';
import { cliRunner, type CliRunner } from '../../support/cli-runner.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';

const CLI_USER = 'night-operator';
const PASSWORD = 'correct-horse-battery-staple-42';
const embedded = testMode() === 'embedded';
/** Each command is a process; some tests run a dozen. A busy machine needs the room. */
const SLOW = 240_000;

let db: FreshDatabase | undefined;
let dir: TempDataDir;
let server: CaregateProcess | undefined;
let operator: CliRunner;
let baseUrl: string;
const ok = (args: string[]) => operator.ok(args);
const refused = (args: string[]) => operator.refused(args);
const issuer = () => `${baseUrl}/t/demo`;

/** A token for the admin API from the running server, for an application the CLI registered. */
async function adminApi(clientId: string, clientSecret: string) {
  const res = await fetch(`${issuer()}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${baseUrl}/admin/api` }),
  });
  const { access_token: token } = (await res.json()) as { access_token: string };
  expect(token).toEqual(expect.any(String));
  return async (path: string) => {
    const reply = await fetch(`${baseUrl}/admin/api/v1/t/demo${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(reply.status).toBe(200);
    return reply.json() as Promise<any>;
  };
}

/** Wrong passwords at the server's sign-in page (reached through the account page) until `username` is locked. */
async function failSignIns(username: string, times: number): Promise<void> {
  const agent = createAgent();
  let page = await agent.follow(await agent.get(`${issuer()}/account`));
  for (let i = 0; i < times; i++) {
    const { action, fields } = formOf(page);
    page = await agent.follow(await agent.postForm(action, { ...fields, username, password: `wrong-password-${i}` }));
  }
}

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: CLI_USER });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = await spawnCaregate(port, { ...operator.env, CAREGATE_BASE_URL: baseUrl, CAREGATE_BOOTSTRAP_PASSWORD: 'bootstrap-password-of-this-suite' }, 180_000);
}, SLOW);

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate CLI while Caregate runs (${testMode()} store)`, () => {
  let helenId: string;

  it('the start message points to the account page and the discovery document, which both answer', async () => {
    expect(server!.output()).toContain(`Admin console:            ${issuer()}/admin`);
    expect(server!.output()).toContain(`Sign in to your account:  ${issuer()}/account`);
    expect(server!.output()).toContain(`${issuer()}/.well-known/openid-configuration`);
    expect(server!.output()).not.toMatch(/stop the server/i);
    expect(server!.output()).not.toMatch(/\/t\/demo\/auth\b/);
    const account = await fetch(`${issuer()}/account`, { redirect: 'manual' });
    expect([302, 303]).toContain(account.status);
    expect(new URL(account.headers.get('location')!, issuer()).pathname).toBe('/t/demo/auth');
    expect((await fetch(`${issuer()}/.well-known/openid-configuration`)).status).toBe(200);
  });

  it('user create, role create and app create succeed and the running server sees them at once', async () => {
    const nina = await ok(['user', 'create', '--tenant', 'demo', '--username', 'nina', '--password', PASSWORD, '--email', 'nina@clinic.example']);
    expect(nina).toMatchObject({ username: 'nina', status: 'active' });
    expect(await ok(['role', 'create', '--tenant', 'demo', '--key', 'ward_clerk', '--permission', 'patients:read'])).toMatchObject({ key: 'ward_clerk' });
    const ops = await ok(['app', 'create', '--tenant', 'demo', '--name', 'Ops console', '--grant', 'client_credentials', '--admin-api', '--service-role', 'admin']);
    expect(ops.client_secret).toEqual(expect.any(String));

    const api = await adminApi(ops.client_id, ops.client_secret);
    expect((await api('/users')).map((u: any) => u.username)).toContain('nina');
    expect((await api('/roles')).map((r: any) => r.key)).toContain('ward_clerk');
    expect((await api('/applications')).map((a: any) => a.clientId)).toContain(ops.client_id);
  }, SLOW);

  it('user unlock clears a lock the running server holds (its lockout counters live in the server, or Redis)', async () => {
    await failSignIns('nina', 5);
    expect((await ok(['user', 'security', 'nina', '--tenant', 'demo'])).lock).toMatchObject({ locked: true });
    expect(await ok(['user', 'unlock', 'nina', '--tenant', 'demo'])).toMatchObject({ username: 'nina' });
    expect((await ok(['user', 'security', 'nina', '--tenant', 'demo'])).lock).toMatchObject({ locked: false, failures: 0 });
  }, SLOW);

  it('--as runs a command with that user\'s rights: within them it succeeds, audited as the user', async () => {
    await ok(['role', 'create', '--tenant', 'demo', '--key', 'user_admin', '--permission', 'caregate.users:create', '--permission', 'caregate.users:read',
      '--permission', 'caregate.users:edit', '--permission', 'caregate.assignments:create', '--permission', 'patients:read']);
    const uma = await ok(['user', 'create', '--tenant', 'demo', '--username', 'uma', '--password', PASSWORD, '--role', 'user_admin']);
    const helen = await ok(['user', 'create', '--tenant', 'demo', '--username', 'helen', '--password', PASSWORD, '--role', 'report_viewer']);
    helenId = helen.id;
    const ward = await ok(['user', 'create', '--tenant', 'demo', '--username', 'walt', '--password', PASSWORD, '--role', 'ward_clerk', '--as', 'uma']);
    expect(ward).toMatchObject({ username: 'walt', status: 'active' });
    expect((await ok(['user', 'list', '--tenant', 'demo', '--as', uma.id])).map((u: any) => u.username)).toContain('walt');
  }, SLOW);

  it('--as a user lacking the permission, or granting more than they hold, is refused with exit 6 and nothing changes', async () => {
    const before = (await ok(['user', 'list', '--tenant', 'demo'])).map((u: any) => u.username);

    const lacking = await refused(['user', 'create', '--tenant', 'demo', '--username', 'mallory', '--password', PASSWORD, '--as', 'helen']);
    expect(lacking).toEqual({ code: 6, error: expect.objectContaining({ error: 'insufficient_permissions', error_description: expect.stringContaining('caregate.users:create') }) });
    const roleAsHelen = await refused(['role', 'create', '--tenant', 'demo', '--key', 'everything', '--permission', '*', '--as', helenId]);
    expect(roleAsHelen.code).toBe(6);
    const escalation = await refused(['user', 'create', '--tenant', 'demo', '--username', 'mallory', '--password', PASSWORD, '--role', 'admin', '--as', 'uma']);
    expect(escalation).toEqual({ code: 6, error: expect.objectContaining({ error: 'escalation_refused', error_description: expect.stringContaining('"admin"') }) });
    const selfPromotion = await refused(['user', 'assign', 'uma', '--tenant', 'demo', '--role', 'ward_clerk', '--as', 'uma']);
    expect(selfPromotion).toEqual({ code: 6, error: expect.objectContaining({ error: 'self_change_refused' }) });
    const operatorOnly = await refused(['tenant', 'create', 'elsewhere', '--as', 'uma']);
    expect(operatorOnly.code).toBe(6);
    expect(operatorOnly.error.error_description).toContain('only as the operator');
    expect((await refused(['user', 'list', '--tenant', 'demo', '--as', 'nobody'])).code).toBe(4);

    expect((await ok(['user', 'list', '--tenant', 'demo'])).map((u: any) => u.username)).toEqual(before);
    expect((await ok(['role', 'list', '--tenant', 'demo'])).map((r: any) => r.key)).not.toContain('everything');
    expect((await ok(['tenant', 'list'])).map((t: any) => t.slug)).toEqual(['demo']);
  }, SLOW);

  it('usage errors answer with one JSON document on stderr and exit 2; people get commander\'s message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['no-such-command'], /unknown command 'no-such-command'/],
      [['user', 'list', '--tenant', 'demo', '--no-such-option'], /unknown option '--no-such-option'/],
      [['user', 'create', '--tenant', 'demo'], /required option '--username <username>' not specified/],
      [['user', 'unlock', '--tenant', 'demo'], /missing required argument 'user'/],
      [['user'], /a command is required/],
      [['user', 'list', '--as'], /argument missing/],
    ];
    for (const [args, message] of cases) {
      expect(await refused(args)).toEqual({ code: 2, error: { error: 'invalid_usage', error_description: expect.stringMatching(message) } });
    }
    const human = await operator.run(['user', 'list', '--tenant', 'demo', '--no-such-option'], { json: false });
    expect(human.code).toBe(2);
    expect(human.stdout).toBe('');
    expect(human.stderr).toMatch(/^error: unknown option '--no-such-option'/);
  }, SLOW);

  it('--version prints the package version, as JSON with --json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
    expect(await operator.run(['--version'], { json: false })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(await ok(['--version'])).toEqual({ version });
  });

  (embedded ? describe : describe.skip)('the embedded server\'s CLI socket', () => {
    const cliDir = () => join(dir.path, 'cli');

    it('lives in an owner-only directory of the data dir, with a socket and secret only the owner may use', () => {
      expect(lstatSync(cliDir()).mode & 0o777).toBe(0o700);
      expect(lstatSync(join(cliDir(), 'caregate.sock')).isSocket()).toBe(true);
      expect(lstatSync(join(cliDir(), 'caregate.sock')).mode & 0o777).toBe(0o600);
      expect(lstatSync(join(cliDir(), 'secret')).mode & 0o777).toBe(0o600);
    });

    it('refuses a command line with a wrong secret and runs nothing', async () => {
      const socket = connect(join(cliDir(), 'caregate.sock'));
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      const closed = new Promise((resolve) => socket.on('close', resolve));
      const argv = ['--json', 'user', 'create', '--tenant', 'demo', '--username', 'intruder', '--password', PASSWORD];
      socket.write(`${JSON.stringify({ v: 1, secret: 'not-the-secret', argv, operator: 'intruder' })}\n`);
      await closed;
      expect(received.trim().split('\n').map((line) => JSON.parse(line))).toEqual([{ refused: expect.stringContaining('wrong CLI secret') }]);
      expect((await ok(['user', 'list', '--tenant', 'demo'])).map((u: any) => u.username)).not.toContain('intruder');
    }, SLOW);
  });

  it('after the server stops, commands run on their own and the store holds every change, audited as the CLI operator or the --as user', async () => {
    await server!.stop();
    server = undefined;
    if (embedded) expect(() => lstatSync(join(dir.path, 'cli', 'caregate.sock'))).toThrow();
    expect((await ok(['user', 'list', '--tenant', 'demo'])).map((u: any) => u.username)).toEqual(expect.arrayContaining(['nina', 'uma', 'helen', 'walt']));

    const rt = await openRuntime(loadConfig({ ...operator.env, CAREGATE_MIGRATE_ON_START: 'false' }), { log: createLogger('silent') });
    try {
      const tenant = (await rt.accounts.tenants.findBySlug('demo'))!;
      const uma = await rt.accounts.users.findUser('demo', 'uma');
      const events = await rt.storage.auditEvents.find({ where: { tenantId: tenant.id }, order: { seq: 'ASC' } });
      const by = (actor: string) => events.filter((e) => `${e.actorType}:${e.actorId}` === actor).map((e) => e.action);
      expect(by(`cli:${CLI_USER}`)).toEqual(expect.arrayContaining(['user.create', 'role.create', 'application.create', 'user.unlock']));
      // walt, created with uma's rights; then her refused attempts, audited after their rollback.
      expect(by(`user:${uma.id}`)).toEqual(expect.arrayContaining(['user.create', 'assignment.create', 'admin.forbidden']));
      expect(by(`user:${helenId}`)).toEqual(['admin.forbidden', 'admin.forbidden']);
      expect(events.some((e) => e.actorId === 'intruder')).toBe(false);
    } finally {
      await rt.close();
    }
  }, SLOW);
});
