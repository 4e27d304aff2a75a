// `npm run bench`: measures on this machine, in one run, what DESIGN.md promises ("the cost of a login
// is the password hash; the cost of a token is one signature"):
//   1. the floor: client-credentials tokens/s of bare oidc-provider;
//   2. the same request against Caregate (embedded, and on PostgreSQL + Redis with --postgres);
//      likewise token introspection, userinfo and discovery, each beside the floor's (--endpoints:
//      only these, bench/endpoints.ts);
//      and live decisions: POST /access/v1/evaluation (AuthZEN) against the same evaluator called
//      in-process (--decisions: only these, bench/decisions.ts);
//   3. password logins end to end per second, against argon2id verifications per second on one core
//      and against bare oidc-provider with an argon2id password check (the login floor);
//   4. rotating refresh-token grants per second;
//   5. rejected sign-in attempts per second (locked account, throttled address) and the server CPU
//      one costs next to a full sign-in (--rejected-only: just 3 and 5);
//   6. start-up time (empty store, existing data) and resident memory (idle, after 20,000 token
//      requests) of each store and of bare oidc-provider (bench/startup.ts; --startup: only this;
//      --no-startup: not this);
//   7. directory sync of a generated OpenLDAP directory (10,000 people, 200 groups): full,
//      unchanged and incremental, against the bare LDAP read (bench/directory-sync.ts, a child
//      pinned to the server core); last, when slapd is installed (--directory: only this;
//      --no-directory: not this);
//   8. the admin console's user list at 50,000 users on PostgreSQL: pages, search and filters, and a
//      location manager's page, against the same SQL sent straight to PostgreSQL
//      (bench/user-search.ts); last, when PostgreSQL is configured (--user-search: only this;
//      --no-user-search: not this).
// Servers run as child processes pinned to one core; this process generates the load on the others.
// Prints a table (or JSON with --json). Settings: bench/options.ts.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv, freshDatabase, startCaregate, type CaregateInstance, type StoreMode } from './caregate-instance.ts';
import { checkClientCredentials, measureClientCredentials } from './client-credentials.ts';
import { closedLoop, type LoopResult } from './closed-loop.ts';
import { missingV8Flags } from '../src/v8-flags.ts';
import type { DirectorySyncResult } from './directory-sync.ts';
import { caregateEndpointTarget, checkEndpoints, measureEndpoints, type EndpointTarget } from './endpoints.ts';
import { checkDecision, decisionFloor, measureDecisions, type DecisionTarget } from './decisions.ts';
import { AdminApi } from './admin-api.ts';
import { startFloor, type FloorInstance } from './floor-instance.ts';
import type { HashRate } from './hash-rate.ts';
import { loginFlow, refreshGrant, type Credentials, type RelyingParty } from './login-flow.ts';
import { parseOptions, type BenchOptions } from './options.ts';
import { compareFigure, formatCompare } from './compare.ts';
import { cleanup, cpuMeter, installExitHooks, makeTempDir, planCpus, poolCpuMeter, runNode, type CpuPlan } from './processes.ts';
import { prepareRejections } from './rejected-login.ts';
import { oidcSso, samlSso, signedInBrowser } from './sso-flows.ts';
import { benchFloorStartup, benchStartup } from './startup.ts';
import { benchUserSearch, type UserSearchResult } from './user-search.ts';
import { allFigures, auditMismatches, directoryMismatches, endpointRatios, formatReport, userSearchMismatches, type BenchResults, type CaregateResults, type CpuCost, type CaregateEndpoints, type EndpointMeasure, type DecisionMeasure } from './report.ts';
import { cpuMsPerOp, type Figure } from './stats.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Progress goes to stderr so `--json` output on stdout stays one clean document. */
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function hashRate(opts: BenchOptions, cpu: CpuPlan): Promise<HashRate> {
  // A child pinned to the server core: the per-core ceiling the login figure is compared with.
  const out = await runNode([path.join(HERE, 'hash-rate.ts'), String(opts.hashSeconds)], { env: process.env, cpu: cpu.serverCpu });
  return JSON.parse(out) as HashRate;
}

