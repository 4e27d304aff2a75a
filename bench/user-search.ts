// The admin console's user list at 50,000 users (issue 16: paging "stays fast at 50,000 users").
// A Caregate instance on PostgreSQL (the CLI set-up of caregate-instance.ts, pinned to the server
// core) gets its structure through the admin API (a role holding caregate.users:read, 20 locations,
// 5 teams, a scoped admin application) and then 50,000 users, their role assignments and team
// memberships through bulk INSERT … SELECT generate_series straight into its database. Each case
// is a `GET /admin/api/v1/t/{tenant}/users` the console sends (a page of 50, X-Total-Count),
// measured in a closed loop; its floor is the same page's two statements (count, then the page)
// built by src/storage/user-search.ts itself and sent through pg from this process, with none of
// Caregate's HTTP, token, authority or JSON work. Embedded mode (PGlite) is not measured here.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { searchUsers, type UserSearch } from '../src/storage/user-search.ts';
import { AdminApi } from './admin-api.ts';
import { startCaregate, type CaregateInstance } from './caregate-instance.ts';
import { closedLoop } from './closed-loop.ts';
import type { BenchOptions } from './options.ts';
import { cpuMeter, type CpuPlan } from './processes.ts';
import type { Figure } from './stats.ts';

/** The console's page size (console/screens/users.js). */
export const PAGE = 50;
const LOCATIONS = 20;
const TEAMS = 5;
const GIVEN = ['Ada', 'Bruno', 'Chidi', 'Dana', 'Elif', 'Farid', 'Greta', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Mateo', 'Nadia', 'Oren', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tala',
  'Uma', 'Viktor', 'Wen', 'Xenia', 'Yusuf', 'Zora', 'Amara', 'Bashir', 'Carmen', 'Dmitri', 'Esme', 'Felix', 'Gwen', 'Hamid', 'Isla', 'Joaquin', 'Kiri', 'Luca', 'Mira', 'Nils',
  'Olu', 'Paz', 'Rafael', 'Saoirse', 'Teo', 'Ulla', 'Vera', 'Wiremu', 'Yara', 'Zeno'];
const FAMILY = ['Abbott', 'Bergstrom', 'Castellano', 'Delacroix', 'Eriksen', 'Fontaine', 'Grabowski', 'Haddad', 'Ishikawa', 'Jovanovic', 'Kowalczyk', 'Lindqvist', 'Moreau', 'Nakamura',
  'Okonkwo', 'Petrov', 'Quispe', 'Rasmussen', 'Schiavone', 'Takahashi', 'Ulrich', 'Vasquez', 'Whitfield', 'Xiong', 'Yamamoto', 'Zielinski', 'Achterberg', 'Boateng', 'Cunningham',
  'Dragomir', 'Esposito', 'Fairbanks', 'Gallagher', 'Hendricks', 'Ibarra', 'Jablonski', 'Kavanagh', 'Lombardi', 'Mbeki', 'Novak', 'Oyelaran', 'Pellegrini', 'Quintero', 'Rutherford',
  'Sorensen', 'Thorsen', 'Underwood', 'Valentine', 'Wojcik', 'Yilmaz', 'Zamora', 'Albrecht', 'Blackwood', 'Cardenas', 'Dubois', 'Engstrom', 'Fitzgerald', 'Gutierrez', 'Holloway',
  'Iwasaki', 'Jankowski', 'Kristiansen', 'Lachance', 'Montgomery', 'Nwosu', 'Ortega', 'Prescott', 'Radcliffe', 'Santangelo', 'Tremblay', 'Uchida', 'Vanderberg', 'Waterhouse',
  'Yoshida', 'Zubiri', 'Arbuckle', 'Bellweather', 'Castillo', 'Devereux', 'Eastwood', 'Falkner', 'Goldberg', 'Hargreaves', 'Inglewood', 'Jaramillo', 'Kingsley', 'Lockhart',
  'Merriweather', 'Nightingale', 'Oduya', 'Pemberton', 'Quarshie', 'Rosenthal', 'Stroud', 'Tanaka', 'Umbers', 'Villanueva', 'Winslow', 'Youngblood', 'Zelenko'];
/** Roles a user without PHI holds at their location (a user with PHI is a provider). */
const NON_PHI_ROLES = ['billing_user', 'inventory', 'customizer', 'report_viewer', 'analytics_admin'];
/** A pseudo-random number in [0, n) for user i, one independent sequence per `salt` (the spreads must not line up with the locations). */
const draw = (salt: number, n: number) => `((hashint4(i * 31 + ${salt}) & 2147483647) % ${n})`;
const STATUS = `CASE WHEN ${draw(1, 100)} < 85 THEN 'active' WHEN ${draw(1, 100)} < 91 THEN 'invited' WHEN ${draw(1, 100)} < 96 THEN 'disabled' WHEN ${draw(1, 100)} < 98 THEN 'locked' ELSE 'expired' END`;
/** One family name ≈ 1 % of the users; the text search looks for it in lower case, mid-word. */
const SEARCH_TEXT = 'konkw';

