// The `caregate` command line as an operator runs it: real child processes (`node bin/caregate.js
// --json …`) against a fresh store — a temp data dir with embedded PGlite, or a new PostgreSQL
// database with Redis in production mode. Success prints one JSON document on stdout; failure
// prints a JSON error on stderr, nothing on stdout, and exits non-zero. Commands build on each
// other (tenant → app → users…), so the tests run in order. In embedded mode they go to a running
// server over its socket (serveForCli), which is stopped before the last two cases: a bad setting
// with nobody listening, and the store read back in-process. cli-start-up.test.ts covers commands
// that open the embedded store themselves.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.ts';
import { openRuntime } from '../../../src/runtime.ts';
import { createLogger } from '../../../src/logger.ts';
import { SAML } from '@node-saml/node-saml';
import { selfSignedCertificate } from '../../support/self-signed-certificate.ts';
import { startUpstreamOidc, type UpstreamOidc } from '../../support/upstream-oidc.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';
import { cliRunner, serveForCli, type CliRunner, type RunOptions } from '../../support/cli-runner.ts';
import type { CaregateProcess } from '../../support/caregate-process.ts';

// Each case runs several real processes, each opening the store (PGlite when no server runs): on a
// busy CI machine that is minutes, not seconds. Wait for the processes, not for a clock.
jest.setTimeout(300_000);

const PASSWORD = 'first-long-password-of-tests';
const CLI_USER = 'cli-test-operator';

let db: FreshDatabase | undefined;
let dir: TempDataDir;
/** The operator's command line; `env` is what every command gets. */
let operator: CliRunner;
/** Embedded mode: the running server the commands go to until the last cases (serveForCli). */
let server: CaregateProcess | undefined;
let env: Record<string, string>;
const caregate = (args: string[], extraEnv: Record<string, string> = {}) => operator.run(args, { env: extraEnv });
const ok = (args: string[]) => operator.ok(args);
const refused = (args: string[], extraEnv: Record<string, string> = {}) => operator.refused(args, { env: extraEnv });

beforeAll(async () => {
  db = await freshDatabaseUrl();
  dir = await tempDataDir();
  operator = cliRunner({ dataDir: dir.path, db, user: CLI_USER });
  env = operator.env;
  // The URLs it prints are those of a command run without a server (the default base URL).
  server = await serveForCli(operator, { baseUrl: 'http://localhost:3000' });
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  await dir?.cleanup();
});