/** What a measurement needs: durations, concurrency, and meters of the server's CPU (all, and its libuv pool). */
type Load = BenchOptions & { serverCpu: () => number | undefined; serverPoolCpu: () => number | undefined };

const cpuCost = (f: Figure): CpuCost => ({ ms: cpuMsPerOp(f), poolMs: cpuMsPerOp(f, 'pool') });
const share = (part: number | undefined, whole: number | undefined) => (part === undefined || !whole ? undefined : part / whole);

/** Password sign-ins at `rp`, one virtual user per account in `users` (Caregate's or the floor's). */
async function measureLogins(rp: RelyingParty, users: Credentials[], load: Load): Promise<LoopResult> {
  // One sign-in first, outside the timing, so a misconfiguration fails loudly.
  await loginFlow(rp, users[0]!);
  return closedLoop(users, load, async (user) => (await loginFlow(rp, user)).steps);
}

async function measureRefresh(cg: CaregateInstance, load: Load): Promise<LoopResult> {
  // Rotation makes each refresh token single-use, so every virtual user carries its own chain: a
  // login first, then each answer's refresh_token is the next request's.
  // The logins of a batch are concurrent, so each is for a different account.
  const chains: Array<{ token: string; restart: () => Promise<string> }> = [];
  for (let i = 0; i < load.connections; i += cg.users.length) {
    const batch = cg.users.slice(0, Math.min(cg.users.length, load.connections - i));
    const logins = await Promise.all(batch.map((user) => loginFlow(cg.web, user)));
    chains.push(...logins.map((l, j) => ({
      token: l.tokens.refresh_token ?? fail('the login answered without a refresh_token'),
      restart: async () => (await loginFlow(cg.web, batch[j]!)).tokens.refresh_token!,
    })));
  }
  return refreshChains(cg.web, chains, load);
}

/** The floor's refresh figure: bare oidc-provider rotating refresh tokens it minted (floor-server.ts). */
async function measureFloorRefresh(floor: FloorInstance, load: BenchOptions & { serverCpu: () => number | undefined }): Promise<LoopResult> {
  // One refresh first, outside the timing, so a misconfiguration fails loudly.
  await refreshGrant(floor.web, await floor.refreshToken());
  const chains = await Promise.all(Array.from({ length: load.connections }, async () => ({ token: await floor.refreshToken(), restart: floor.refreshToken })));
  return refreshChains(floor.web, chains, load);
}

/** Each chain redeems its own rotated refresh token, then the one the answer gave, in a closed loop. */
function refreshChains(rp: RelyingParty, chains: Array<{ token: string; restart: () => Promise<string> }>, load: BenchOptions & { serverCpu: () => number | undefined }): Promise<LoopResult> {
  return closedLoop(chains, load, async (chain) => {
    try {
      chain.token = (await refreshGrant(rp, chain.token)).refresh_token!;
    } catch (error) {
      // A broken chain (the token is spent or refused) restarts from a new token (for Caregate a new
      // login); the iteration counts as an error, never as a latency.
      chain.token = await chain.restart();
      throw error;
    }
  });
}

/** SSO for browsers that already have a sign-on session: OIDC code flows, then SAML responses. */
async function measureSso(cg: CaregateInstance, load: Load): Promise<{ oidc: LoopResult; saml: LoopResult }> {
  const browsers = await Promise.all(cg.users.slice(0, load.loginVus).map((user) => signedInBrowser(cg.web, user)));
  await oidcSso(cg.web, browsers[0]!);
  await samlSso(cg.saml, browsers[0]!);
  const oidc = await closedLoop(browsers, load, async (jar) => void (await oidcSso(cg.web, jar)));
  const saml = await closedLoop(browsers, load, (jar) => samlSso(cg.saml, jar));
  return { oidc, saml };
}

/**
 * The directory sync figures of one store, from a child process: it starts slapd on this process's
 * cores, then pins itself to the server core (bench/directory-sync.ts). Its temp dirs (slapd's
 * database, PGlite's) go under one of ours through TMPDIR, and postgres mode gets a fresh database
 * on DATABASE_URL's server: both are removed at cleanup, whatever becomes of the child.
 */