export interface UserSearchCase {
  name: string;
  /** The query string the console sends (limit and offset included). */
  query: Record<string, string>;
  /** As the location manager (caregate.users:read at one location), not the tenant admin. */
  scoped?: boolean;
}

export interface UserSearchFigure {
  name: string;
  path: string;
  scoped: boolean;
  /** X-Total-Count (the floor's count agrees, or the run reports a mismatch). */
  total: number;
  /** Users on the page. */
  page: number;
  caregate: Figure;
  floor: Figure;
  /** Caregate requests/s ÷ floor pages/s. */
  ratio: number;
}

export interface UserSearchResult {
  mode: 'postgres';
  users: number;
  seed: { ms: number; assignments: number; teamMembers: number; locations: number; teams: number; phi: number };
  /** Users the location manager reaches (caregate.users:read at one location). */
  reach: number;
  pinned: string;
  figures: UserSearchFigure[];
  mismatches: string[];
}

const CASES: UserSearchCase[] = [
  { name: 'first page', query: {} },
  { name: 'page 501 (offset 25,000)', query: { offset: '25000' } },
  { name: `text search (q=${SEARCH_TEXT}, ≈ 1 %)`, query: { q: SEARCH_TEXT } },
  { name: 'role filter (provider, ≈ 10 %)', query: { role: 'provider' } },
  { name: 'location filter (site-07, ≈ 5 %)', query: { location: 'site-07' } },
  { name: 'combined (billing_user at site-03, active, ≈ 0.8 %)', query: { role: 'billing_user', location: 'site-03', status: 'active' } },
  { name: 'first page, location manager (site-01)', query: {}, scoped: true },
];

const siteKey = (n: number) => `site-${String(n).padStart(2, '0')}`;

/** Roles, locations and teams through the admin API: what the seeded rows refer to. */
export async function createStructure(api: AdminApi) {
  await api.call('POST', '/roles', { key: 'bench_location_manager', name: 'Location manager', permissions: ['caregate.users:read'] });
  for (let n = 1; n <= LOCATIONS; n++) await api.call('POST', '/locations', { key: siteKey(n), name: `Site ${n}` });
  for (let n = 1; n <= TEAMS; n++) await api.call('POST', '/teams', { key: `team-${n}`, name: `Team ${n}` });
}

/**
 * 50,000 users in three statements. User i gets a deterministic id (md5 of its number) so the
 * assignment and team rows can refer to it without reading anything back. Spread: given name i mod
 * 50 and family name ⌊i / 50⌋ mod 100 (each family ≈ 1 %); user i holds one role at location i mod
 * 20 (2,500 users each). Drawn independently of that and of each other: 85 % active (then invited,
 * disabled, locked, expired), 10 % with PHI (they are providers; the others hold one of five roles
 * without PHI), 3 % outside vendors, six user types, a second role (reporting_user) at the same
 * location for 30 %, membership of one of 5 teams for 10 % (the teams hold reporting_user
 * tenant-wide).
 */
