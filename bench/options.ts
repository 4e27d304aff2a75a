// Benchmark settings from the command line and the environment. Durations are short by default so
// the HTTP figures take around two minutes (the directory sync figures, last, about 1½ more per
// store); raise BENCH_SECONDS for steadier figures.
import os from 'node:os';
import { COMPARE_FIGURES, type CompareFigure } from './compare.ts';

export interface BenchOptions {
  /** Measured seconds per figure (BENCH_SECONDS, default 10). */
  seconds: number;
  /** Unmeasured seconds before each figure, so V8 has compiled the hot paths (BENCH_WARMUP_SECONDS, default 2). */
  warmupSeconds: number;
  /** Sequential argon2 verifications for this long (BENCH_HASH_SECONDS, default 5). */
  hashSeconds: number;
  /** autocannon connections and refresh-chain virtual users (BENCH_CONNECTIONS, default 16). */
  connections: number;
  /**
   * Concurrent login virtual users (BENCH_LOGIN_VUS, default 2 × cores, at least 8). A flow is five
   * sequential requests with client-side work between them, so a few users leave the server core
   * idle between steps; 8 keep one core busy (the report's server CPU column shows it).
   */
  loginVus: number;
  /** Print one JSON document instead of the table. */
  json: boolean;
  /** Also run Caregate on PostgreSQL + Redis (--postgres, or both DATABASE_URL and REDIS_URL set). */
  postgres: boolean;
  /** Write V8 CPU profiles of every Caregate server (and of the directory's full syncs) to this directory (--cpu-prof DIR). */
  cpuProfDir?: string;
  /**
   * Only what the rejected-attempt figures need (--rejected-only): the hash rate, password logins
   * (the full sign-in they are compared with) and the rejected attempts; no floor, client
   * credentials or refresh grants.
   */
  rejectedOnly: boolean;
  /**
   * Directory sync of a generated OpenLDAP directory (bench/directory-sync.ts), about 1½ minutes per
   * store: after the other figures by default when slapd and ldap-utils are installed ('auto');
   * --directory runs only it ('only', slapd required); --no-directory and --rejected-only leave it
   * out ('off').
   */
  directory: 'auto' | 'only' | 'off';
  /** Generated directory people, groups, and people changed before the incremental sync (BENCH_DIRECTORY_USERS 10000, _GROUPS 200, _CHANGES 10). */
  directoryUsers: number;
  directoryGroups: number;
  directoryChanges: number;
  /**
   * The admin console's user list at 50,000 users (bench/user-search.ts), PostgreSQL only, about 3½
   * minutes: after the other figures by default when PostgreSQL is configured ('auto');
   * --user-search runs only it ('only', DATABASE_URL and REDIS_URL required); --no-user-search,
   * --rejected-only and --directory leave it out ('off').
   */
  userSearch: 'auto' | 'only' | 'off';
  /** Users seeded for it (BENCH_USER_SEARCH_USERS, default 50000). */
  userSearchUsers: number;
  /**
   * Only introspection, userinfo and discovery, against the floor and Caregate (--endpoints): no
   * hash rate, client credentials, logins, refresh, SSO or rejected attempts. A full run measures
   * them beside the client-credentials figure.
   */
  endpointsOnly: boolean;
  /**
   * Only live decisions (--decisions): the evaluation endpoint's decisions per second against the
   * same evaluator called in-process (bench/decisions.ts). A full run measures them beside the
   * endpoint figures.
   */
  decisionsOnly: boolean;
  /**
   * Start-up time and resident memory (bench/startup.ts), about a minute per store: after the other
   * HTTP figures by default ('auto'); --startup runs only it ('only'); --no-startup, --rejected-only,
   * --endpoints, --decisions, --directory and --user-search leave it out ('off').
   */
  startup: 'auto' | 'only' | 'off';
  /**
   * Only a comparison (--compare REF, bench/compare.ts): one figure (BENCH_COMPARE_FIGURE: client
   * credentials by default, or introspection, userinfo, discovery) of this checkout and of commit
   * REF, and bare oidc-provider, measured in turns (BENCH_SLICES rounds, default 10, of
   * BENCH_SLICE_SECONDS, default 2), on each store.
   */
  compare?: { ref: string; figure: CompareFigure; rounds: number; sliceSeconds: number };
}