async function benchDirectory(mode: StoreMode, opts: BenchOptions, cpu: CpuPlan): Promise<DirectorySyncResult> {
  const env: NodeJS.ProcessEnv = { ...baseEnv(), TMPDIR: makeTempDir('caregate-bench-directory-') };
  if (mode === 'postgres') {
    const { DATABASE_URL, REDIS_URL } = process.env;
    if (!DATABASE_URL || !REDIS_URL) throw new Error('--postgres needs DATABASE_URL (PostgreSQL server) and REDIS_URL');
    env.DATABASE_URL = await freshDatabase(DATABASE_URL);
    env.REDIS_URL = REDIS_URL;
  }
  const args = [
    // The sync runs with the V8 flags of a server (src/v8-flags.ts): a 16 MB semi-space, and on
    // the embedded store the baseline WebAssembly compiler alone.
    '--expose-gc', ...missingV8Flags({ databaseUrl: env.DATABASE_URL, wasmTierUp: false, serving: true, execArgv: [] }), path.join(HERE, 'directory-sync.ts'), '--mode', mode,
    '--users', String(opts.directoryUsers), '--groups', String(opts.directoryGroups), '--changes', String(opts.directoryChanges),
    ...(cpu.serverCpu !== undefined ? ['--pin', String(cpu.serverCpu)] : []),
    ...(opts.cpuProfDir ? ['--cpu-prof', opts.cpuProfDir] : []),
  ];
  const out = await runNode(args, { env, onStderrLine: (line) => line.trim() && progress(`directory (${mode}): ${line}`) });
  return JSON.parse(out) as DirectorySyncResult;
}

/**
 * Introspection, userinfo and discovery against one server. The access token is a new one, opaque
 * (no resource indicator), scope openid profile email roles, held by a confidential client.
 */
async function benchEndpoints(name: string, target: EndpointTarget, load: BenchOptions & { serverCpu?: () => number | undefined }): Promise<EndpointMeasure> {
  const sample = await checkEndpoints(target);
  progress(`${name}: token introspection, userinfo, discovery`);
  return { sample, figures: await measureEndpoints(target, load) };
}

/** --endpoints: a Caregate instance for the endpoint figures alone. */
async function benchCaregateEndpoints(mode: StoreMode, opts: BenchOptions, cpu: CpuPlan): Promise<EndpointMeasure> {
  progress(`starting Caregate (${mode}): CLI setup, then serve`);
  const cg = await startCaregate({ mode, cpu: cpu.serverCpu, cpuProfDir: opts.cpuProfDir });
  try {
    return await benchEndpoints(`Caregate (${mode})`, await caregateEndpointTarget(cg), { ...opts, serverCpu: cpuMeter(cg.child.proc.pid!) });
  } finally {
    await cg.stop();
  }
}

/** The evaluation endpoint's figure of one Caregate: Bench Web asking about the bench user. */
async function benchDecisions(name: string, cg: CaregateInstance, load: BenchOptions & { serverCpu?: () => number | undefined }): Promise<Figure> {
  const { id } = await new AdminApi(cg.admin).call<{ id: string }>('GET', `/users/${cg.user.username}`);
  const target: DecisionTarget = { issuer: cg.web.issuer, clientId: cg.web.clientId, clientSecret: cg.web.clientSecret, subject: id };
  await checkDecision(target);
  progress(`${name}: live decisions (AuthZEN evaluation endpoint)`);
  return measureDecisions(target, load);
}

/** --decisions: a Caregate instance for the decision figure alone. */
async function benchCaregateDecisions(mode: StoreMode, opts: BenchOptions, cpu: CpuPlan): Promise<DecisionMeasure> {
  progress(`starting Caregate (${mode}): CLI setup, then serve`);
  const cg = await startCaregate({ mode, cpu: cpu.serverCpu, cpuProfDir: opts.cpuProfDir });
  try {
    return { mode, figure: await benchDecisions(`Caregate (${mode})`, cg, { ...opts, serverCpu: cpuMeter(cg.child.proc.pid!) }) };
  } finally {
    await cg.stop();
  }
}