export async function seed(db: pg.Client, tenantId: string, users: number) {
  const ids = async (table: string, keys: string[]) => {
    const { rows } = await db.query(`SELECT key, id FROM ${table} WHERE tenant_id = $1 AND key = ANY($2)`, [tenantId, keys]);
    return keys.map((k) => rows.find((r) => r.key === k)?.id ?? fail(`${table} ${k} missing`));
  };
  const locations = await ids('locations', Array.from({ length: LOCATIONS }, (_, n) => siteKey(n + 1)));
  const teams = await ids('teams', Array.from({ length: TEAMS }, (_, n) => `team-${n + 1}`));
  const [provider, reporting, ...nonPhi] = await ids('roles', ['provider', 'reporting_user', ...NON_PHI_ROLES]);
  const userId = "md5('bench-user-' || i)::uuid";
  const phi = `${draw(2, 10)} = 0`;
  await db.query('BEGIN');
  await db.query(
    `INSERT INTO users (id, tenant_id, username, email, display_name, given_name, family_name, status, kind, phi_access, outside_vendor, user_type,
                        last_login_at, created_at, updated_at)
     SELECT ${userId}, $1::uuid, lower(g || '.' || f || '.' || i), lower(g || '.' || f || '.' || i) || '@' || (CASE WHEN i % 3 = 0 THEN 'clinic.example.org' ELSE 'example.org' END),
            g || ' ' || f, g, f, ${STATUS}, 'human', ${phi}, ${draw(3, 100)} < 3, ($4::text[])[1 + ${draw(4, 6)}],
            CASE WHEN ${STATUS} = 'invited' THEN NULL ELSE now() - ${draw(5, 400)} * interval '1 day' END, now() - ${draw(6, 1000)} * interval '1 day', now()
       FROM generate_series(1, $5::int) i, LATERAL (SELECT ($2::text[])[1 + i % 50] AS g, ($3::text[])[1 + (i / 50) % 100] AS f) n`,
    [tenantId, GIVEN, FAMILY, ['physician', 'non_physician_provider', 'nurse', 'clinical_staff', 'clerical_billing_staff', 'other'], users],
  );
  const direct = await db.query(
    `INSERT INTO assignments (id, tenant_id, user_id, role_id, scope_type, scope_id)
     SELECT gen_random_uuid(), $1::uuid, ${userId}, CASE WHEN ${phi} THEN $2::uuid ELSE ($3::uuid[])[1 + ${draw(7, 5)}] END, 'location', ($4::uuid[])[1 + i % 20]
       FROM generate_series(1, $6::int) i
     UNION ALL
     SELECT gen_random_uuid(), $1::uuid, ${userId}, $5::uuid, 'location', ($4::uuid[])[1 + i % 20]
       FROM generate_series(1, $6::int) i WHERE ${draw(8, 10)} < 3`,
    [tenantId, provider, nonPhi, locations, reporting, users],
  );
  const members = await db.query(
    `INSERT INTO team_members (team_id, user_id, tenant_id) SELECT ($2::uuid[])[1 + ${draw(10, 5)}], ${userId}, $1::uuid FROM generate_series(1, $3::int) i WHERE ${draw(9, 10)} = 0`,
    [tenantId, teams, users],
  );
  await db.query(
    `INSERT INTO assignments (id, tenant_id, team_id, role_id, scope_type) SELECT gen_random_uuid(), $1::uuid, t, $3::uuid, 'tenant' FROM unnest($2::uuid[]) t`,
    [tenantId, teams, reporting],
  );
  await db.query('COMMIT');
  // As autovacuum would have left them: statistics, and a visibility map for index-only scans.
  await db.query('VACUUM ANALYZE users, assignments, team_members');
  const { rows: [count] } = await db.query(`SELECT count(*) FILTER (WHERE phi_access)::int AS phi FROM users WHERE tenant_id = $1 AND kind = 'human'`, [tenantId]);
  return { assignments: direct.rowCount ?? 0, teamMembers: members.rowCount ?? 0, phi: count.phi as number, locations, teams };
}

function fail(message: string): never {
  throw new Error(message);
}

/** The same search the service builds from `query` (src/accounts/user-service.ts), with ids resolved once. */
async function floorSearch(db: pg.Client, tenantId: string, query: Record<string, string>, within?: string[]): Promise<UserSearch> {
  const idOf = async (table: string, key: string | undefined) =>
    key === undefined ? undefined : ((await db.query(`SELECT id FROM ${table} WHERE tenant_id = $1 AND key = $2`, [tenantId, key])).rows[0]?.id as string);
  const role = await idOf('roles', query.role);
  // The seeded locations are all top-level: a location's subtree is itself.
  const location = await idOf('locations', query.location);
  return {
    tenantId, text: query.q, status: query.status as UserSearch['status'], roleIds: role ? [role] : undefined,
    ...(location ? { scopeType: 'location' as const, scopeIds: [location] } : {}),
    within, limit: Number(query.limit ?? PAGE), offset: Number(query.offset ?? 0),
  };
}

/**
 * The ids the location manager reaches at `locationId`: users holding a role there, and members of
 * teams holding one there (what usersWithin in src/accounts/admin-authority.ts computes per request).
 */