const HELP = `Usage: npm run bench -- [--json] [--postgres] [--cpu-prof DIR]
                       [--rejected-only | --endpoints | --decisions | --startup | --directory | --user-search
                        | --compare REF]
                       [--no-startup] [--no-directory] [--no-user-search]

  --json           print the results as one JSON document instead of a table
  --postgres       also measure Caregate on PostgreSQL + Redis (needs DATABASE_URL and REDIS_URL;
                   implied when both are set). A fresh database is created on that server and dropped.
  --cpu-prof DIR   write a V8 CPU profile of each Caregate server, and of the first and second full
                   directory syncs, to DIR (see bench/profile-summary.ts)
  --rejected-only  only the hash rate, password logins and rejected sign-in attempts (locked account,
                   throttled address); with BENCH_SECONDS=3 it takes under a minute
  --endpoints      only token introspection, userinfo and discovery, against bare oidc-provider and
                   Caregate (each store); a full run includes them
  --decisions      only live decisions: POST /access/v1/evaluation (AuthZEN) per second on one core,
                   against the same evaluator called in-process (the floor); a full run includes them
  --startup        only start-up time (first start on an empty data directory / database, then
                   starts on existing data) and resident memory (idle, and after 20,000 token
                   requests), for each store and for bare oidc-provider; a full run includes them
  --no-startup     leave the start-up and memory figures out of a full run
  --directory      only the directory sync figures: full sync of 10,000 OpenLDAP users / 200 groups,
                   the same again unchanged, incremental after 10 changes, against the bare LDAP read
                   (needs slapd and ldap-utils; ≈ 1½ minutes per store). A full run includes them
                   last when slapd is installed
  --no-directory   leave the directory sync figures out of a full run
  --user-search    only the admin console's user list at 50,000 users (first page, page 501, text
                   search, role, location and combined filters, a location manager's first page)
                   against the same SQL sent straight to PostgreSQL; PostgreSQL only (needs
                   DATABASE_URL and REDIS_URL; ≈ 3½ minutes). A full run with PostgreSQL includes it
  --no-user-search leave the user list figures out of a full run
  --compare REF    only client credentials (or BENCH_COMPARE_FIGURE) of this checkout (work tree as
                   it is) against commit REF (checked out beside it, same node_modules) and bare
                   oidc-provider, the three servers on one core and measured in turns, so a change
                   of a few per cent shows through the machine's drift; ≈ 1½ minutes per store

Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_HASH_SECONDS (5),
BENCH_CONNECTIONS (16), BENCH_LOGIN_VUS (2 × cores, min 8),
BENCH_DIRECTORY_USERS (10000), BENCH_DIRECTORY_GROUPS (200), BENCH_DIRECTORY_CHANGES (10),
BENCH_USER_SEARCH_USERS (50000), BENCH_SLICES (10), BENCH_SLICE_SECONDS (2),
BENCH_COMPARE_FIGURE (client-credentials; or introspection, userinfo, discovery).`;

function compareFigureOf(raw: string | undefined): CompareFigure {
  if (raw === undefined || raw === '') return 'client-credentials';
  if ((COMPARE_FIGURES as readonly string[]).includes(raw)) return raw as CompareFigure;
  throw new Error(`BENCH_COMPARE_FIGURE must be one of ${COMPARE_FIGURES.join(', ')} (got "${raw}")`);
}

function positive(name: string, fallback: number, { integer = false } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value)) || (integer && value < 1)) {
    throw new Error(`${name} must be a ${integer ? 'positive integer' : 'non-negative number'} (got "${raw}")`);
  }
  return value;
}

