// The floor of the decision figure, run as a child pinned to the server core: the evaluator the
// evaluation endpoint answers from (evaluateAccess: projectClaims for the asking application, then
// decide), called in-process for `seconds` over the snapshot the bench user has — the built-in
// roles, Reporting User held tenant-wide — for the question the endpoint is asked (reports:read,
// from the Bench Web application's catalogue). Prints decisions per second and CPU per decision.
// Usage: node bench/decision-floor.ts <seconds> <warm-up seconds>
import { evaluateAccess, type AuthzSnapshot, type RoleDefinition } from '../src/authz/index.ts';
import { builtinRoles } from '../src/accounts/builtin-roles.ts';
import { percentile, type Figure } from './stats.ts';

const [seconds, warmup] = process.argv.slice(2).map(Number) as [number, number];
const roles = new Map<string, RoleDefinition>(builtinRoles.map((r) => [r.key, { id: r.key, key: r.key, parentId: null, permissions: r.permissions ?? [], removedPermissions: [], requiresPhi: r.requiresPhi ?? false }]));
const snapshot: AuthzSnapshot = {
  phiAccess: false, roles, locations: new Map(), institutions: new Map(), teams: [], timeZone: 'UTC', overrides: [], derivations: [],
  assignments: [{ roleId: 'reporting_user', scopeType: 'tenant', scopeId: null, startsAt: null, expiresAt: null }],
};
const target = { applicationId: 'bench-web', catalogue: ['reports:read', 'dashboards:read'] };
const question = { permission: 'reports:read' };
const BATCH = 1000;

/** Batches of decisions for `ms`; the time of each batch ÷ its size is one decision's. */
function run(ms: number): { decisions: number; perDecisionMs: number[]; cpuMs: number; wallMs: number } {
  const perDecisionMs: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  let decisions = 0;
  while (performance.now() - start < ms) {
    const t = performance.now();
    for (let i = 0; i < BATCH; i++) if (!evaluateAccess(snapshot, target, 'bench-user', question).allowed) throw new Error('the floor decided no');
    perDecisionMs.push((performance.now() - t) / BATCH);
    decisions += BATCH;
  }
  const used = process.cpuUsage(cpu);
  return { decisions, perDecisionMs, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start };
}

run(warmup * 1000);
const r = run(seconds * 1000);
const sorted = Float64Array.from(r.perDecisionMs).sort();
const figure: Figure = {
  perSecond: r.decisions / (r.wallMs / 1000), count: r.decisions, errors: 0,
  p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: r.wallMs / r.decisions, seconds: r.wallMs / 1000,
  serverCpu: r.cpuMs / r.wallMs,
};
process.stdout.write(JSON.stringify(figure));