function fail(message: string): never {
  throw new Error(message);
}

async function benchCaregate(mode: StoreMode, opts: BenchOptions, cpu: CpuPlan, floor: BenchResults['floor'], hash: number, endpoints: CaregateEndpoints[], decisions: DecisionMeasure[]): Promise<CaregateResults> {
  progress(`starting Caregate (${mode}): CLI setup, then serve`);
  const cg = await startCaregate({ mode, cpu: cpu.serverCpu, cpuProfDir: opts.cpuProfDir, users: opts.loginVus });
  try {
    const pid = cg.child.proc.pid!;
    const load: Load = { ...opts, serverCpu: cpuMeter(pid), serverPoolCpu: poolCpuMeter(pid) };
    let clientCredentials: Figure | undefined;
    let limitedClientCredentials: Figure | undefined;
    let token: CaregateResults['token'];
    if (!opts.rejectedOnly) {
      token = await checkClientCredentials(cg.service);
      progress(`Caregate (${mode}): client credentials`);
      clientCredentials = await measureClientCredentials(cg.service, load);
      const limited = await checkClientCredentials(cg.limitedService);
      if (!limited.claims.includes('constraints')) throw new Error(`the limited application's token carries no constraints claim: ${limited.claims.join(', ')}`);
      progress(`Caregate (${mode}): client credentials through a weekly window and constraints`);
      limitedClientCredentials = await measureClientCredentials(cg.limitedService, load);
      endpoints.push({ mode, ...(await benchEndpoints(`Caregate (${mode})`, await caregateEndpointTarget(cg), load)) });
      decisions.push({ mode, figure: await benchDecisions(`Caregate (${mode})`, cg, load) });
    }
    progress(`Caregate (${mode}): password logins, ${opts.loginVus} virtual users`);
    // Each virtual user signs in to its own account (see CaregateInstance.users).
    const login = await measureLogins(cg.web, cg.users.slice(0, load.loginVus), load);
    let refresh: CaregateResults['refresh'];
    let sso: CaregateResults['sso'];
    if (!opts.rejectedOnly) {
      progress(`Caregate (${mode}): refresh-token grants, ${opts.connections} chains`);
      refresh = await measureRefresh(cg, load);
      progress(`Caregate (${mode}): single sign-on of signed-in browsers, OIDC and SAML, ${opts.loginVus} browsers`);
      sso = await measureSso(cg, load);
    }
    // Last: it locks an account and throttles an address (127.0.0.2) for the rest of the instance's life.
    progress(`Caregate (${mode}): rejected sign-in attempts, setting up`);
    const rejections = await prepareRejections(cg, opts, progress);
    progress(`Caregate (${mode}): rejected sign-in attempts against a locked account, ${opts.connections} virtual users`);
    const locked = await rejections.measure('account_locked', load);
    progress(`Caregate (${mode}): rejected sign-in attempts from a throttled address, ${opts.connections} virtual users`);
    const throttled = await rejections.measure('address_throttled', load);

    const cpuPerOperation = { login: cpuCost(login.figure), locked: cpuCost(locked.figure), throttled: cpuCost(throttled.figure) };
    return {
      mode,
      clientCredentials,
      limitedClientCredentials,
      token,
      login,
      refresh,
      sso,
      rejected: { policy: rejections.policy, locked, throttled },
      cpuPerOperation,
      ratios: {
        clientCredentialsVsFloor: clientCredentials && floor?.clientCredentials ? clientCredentials.perSecond / floor.clientCredentials.perSecond : undefined,
        refreshVsFloor: refresh && floor?.refresh ? refresh.figure.perSecond / floor.refresh.perSecond : undefined,
        limitedVsPlainClientCredentials: clientCredentials && limitedClientCredentials ? limitedClientCredentials.perSecond / clientCredentials.perSecond : undefined,
        loginVsHash: login.figure.perSecond / hash,
        loginVsFloor: floor?.login ? login.figure.perSecond / floor.login.figure.perSecond : undefined,
        samlVsOidcSso: sso ? sso.saml.figure.perSecond / sso.oidc.figure.perSecond : undefined,
        lockedVsHash: locked.figure.perSecond / hash,
        throttledVsHash: throttled.figure.perSecond / hash,
        lockedCpuVsLogin: share(cpuPerOperation.locked.ms, cpuPerOperation.login.ms),
        throttledCpuVsLogin: share(cpuPerOperation.throttled.ms, cpuPerOperation.login.ms),
      },
    };
  } finally {
    await cg.stop();
  }
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  installExitHooks();
  // Before pinning: afterwards this process sees only the load generator's cores.
  const machine = { cores: os.availableParallelism(), cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown', loadAverageAtStart: os.loadavg()[0]! };
  const cpu = planCpus();
  progress(cpu.note);

  if (opts.compare) {
    const compared = [];
    for (const mode of (opts.postgres ? ['embedded', 'postgres'] : ['embedded']) as StoreMode[]) {
      compared.push(await compareFigure({ ...opts.compare, mode, connections: opts.connections }, cpu, progress));
    }
    process.stdout.write(opts.json ? JSON.stringify({ machine, cpu: cpu.note, compare: compared }, null, 2) + '\n' : compared.map(formatCompare).join('\n'));
    return;
  }

  const modes: StoreMode[] = opts.postgres ? ['embedded', 'postgres'] : ['embedded'];
  let hash: BenchResults['hash'];
  let floor: BenchResults['floor'];
  const caregate: CaregateResults[] = [];
  let endpoints: BenchResults['endpoints'];
  let decisions: BenchResults['decisions'];
  const http = opts.directory !== 'only' && opts.userSearch !== 'only' && opts.startup !== 'only';
  if (http) {
    if (!opts.endpointsOnly && !opts.decisionsOnly) {
      progress(`argon2id hash rate on one core (${opts.hashSeconds} s)`);
      hash = await hashRate(opts, cpu);
    }

    if (!opts.rejectedOnly && !opts.endpointsOnly) {
      progress(`floor: the evaluator in-process, on the server core (${opts.seconds} s)`);
      decisions = { floor: await decisionFloor(opts, cpu.serverCpu), caregate: [] };
    }

    if (!opts.rejectedOnly && !opts.decisionsOnly) {
      progress(`floor: bare oidc-provider, ${opts.endpointsOnly ? '' : 'client credentials, '}token introspection, userinfo, discovery`);
      const floorServer = await startFloor({ cpu: cpu.serverCpu });
      try {
        const pid = floorServer.child.proc.pid!;
        const load: Load = { ...opts, serverCpu: cpuMeter(pid), serverPoolCpu: poolCpuMeter(pid) };
        if (!opts.endpointsOnly) {
          const token = await checkClientCredentials(floorServer.target);
          floor = { clientCredentials: await measureClientCredentials(floorServer.target, load), token };
          progress(`floor: bare oidc-provider, refresh-token grants, ${opts.connections} chains`);
          floor.refresh = (await measureFloorRefresh(floorServer, load)).figure;
          progress(`floor: bare oidc-provider with an argon2id password check, password logins, ${opts.loginVus} virtual users`);
          // Its one account for every virtual user: the floor has no lockout to trip.
          floor.login = await measureLogins(floorServer.web, Array.from({ length: opts.loginVus }, () => floorServer.user), load);
        }
        endpoints = { floor: await benchEndpoints('floor', await floorServer.endpoints(), load), caregate: [] };
      } finally {
        await floorServer.stop();
      }
    }

    for (const mode of modes) {
      if (opts.endpointsOnly) endpoints!.caregate.push({ mode, ...(await benchCaregateEndpoints(mode, opts, cpu)) });
      else if (opts.decisionsOnly) decisions!.caregate.push(await benchCaregateDecisions(mode, opts, cpu));
      else caregate.push(await benchCaregate(mode, opts, cpu, floor, hash!.perSecond, endpoints?.caregate ?? [], decisions?.caregate ?? []));
    }
  }

  let startup: BenchResults['startup'];
  if (opts.startup !== 'off') {
    startup = { floor: await benchFloorStartup(opts, cpu, progress), caregate: [] };
    for (const mode of modes) startup.caregate.push(await benchStartup(mode, opts, cpu, progress));
  }

  let directory: DirectorySyncResult[] | undefined;
  let directorySkipped: string | undefined;
  // Imported only here: the test directory's module brings Caregate's server code with it.
  if (opts.directory === 'auto' && !(await import('../test/support/slapd.ts')).slapdAvailable()) {
    directorySkipped = 'slapd and ldap-utils are not installed (apt-get install slapd ldap-utils); --no-directory leaves the figures out without this note';
    progress(`directory sync skipped: ${directorySkipped}`);
  } else if (opts.directory !== 'off') {
    directory = [];
    for (const mode of modes) directory.push(await benchDirectory(mode, opts, cpu));
  }

  let userSearch: UserSearchResult | undefined;
  let userSearchSkipped: string | undefined;
  if (opts.userSearch === 'only' || (opts.userSearch === 'auto' && modes.includes('postgres'))) {
    userSearch = await benchUserSearch(opts, cpu, progress);
  } else if (opts.userSearch === 'auto') {
    userSearchSkipped = 'PostgreSQL only: set DATABASE_URL and REDIS_URL (or --postgres); --no-user-search leaves the figures out without this note';
  }

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(), node: process.version, ...machine, platform: `${os.platform()} ${os.release()}`,
      scope: opts.directory === 'only' ? 'directory' : opts.userSearch === 'only' ? 'user-search' : opts.rejectedOnly ? 'rejected-only' : opts.endpointsOnly ? 'endpoints' : opts.decisionsOnly ? 'decisions' : opts.startup === 'only' ? 'startup' : 'all',
    },
    cpu: { note: cpu.note, serverCpu: cpu.serverCpu, loadCpus: cpu.loadCpus },
    load: {
      seconds: opts.seconds, warmupSeconds: opts.warmupSeconds, hashSeconds: opts.hashSeconds, connections: opts.connections,
      loginVus: opts.loginVus, refreshVus: opts.connections, rejectedVus: opts.connections,
      ...(directory ? { directory: { users: opts.directoryUsers, groups: opts.directoryGroups, changes: opts.directoryChanges } } : {}),
      ...(userSearch ? { userSearch: { users: opts.userSearchUsers, virtualUsers: opts.connections } } : {}),
    },
    hash,
    hashCpu: hash ? { ms: cpuMsPerOp(hash) } : undefined,
    floor,
    caregate,
    ...(decisions ? { decisions: { ...decisions, caregate: decisions.caregate.map((c) => ({ ...c, ratio: c.figure.perSecond / decisions!.floor.perSecond })) } } : {}),
    ...(endpoints ? { endpoints: { ...endpoints, caregate: endpoints.caregate.map((c) => ({ ...c, ratios: endpointRatios(c.figures, endpoints!.floor.figures) })) } } : {}),
    startup,
    directory,
    ...(directorySkipped ? { directorySkipped } : {}),
    userSearch,
    ...(userSearchSkipped ? { userSearchSkipped } : {}),
  };
  if (modes.includes('postgres')) results.cpu.note += '; PostgreSQL and Redis are not pinned (they run wherever the OS puts them)';
  process.stdout.write(opts.json ? JSON.stringify(results, null, 2) + '\n' : formatReport(results) + '\n');
  if (opts.cpuProfDir) progress(`CPU profiles in ${opts.cpuProfDir}: node bench/profile-summary.ts <file>`);
  // Figures measured with failing requests are not figures, nor are refusals the audit log does not
  // confirm, nor syncs whose counts are not the ones the directory changes call for: make the run
  // fail visibly.
  const failed = allFigures(results).some(([, f]) => f.errors > 0) || auditMismatches(results).length > 0 || directoryMismatches(results).length > 0 || userSearchMismatches(results).length > 0;
  if (failed) process.exitCode = 1;
}

try {
  await main();
  await cleanup();
} catch (error) {
  process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
  await cleanup();
  process.exit(1);
}