describe(`caregate CLI --json (${testMode()} store)`, () => {
  let chartClientId: string;

  it('tenant create prints the new tenant as one JSON document', async () => {
    const tenant = await ok(['tenant', 'create', 'acme', '--name', 'Acme Health']);
    expect(tenant).toMatchObject({ slug: 'acme', name: 'Acme Health', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('app create prints exactly one JSON document with client_id and the client_secret', async () => {
    const app = await ok(['app', 'create', '--tenant', 'acme', '--name', 'Chart', '--redirect-uri', 'https://chart.example/cb']);
    expect(app).toMatchObject({
      name: 'Chart',
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      redirectUris: ['https://chart.example/cb'],
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    expect(app).not.toHaveProperty('clientSecretSealed');
    chartClientId = app.client_id;
  });

  describe('SAML service providers', () => {
    const LAB = 'https://lab.example/saml';
    let metadataFile: string;
    let labClientId: string;

    beforeAll(async () => {
      const encryption = await selfSignedCertificate('lab-encryption');
      const sp = new SAML({ issuer: LAB, callbackUrl: `${LAB}/acs`, logoutCallbackUrl: `${LAB}/slo`, idpCert: encryption.cert, decryptionPvk: encryption.key });
      metadataFile = join(dir.path, 'lab-sp-metadata.xml');
      writeFileSync(metadataFile, sp.generateServiceProviderMetadata(encryption.cert));
    });

    it('app create --saml-metadata registers a SAML-only application (no secret, no OIDC grant) with the flags applied', async () => {
      const lab = await ok(['app', 'create', '--tenant', 'acme', '--name', 'Lab portal', '--saml-metadata', metadataFile, '--saml-name-id', 'transient', '--saml-encrypt']);
      expect(lab).toMatchObject({
        name: 'Lab portal', public: true, grantTypes: [], redirectUris: [],
        saml: { entityId: LAB, acs: [{ url: `${LAB}/acs`, index: 1, isDefault: true }], slo: { url: `${LAB}/slo`, binding: 'post' }, nameIdFormat: 'transient', encryptAssertion: true, encryptionCertificate: expect.any(String) },
      });
      expect(lab).not.toHaveProperty('client_secret');
      labClientId = lab.client_id;
    });

    it('app create refuses the same entity ID again (exit 5) and a file that is not metadata (exit 2), naming why', async () => {
      const again = await refused(['app', 'create', '--tenant', 'acme', '--name', 'Lab again', '--saml-metadata', metadataFile]);
      expect(again.code).toBe(5);
      expect(again.error).toEqual({ error: 'conflict', error_description: `another application of this tenant already uses the SAML entity ID "${LAB}"` });
      const notMetadata = join(dir.path, 'not-metadata.xml');
      writeFileSync(notMetadata, '<html><body>hello</body></html>');
      const wrong = await refused(['app', 'create', '--tenant', 'acme', '--name', 'Wrong', '--saml-metadata', notMetadata]);
      expect(wrong.code).toBe(2);
      expect(wrong.error).toEqual({ error: 'invalid_request', error_description: expect.stringMatching(/^samlMetadata: not SAML metadata/) });
    });

    it('app saml --settings adds SAML to an OIDC application and --remove takes it away again', async () => {
      const settingsFile = join(dir.path, 'chart-saml.json');
      writeFileSync(settingsFile, JSON.stringify({ entityId: 'https://chart.example/saml', acs: [{ url: 'https://chart.example/saml/acs', index: 0 }], allowIdpInitiated: false }));
      const withSaml = await ok(['app', 'saml', '--tenant', 'acme', '--client-id', chartClientId, '--settings', settingsFile]);
      expect(withSaml).toMatchObject({ clientId: chartClientId, grantTypes: ['authorization_code', 'refresh_token'], saml: { entityId: 'https://chart.example/saml', allowIdpInitiated: false, nameIdFormat: 'persistent' } });
      const removed = await ok(['app', 'saml', '--tenant', 'acme', '--client-id', chartClientId, '--remove']);
      expect(removed).toMatchObject({ clientId: chartClientId, saml: null, redirectUris: ['https://chart.example/cb'] });
    });

    it('app saml --remove on a SAML-only application exits 2 telling the operator to delete it instead', async () => {
      const { code, error } = await refused(['app', 'saml', '--tenant', 'acme', '--client-id', labClientId, '--remove']);
      expect(code).toBe(2);
      expect(error.error_description).toContain('SAML-only: delete the application');
    });
  });

  it('location create, then user create with --password, --phi and --role provider@location:north, creates an active PHI user', async () => {
    const north = await ok(['location', 'create', '--tenant', 'acme', '--key', 'north', '--name', 'North clinic']);
    expect(north).toMatchObject({ key: 'north', name: 'North clinic', parentId: null });
    const alice = await ok(['user', 'create', '--tenant', 'acme', '--username', 'alice', '--email', 'alice@acme.example', '--password', PASSWORD, '--phi', '--role', 'provider@location:north']);
    expect(alice).toMatchObject({ username: 'alice', email: 'alice@acme.example', status: 'active', phiAccess: true, hasPassword: true });
    expect(alice).not.toHaveProperty('passwordHash');
    // The assignment itself is checked in the store at the end (no command prints assignments).
  });

  it('user create --role provider without --phi exits non-zero with a phi_access_required error on stderr and nothing on stdout', async () => {
    const { code, error } = await refused(['user', 'create', '--tenant', 'acme', '--username', 'bob', '--password', PASSWORD, '--role', 'provider']);
    expect(code).toBe(2);
    expect(error).toEqual({ error: 'phi_access_required', error_description: expect.stringContaining('"provider" requires PHI access') });
  });

  it('a duplicate username exits non-zero with a conflict error naming the username field', async () => {
    const { code, error } = await refused(['user', 'create', '--tenant', 'acme', '--username', 'Alice', '--password', PASSWORD]);
    expect(code).toBe(5);
    expect(error).toEqual({ error: 'conflict', error_description: expect.stringContaining('username') });
  });

  it('role create --parent creates a custom role linked to its parent', async () => {
    const role = await ok(['role', 'create', '--tenant', 'acme', '--key', 'senior_reporter', '--name', 'Senior reporter', '--parent', 'report_viewer', '--permission', 'dashboards:read']);
    expect(role).toMatchObject({ key: 'senior_reporter', name: 'Senior reporter', permissions: ['dashboards:read'], parentId: expect.stringMatching(/^[0-9a-f-]{36}$/), builtin: false });
    // Its effective permissions (inherited reports:read) are checked in the store at the end.
  });

  it('team create and team add put a user in a team', async () => {
    const team = await ok(['team', 'create', '--tenant', 'acme', '--key', 'night-shift', '--name', 'Night shift']);
    expect(team).toMatchObject({ key: 'night-shift', name: 'Night shift' });
    const added = await ok(['team', 'add', '--tenant', 'acme', '--team', 'night-shift', '--user', 'alice']);
    expect(added).toEqual({ team: 'night-shift', user: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('user disable and enable change the status; user delete removes the user; failed creates left nothing', async () => {
    const dave = await ok(['user', 'create', '--tenant', 'acme', '--username', 'dave', '--invite']);
    expect(dave.status).toBe('invited');
    expect((await ok(['user', 'disable', 'dave', '--tenant', 'acme'])).status).toBe('disabled');
    expect((await ok(['user', 'enable', 'dave', '--tenant', 'acme'])).status).toBe('active');
    expect(await ok(['user', 'delete', 'dave', '--tenant', 'acme'])).toEqual({ deleted: 'dave' });
    const users = await ok(['user', 'list', '--tenant', 'acme']);
    // bob (refused PHI role) and the duplicate Alice were never created; Chart is not a service app.
    expect(users.map((u: any) => u.username)).toEqual(['alice']);
  });

  it('keys rotate promotes the published next keys to current, publishes new next keys and retires the old current ones', async () => {
    const first = await ok(['keys', 'rotate', '--tenant', 'acme']);
    for (const list of [first.current, first.next, first.retired]) expect(list).toHaveLength(2); // ES256 + RS256
    const second = await ok(['keys', 'rotate', '--tenant', 'acme']);
    expect([...second.current].sort()).toEqual([...first.next].sort());
    expect(second.retired).toEqual(expect.arrayContaining(first.current));
    expect(second.next.some((kid: string) => [...first.current, ...first.next, ...first.retired].includes(kid))).toBe(false);
  });

  describe('federation connections', () => {
    const SECRET = 'northwell-okta-client-secret-0123456789';
    const REDIRECT_URI = 'http://localhost:3000/t/acme/federation/northwell/callback';
    let upstream: UpstreamOidc;

    const caregateWithInput = (args: string[], options?: RunOptions) => operator.run(args, options);

    const create = (key: string, extra: string[]) => ['connection', 'create', '--tenant', 'acme', '--key', key, '--type', 'oidc', ...(extra.includes('--name') ? [] : ['--name', key]), ...extra];

    beforeAll(async () => {
      upstream = await startUpstreamOidc();
    });

    afterAll(async () => upstream?.stop());

    it('connection create --preset okta --client-secret-stdin --map prints the redirect URI to register and never the secret', async () => {
      const args = create('northwell', ['--preset', 'okta', '--issuer', upstream.issuer, '--client-id', 'x', '--client-secret-stdin', '--domain', 'northwell.example', '--map', 'groups=ER Nurses -> role:report_viewer', '--name', 'Northwell']);
      const out = await caregateWithInput(args, { input: `${SECRET}\n` });
      expect([out.code, out.stderr]).toEqual([0, '']);
      expect(out.stdout).not.toContain(SECRET);
      const lines = out.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const created = JSON.parse(lines[0]!);
      expect(created).toMatchObject({
        key: 'northwell', type: 'oidc', preset: 'okta', issuer: upstream.issuer, clientId: 'x', hasClientSecret: true, domains: ['northwell.example'],
        mappings: [{ claim: 'groups', equals: 'ER Nurses', role: 'report_viewer' }], urls: { redirectUri: REDIRECT_URI },
      });
      expect(created).not.toHaveProperty('clientSecret');
    });

    it('connection create without --json prints the URLs to register with the upstream', async () => {
      const out = await caregateWithInput(create('offline', ['--issuer', 'http://127.0.0.1:9', '--client-id', 'offline', '--client-secret-stdin', '--domain', 'offline.example', '--name', 'Offline']), { input: SECRET, json: false });
      expect([out.code, out.stderr]).toEqual([0, '']);
      expect(out.stdout).toBe('Connection offline (oidc, generic)\nRegister with the upstream:\n  redirectUri: http://localhost:3000/t/acme/federation/offline/callback\n');
    });

    it('connection list and show print the connections, never the secret', async () => {
      const out = await caregate(['connection', 'list', '--tenant', 'acme']);
      expect(out.code).toBe(0);
      expect(out.stdout).not.toContain(SECRET);
      const list = JSON.parse(out.stdout);
      expect(list.map((c: any) => [c.key, c.preset, c.domains])).toEqual([['northwell', 'okta', ['northwell.example']], ['offline', 'generic', ['offline.example']]]);

      const human = await caregateWithInput(['connection', 'list', '--tenant', 'acme'], { json: false });
      expect(human.stdout).toBe('northwell\toidc\tokta\tenabled\tnorthwell.example\noffline\toidc\tgeneric\tenabled\toffline.example\n');

      const shown = await caregate(['connection', 'show', 'northwell', '--tenant', 'acme']);
      expect(shown.code).toBe(0);
      expect(shown.stdout).not.toContain(SECRET);
      expect(JSON.parse(shown.stdout)).toMatchObject({ key: 'northwell', name: 'Northwell', hasClientSecret: true, urls: { redirectUri: REDIRECT_URI } });
    });

    it('connection test exits 0 against the live upstream with the client registered there', async () => {
      upstream.addClient({ client_id: 'x', client_secret: SECRET, redirect_uris: [REDIRECT_URI] });
      const result = await ok(['connection', 'test', 'northwell', '--tenant', 'acme']);
      expect(result.ok).toBe(true);
      expect(result.findings.map((f: any) => [f.check, f.ok])).toEqual(expect.arrayContaining([
        ['enabled', true], ['mapping rules', true], ['discovery', true], ['scopes', true], ['client credentials', true],
      ]));
      const human = await caregateWithInput(['connection', 'test', 'northwell', '--tenant', 'acme'], { json: false });
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^ok {4}discovery: /m);
      expect(human.stdout).not.toContain('FAIL');
    });

    it('connection test exits 3 with a FAIL line when the issuer is unreachable', async () => {
      const human = await caregateWithInput(['connection', 'test', 'offline', '--tenant', 'acme'], { json: false });
      expect(human.code).toBe(3);
      expect(human.stdout).toMatch(/^FAIL {2}discovery: http:\/\/127\.0\.0\.1:9/m);
      const json = await caregate(['connection', 'test', 'offline', '--tenant', 'acme']);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, findings: expect.arrayContaining([expect.objectContaining({ check: 'discovery', ok: false })]) });
    });

    it('connection create refuses bad input with exit 2 naming the field: unknown preset, google without --hosted-domain, a role that does not exist', async () => {
      const preset = await refused(create('bad', ['--preset', 'ping', '--issuer', upstream.issuer, '--client-id', 'x', '--client-secret', 's']));
      expect(preset.code).toBe(2);
      expect(preset.error).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^preset: /) });
      const google = await refused(create('bad', ['--preset', 'google', '--issuer', 'https://accounts.google.com', '--client-id', 'x', '--client-secret', 's']));
      expect(google.code).toBe(2);
      expect(google.error.error_description).toContain('hostedDomains');
      const role = await refused(create('bad', ['--issuer', upstream.issuer, '--client-id', 'x', '--client-secret', 's', '--map', 'groups=Admins -> role:no_such_role']));
      expect(role.code).toBe(2);
      expect(role.error.error_description).toContain('no_such_role');
      expect(await caregate(['connection', 'show', 'bad', '--tenant', 'acme'])).toMatchObject({ code: 4 });
    });

    it('connection create refuses a duplicate key and a domain another connection claims with exit 5, naming it', async () => {
      const again = await refused(create('northwell', ['--issuer', upstream.issuer, '--client-id', 'x', '--client-secret', 's']));
      expect(again.code).toBe(5);
      expect(again.error).toEqual({ error: 'conflict', error_description: 'connection "northwell" already exists' });
      const domain = await refused(create('northwell-two', ['--issuer', upstream.issuer, '--client-id', 'x', '--client-secret', 's', '--domain', 'northwell.example']));
      expect(domain.code).toBe(5);
      expect(domain.error).toEqual({ error: 'conflict', error_description: 'domains: northwell.example already route to connection "northwell"' });
    });

    it('connection update changes the mapping rules and domains, validated whole', async () => {
      const updated = await ok(['connection', 'update', 'northwell', '--tenant', 'acme', '--domain', 'northwell.example', '--domain', 'nw-health.example', '--map', 'groups=ER Nurses -> role:senior_reporter', '--map', 'groups=Night -> team:night-shift']);
      expect(updated).toMatchObject({ domains: ['northwell.example', 'nw-health.example'], mappings: [{ role: 'senior_reporter' }, { team: 'night-shift' }], hasClientSecret: true });
      const bad = await refused(['connection', 'update', 'northwell', '--tenant', 'acme', '--preset', 'google']);
      expect(bad.code).toBe(2);
      expect(bad.error.error_description).toContain('hostedDomains');
      expect((await ok(['connection', 'show', 'northwell', '--tenant', 'acme'])).preset).toBe('okta');
    });

    it('connection delete removes it: show then exits 4, and delete again too', async () => {
      expect(await ok(['connection', 'delete', 'offline', '--tenant', 'acme'])).toEqual({ deleted: 'offline' });
      const shown = await refused(['connection', 'show', 'offline', '--tenant', 'acme']);
      expect(shown).toEqual({ code: 4, error: { error: 'not_found', error_description: 'connection "offline" does not exist' } });
      expect((await refused(['connection', 'delete', 'offline', '--tenant', 'acme'])).code).toBe(4);
      expect((await ok(['connection', 'list', '--tenant', 'acme'])).map((c: any) => c.key)).toEqual(['northwell']);
    });
  });

  it('audit verify reports an intact hash chain over every change the commands made', async () => {
    const result = await ok(['audit', 'verify', '--tenant', 'acme']);
    // tenant, app, location, alice + assignment, role, team, member, dave ×4, two key rotations …
    expect(result).toEqual({ ok: true, events: expect.any(Number) });
    expect(result.events).toBeGreaterThanOrEqual(14);
  });

  it('a malformed setting (PORT=abc) makes any command exit non-zero naming PORT', async () => {
    await server?.stop();
    const { code, error } = await refused(['tenant', 'list'], { PORT: 'abc' });
    expect(code).not.toBe(0);
    expect(error).toEqual({ error: 'invalid_configuration', error_description: expect.stringMatching(/\bPORT\b/) });
  });

  it('left the store holding what the commands wrote, each change audited as the CLI operator', async () => {
    // Opened in-process after every command has exited: PGlite allows one process.
    const rt = await openRuntime(loadConfig({ ...env, CAREGATE_MIGRATE_ON_START: 'false' }), { log: createLogger('silent') });
    try {
      const alice = await rt.accounts.users.findUser('acme', 'alice');
      const assignments = await rt.accounts.assignments.list('acme', { userId: alice.id });
      const north = await rt.accounts.locations.get('acme', 'north');
      const provider = await rt.accounts.roles.get('acme', 'provider');
      expect(assignments.map((a) => [a.roleId, a.scopeType, a.scopeId])).toEqual([[provider.id, 'location', north.id]]);

      const team = await rt.accounts.teams.get('acme', 'night-shift');
      expect(await rt.storage.teamMembers.findOneBy({ teamId: team.id, userId: alice.id })).not.toBeNull();

      const senior = await rt.accounts.roles.get('acme', 'senior_reporter');
      expect(senior.parentId).toBe((await rt.accounts.roles.get('acme', 'report_viewer')).id);
      expect(senior.effectivePermissions).toEqual(['dashboards:read', 'reports:read']);

      expect((await rt.accounts.applications.get('acme', chartClientId)).name).toBe('Chart');

      const tenant = (await rt.accounts.tenants.findBySlug('acme'))!;
      const events = await rt.storage.auditEvents.find({ where: { tenantId: tenant.id }, order: { seq: 'ASC' } });
      expect(events.map((e) => e.action)).toEqual(expect.arrayContaining([
        'tenant.create', 'application.create', 'location.create', 'user.create', 'assignment.create', 'role.create',
        'team.create', 'team.member.add', 'user.disable', 'user.enable', 'user.delete', 'keys.rotate', 'application.update',
      ]));
      expect(new Set(events.map((e) => `${e.actorType}:${e.actorId}`))).toEqual(new Set([`cli:${CLI_USER}`]));
    } finally {
      await rt.close();
    }
  });
});