async function reachAt(db: pg.Client, tenantId: string, locationId: string): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT user_id FROM assignments WHERE tenant_id = $1 AND scope_type = 'location' AND scope_id = $2 AND user_id IS NOT NULL
     UNION SELECT tm.user_id FROM team_members tm JOIN assignments a ON a.team_id = tm.team_id WHERE a.tenant_id = $1 AND a.scope_type = 'location' AND a.scope_id = $2`,
    [tenantId, locationId],
  );
  return rows.map((r) => r.user_id as string);
}

/** A scoped admin application: client credentials, admin API, its service account holding the manager role at site-01. */
async function scopedAdmin(cg: CaregateInstance, api: AdminApi): Promise<AdminApi> {
  const app = await api.call<{ clientId?: string; client_id?: string; clientSecret?: string; client_secret?: string }>('POST', '/applications', {
    name: 'Bench location manager', grantTypes: ['client_credentials'], adminApi: true,
  });
  const clientId = app.clientId ?? app.client_id ?? fail('POST /applications answered without a client id');
  const clientSecret = app.clientSecret ?? app.client_secret ?? fail('POST /applications answered without a client secret');
  await api.call('POST', `/users/${encodeURIComponent(`svc-${clientId}`)}/assignments`, { role: 'bench_location_manager', scope: { type: 'location', key: siteKey(1) } });
  return new AdminApi({ ...cg.admin, clientId, clientSecret });
}

async function getPage(cg: CaregateInstance, api: AdminApi, query: Record<string, string>) {
  const qs = new URLSearchParams({ limit: String(PAGE), ...query });
  const res = await fetch(`${cg.admin.apiBase}/users?${qs}`, { headers: { authorization: `Bearer ${await api.bearer()}`, accept: 'application/json' } });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET /users?${qs}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return { total: Number(res.headers.get('x-total-count')), page: (JSON.parse(body) as unknown[]).length };
}

export async function benchUserSearch(opts: BenchOptions, cpu: CpuPlan, progress: (line: string) => void): Promise<UserSearchResult> {
  progress(`user list: starting Caregate (postgres), then seeding ${opts.userSearchUsers.toLocaleString('en-US')} users`);
  const cg = await startCaregate({ mode: 'postgres', cpu: cpu.serverCpu });
  const db = new pg.Client({ connectionString: cg.databaseUrl });
  await db.connect();
  // The floor's connections: as many as Caregate's own pool (src/storage/data-source.ts: max 10).
  const pool = new pg.Pool({ connectionString: cg.databaseUrl, max: 10 });
  try {
    const admin = new AdminApi(cg.admin);
    await createStructure(admin);
    const { rows: [tenant] } = await db.query(`SELECT id FROM tenants WHERE slug = 'demo'`);
    const t0 = performance.now();
    const seeded = await seed(db, tenant.id, opts.userSearchUsers);
    const seedMs = performance.now() - t0;
    progress(`user list: seeded in ${(seedMs / 1000).toFixed(1)} s (${seeded.assignments.toLocaleString('en-US')} assignments, ${seeded.teamMembers.toLocaleString('en-US')} team members)`);
    const scoped = await scopedAdmin(cg, admin);
    const within = await reachAt(db, tenant.id, seeded.locations[0]);
    const repos = { query: async (sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows } as unknown as Parameters<typeof searchUsers>[0];
    const load = { ...opts, serverCpu: cpuMeter(cg.child.proc.pid!) };
    const vus = Array.from({ length: opts.connections }, (_, i) => i);
    const figures: UserSearchFigure[] = [];
    const mismatches: string[] = [];

    for (const c of CASES) {
      const api = c.scoped ? scoped : admin;
      const search = await floorSearch(db, tenant.id, c.query, c.scoped ? within : undefined);
      const expected = await searchUsers(repos, search);
      const first = await getPage(cg, api, c.query);
      if (first.total !== expected.total || first.page !== expected.users.length) {
        mismatches.push(`${c.name}: Caregate answered ${first.page} users of ${first.total}, the floor ${expected.users.length} of ${expected.total}`);
      }
      progress(`user list: ${c.name} — ${first.total.toLocaleString('en-US')} match; Caregate, ${vus.length} virtual users`);
      const caregate = await closedLoop(vus, load, async () => {
        const got = await getPage(cg, api, c.query);
        if (got.total !== first.total || got.page !== first.page) throw new Error(`answered ${got.page} of ${got.total}`);
      });
      progress(`user list: ${c.name} — floor (the same two statements through pg)`);
      const floor = await closedLoop(vus, { ...opts }, async () => {
        const got = await searchUsers(repos, search);
        if (got.total !== expected.total) throw new Error(`counted ${got.total}`);
      });
      const path = `/users?${new URLSearchParams({ limit: String(PAGE), ...c.query })}`;
      figures.push({ name: c.name, path, scoped: !!c.scoped, total: first.total, page: first.page, caregate: caregate.figure, floor: floor.figure, ratio: caregate.figure.perSecond / floor.figure.perSecond });
    }
    return {
      mode: 'postgres', users: opts.userSearchUsers,
      seed: { ms: seedMs, assignments: seeded.assignments, teamMembers: seeded.teamMembers, locations: LOCATIONS, teams: TEAMS, phi: seeded.phi },
      reach: within.length,
      pinned: cpu.serverCpu === undefined ? 'nothing pinned' : `Caregate pinned to CPU ${cpu.serverCpu}; PostgreSQL not pinned; the floor's pg client runs in the load generator`,
      figures, mismatches,
    };
  } finally {
    await pool.end();
    await db.end();
    await cg.stop();
  }
}
