// A Caregate server for the benchmark, set up the way an operator would: fresh stores, a tenant,
// applications and users created with the CLI, then `caregate serve` as a child process (pinned to
// the server core) and further login accounts through its admin API. Embedded mode is the zero-configuration default (PGlite + memory); postgres
// mode uses a fresh database on DATABASE_URL's server and REDIS_URL.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { AdminApi, type AdminTarget } from './admin-api.ts';
import type { TokenTarget } from './client-credentials.ts';
import type { Credentials, RelyingParty } from './login-flow.ts';
import type { SamlTarget } from './sso-flows.ts';
import { freePort, makeTempDir, onCleanup, runNode, spawnNode, waitForHttp, type Child } from './processes.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The CLI of the Caregate checkout at `root` (this one unless a comparison names another, bench/compare.ts). */
const cliOf = (root = ROOT) => path.join(root, 'bin/caregate.js');
const TENANT = 'demo';
// Never fetched: the login flow stops at the redirect to it and reads the code from the URL.
const REDIRECT_URI = 'https://rp.bench.invalid/callback';

export type StoreMode = 'embedded' | 'postgres';

export interface CaregateInstance {
  mode: StoreMode;
  baseUrl: string;
  child: Child;
  /** Client-credentials application (service account with report_viewer). */
  service: TokenTarget;
  /**
   * Client credentials like `service`, but its service account holds its role through a weekly
   * window (open all week, so every request is answered) and the role limits two permissions: the
   * token is built through the window and constraint evaluation (issue 18's cost on issuance).
   */
  limitedService: TokenTarget;
  /** Confidential web application for the login and refresh flows. */
  web: RelyingParty;
  user: Credentials;
  /**
   * One account per login virtual user, `user` first. Sign-ins of one account are never concurrent:
   * the lockout reserves a failure slot for every attempt in flight and refuses attempts beyond
   * `lockout.threshold` (5) as account_locked, right password or not.
   */
  users: Credentials[];
  /** A SAML service provider (an application with SAML settings) for the SSO figures. */
  saml: SamlTarget;
  /** A second user, for the rejected-attempt figures to lock (bench/rejected-login.ts). */
  lockedUser: Credentials;
  /** An application allowed to call the admin API (role admin): policy, lock state, audit log. */
  admin: AdminTarget;
  /** Postgres mode: the instance's own database (bench/user-search.ts seeds it directly). */
  databaseUrl?: string;
  stop(): Promise<void>;
}

/**
 * The child's environment: this process's, without Caregate settings that could change what is
 * measured (a stray CAREGATE_SIGNING_ALG, a shared data dir), except the argon2 parameters, which
 * bench/hash-rate.ts reads too so both sides always hash alike.
 */
export function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k === 'REDIS_URL') continue;
    if (k.startsWith('CAREGATE_') && !k.startsWith('CAREGATE_ARGON2_')) continue;
    env[k] = v;
  }
  return env;
}

/** A new database on `base`'s server, dropped (WITH FORCE) at cleanup. */
export async function freshDatabase(base: string): Promise<string> {
  const name = `caregate_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new URL(base);
  admin.pathname = '/postgres';
  const onAdmin = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await onAdmin(`CREATE DATABASE "${name}"`);
  onCleanup(() => onAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Deletes a run's ephemeral keys; every key Caregate writes for a tenant contains its id. */
export async function deleteRedisKeysOf(redisUrl: string, tenantId: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${tenantId}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A `caregate --json …` command line against the stores `env` names; its JSON answer. */
export async function cli<T>(env: NodeJS.ProcessEnv, args: string[], stdin?: string, root?: string): Promise<T> {
  const out = await runNode([cliOf(root), '--json', ...args], { env, stdin });
  return JSON.parse(out) as T;
}

export interface AppCreated {
  client_id: string;
  client_secret: string;
  resource: string;
}

/** Where a new instance listens and keeps its data: a free port, a new data dir, in postgres mode a fresh database. */
export async function instanceEnv(mode: StoreMode): Promise<{ env: NodeJS.ProcessEnv; baseUrl: string }> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    PORT: String(port),
    CAREGATE_HOST: '127.0.0.1',
    CAREGATE_BASE_URL: baseUrl,
    CAREGATE_DATA_DIR: makeTempDir('caregate-bench-'),
    CAREGATE_BOOTSTRAP_PASSWORD: randomBytes(18).toString('base64url'),
    CAREGATE_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    // Metrics recorded as in production, on a listener of their own at any free port.
    CAREGATE_METRICS_PORT: '0',
  };
  if (mode === 'postgres') {
    const { DATABASE_URL, REDIS_URL } = process.env;
    if (!DATABASE_URL || !REDIS_URL) throw new Error('--postgres needs DATABASE_URL (PostgreSQL server) and REDIS_URL');
    env.DATABASE_URL = await freshDatabase(DATABASE_URL);
    env.REDIS_URL = REDIS_URL;
    env.CAREGATE_MASTER_KEY = randomBytes(32).toString('base64');
  }
  return { env, baseUrl };
}

/** `caregate serve` as a child process (pinned to `cpu`), with a V8 CPU profile into `cpuProfDir` if given. */
export function spawnServe(name: string, env: NodeJS.ProcessEnv, { cpu, cpuProfDir, root = ROOT }: { cpu?: number; cpuProfDir?: string; root?: string } = {}): Child {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${name.replace(/\W+/g, '-')}-${Date.now()}.cpuprofile`] : [];
  return spawnNode(name, [...nodeArgs, cliOf(root), 'serve'], { env, cpu, cwd: root });
}