export function parseOptions(argv: string[]): BenchOptions {
  let json = false;
  let postgres = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
  let cpuProfDir: string | undefined;
  let rejectedOnly = false;
  let directory: BenchOptions['directory'] = 'auto';
  let userSearch: BenchOptions['userSearch'] = 'auto';
  let endpointsOnly = false;
  let decisionsOnly = false;
  let startup: BenchOptions['startup'] = 'auto';
  let compareRef: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--postgres') postgres = true;
    else if (arg === '--rejected-only') rejectedOnly = true;
    else if (arg === '--directory') directory = 'only';
    else if (arg === '--no-directory') directory = 'off';
    else if (arg === '--user-search') userSearch = 'only';
    else if (arg === '--no-user-search') userSearch = 'off';
    else if (arg === '--endpoints') endpointsOnly = true;
    else if (arg === '--decisions') decisionsOnly = true;
    else if (arg === '--startup') startup = 'only';
    else if (arg === '--no-startup') startup = 'off';
    else if (arg === '--compare') {
      compareRef = argv[++i];
      if (!compareRef) throw new Error('--compare needs a commit (a branch, a tag, HEAD~1, …)');
    } else if (arg === '--cpu-prof') {
      cpuProfDir = argv[++i];
      if (!cpuProfDir) throw new Error('--cpu-prof needs a directory');
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(HELP + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n\n${HELP}`);
  }
  if (userSearch === 'only' && !(process.env.DATABASE_URL && process.env.REDIS_URL)) throw new Error('--user-search needs DATABASE_URL (PostgreSQL server) and REDIS_URL');
  const only = [rejectedOnly && '--rejected-only', endpointsOnly && '--endpoints', decisionsOnly && '--decisions', startup === 'only' && '--startup', directory === 'only' && '--directory', userSearch === 'only' && '--user-search', compareRef && '--compare'].filter(Boolean);
  if (only.length > 1) throw new Error(`${only.join(' and ')} do not go together\n\n${HELP}`);
  const narrow = rejectedOnly || endpointsOnly || decisionsOnly;
  if (narrow || startup === 'only' || userSearch === 'only') directory = 'off';
  if (narrow || startup === 'only' || directory === 'only') userSearch = 'off';
  if (narrow || directory === 'only' || userSearch === 'only') startup = 'off';
  const seconds = positive('BENCH_SECONDS', 10);
  if (seconds < 1) throw new Error('BENCH_SECONDS must be at least 1');
  const directoryUsers = positive('BENCH_DIRECTORY_USERS', 10_000, { integer: true });
  const directoryGroups = positive('BENCH_DIRECTORY_GROUPS', 200, { integer: true });
  const directoryChanges = positive('BENCH_DIRECTORY_CHANGES', 10, { integer: true });
  if (directoryGroups > directoryUsers || directoryChanges > directoryUsers) throw new Error('BENCH_DIRECTORY_GROUPS and BENCH_DIRECTORY_CHANGES must not exceed BENCH_DIRECTORY_USERS');
  return {
    seconds,
    warmupSeconds: positive('BENCH_WARMUP_SECONDS', 2),
    hashSeconds: Math.max(0.5, positive('BENCH_HASH_SECONDS', 5)),
    connections: positive('BENCH_CONNECTIONS', 16, { integer: true }),
    loginVus: positive('BENCH_LOGIN_VUS', Math.max(8, 2 * os.availableParallelism()), { integer: true }),
    json,
    postgres,
    cpuProfDir,
    rejectedOnly,
    directory,
    directoryUsers,
    directoryGroups,
    directoryChanges,
    userSearch,
    userSearchUsers: positive('BENCH_USER_SEARCH_USERS', 50_000, { integer: true }),
    endpointsOnly,
    decisionsOnly,
    startup,
    ...(compareRef ? { compare: { ref: compareRef, figure: compareFigureOf(process.env.BENCH_COMPARE_FIGURE), rounds: positive('BENCH_SLICES', 10, { integer: true }), sliceSeconds: Math.max(1, positive('BENCH_SLICE_SECONDS', 2)) } } : {}),
  };
}