/** `root`: the Caregate checkout whose CLI and server run (this one by default). */
export async function startCaregate({ mode, cpu, cpuProfDir, users = 1, root }: { mode: StoreMode; cpu?: number; cpuProfDir?: string; users?: number; root?: string }): Promise<CaregateInstance> {
  const { env, baseUrl } = await instanceEnv(mode);

  // The CLI opens the (embedded) database itself, so all of this happens before `serve` starts.
  // The tenant is created explicitly: the bootstrap tenant appears only on a server's first start.
  const tenant = await cli<{ id: string }>(env, ['tenant', 'create', TENANT], undefined, root);
  if (mode === 'postgres') onCleanup(() => deleteRedisKeysOf(process.env.REDIS_URL!, tenant.id));
  const service = await cli<AppCreated>(env, ['app', 'create', '--tenant', TENANT, '--name', 'Bench', '--grant', 'client_credentials', '--service-role', 'report_viewer', '--permission', 'reports:read'], undefined, root);
  const web = await cli<AppCreated>(env, [
    'app', 'create', '--tenant', TENANT, '--name', 'Bench Web', '--redirect-uri', REDIRECT_URI,
    '--grant', 'authorization_code', '--grant', 'refresh_token', '--permission', 'reports:read', '--permission', 'dashboards:read',
  ], undefined, root);
  const user: Credentials = { username: 'bench.user', password: randomBytes(18).toString('base64url') };
  await cli(env, ['user', 'create', '--tenant', TENANT, '--username', user.username, '--name', 'Bench User', '--email', 'bench.user@example.org', '--role', 'reporting_user', '--password-stdin'], user.password + '\n', root);
  const lockedUser: Credentials = { username: 'bench.locked', password: randomBytes(18).toString('base64url') };
  await cli(env, ['user', 'create', '--tenant', TENANT, '--username', lockedUser.username, '--name', 'Bench Locked', '--email', 'bench.locked@example.org', '--role', 'reporting_user', '--password-stdin'], lockedUser.password + '\n', root);
  const admin = await cli<AppCreated>(env, ['app', 'create', '--tenant', TENANT, '--name', 'Bench Admin', '--grant', 'client_credentials', '--service-role', 'admin', '--admin-api'], undefined, root);

  const child = spawnServe(`caregate-${mode}`, env, { cpu, cpuProfDir, root });
  await waitForHttp(`${baseUrl}/health`, child);

  const issuer = `${baseUrl}/t/${TENANT}`;
  const adminTarget: AdminTarget = { issuer, resource: `${baseUrl}/admin/api`, apiBase: `${baseUrl}/admin/api/v1/t/${TENANT}`, clientId: admin.client_id, clientSecret: admin.client_secret };
  // The other login accounts through the admin API (one CLI process each would take seconds apiece).
  const more = Array.from({ length: Math.max(0, users - 1) }, (_, i): Credentials => ({ username: `bench.user.${i + 2}`, password: randomBytes(18).toString('base64url') }));
  const adminApi = new AdminApi(adminTarget);
  for (const u of more) await adminApi.createUser(u.username, u.password, 'reporting_user');
  // Never contacted: the SSO figure stops at the page that would post the response to it.
  const saml: SamlTarget = { issuer, entityId: 'https://sp.bench.invalid/metadata', acsUrl: 'https://sp.bench.invalid/acs' };
  await adminApi.call('POST', '/applications', { name: 'Bench SAML', permissions: ['reports:read'], saml: { entityId: saml.entityId, acs: [{ url: saml.acsUrl, index: 0, isDefault: true }] } });
  const limitedService = await limitedServiceApp(adminApi, `${issuer}/token`);

  return {
    mode,
    baseUrl,
    child,
    service: { tokenUrl: `${issuer}/token`, clientId: service.client_id, clientSecret: service.client_secret, resource: service.resource },
    limitedService,
    web: { issuer, clientId: web.client_id, clientSecret: web.client_secret, redirectUri: REDIRECT_URI, resource: web.resource, scope: 'openid profile email roles' },
    user,
    users: [user, ...more],
    saml,
    lockedUser,
    admin: adminTarget,
    databaseUrl: env.DATABASE_URL,
    stop: () => child.stop(),
  };
}

const ALL_WEEK = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '00:00', end: '24:00' }];

/** The limited application: a role with constraints, held by its service account through ALL_WEEK. */
async function limitedServiceApp(adminApi: AdminApi, tokenUrl: string): Promise<TokenTarget> {
  const permissions = ['reports:read', 'billing:charges:approve', 'billing:refunds:issue'];
  const constraints = { 'billing:charges:approve': { maxAmount: 500 }, 'billing:refunds:issue': { maxAmount: 100 } };
  await adminApi.call('POST', '/roles', { key: 'bench_limited', name: 'Bench limited', permissions, constraints });
  const app = (await adminApi.call('POST', '/applications', { name: 'Bench Limited', grantTypes: ['client_credentials'], permissions })) as AppCreated;
  await adminApi.call('POST', `/users/svc-${app.client_id}/assignments`, { role: 'bench_limited', timeWindow: ALL_WEEK });
  return { tokenUrl, clientId: app.client_id, clientSecret: app.client_secret, resource: app.resource };
}
