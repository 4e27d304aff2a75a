// The directory the end-to-end suites sign in against: an East region with two clinics, a Boston
// research site and a study team, and the roles of a nurse who works across them.
import type { TestCaregate } from './caregate.ts';

const cli = { type: 'cli' as const, id: 'test' };

export async function createClinicDirectory(cg: TestCaregate, tenant = 'demo'): Promise<void> {
  const a = cg.runtime.accounts;
  await a.locations.create(tenant, { key: 'region-east', name: 'East region' }, cli);
  await a.locations.create(tenant, { key: 'loc-north', name: 'North clinic', parent: 'region-east' }, cli);
  await a.locations.create(tenant, { key: 'loc-south', name: 'South clinic', parent: 'region-east' }, cli);
  await a.institutions.create(tenant, { key: 'site-boston', name: 'Boston site' }, cli);
  await a.teams.create(tenant, { key: 'study-coordinators', name: 'Study coordinators' }, cli);
}

/** Provider in the region, front desk at the South clinic, customizer at the site, reports everywhere. */
export const NURSE_ROLES = [
  { role: 'provider', scope: { type: 'location' as const, key: 'region-east' } },
  { role: 'front_desk', scope: { type: 'location' as const, key: 'loc-south' } },
  { role: 'customizer', scope: { type: 'institution' as const, key: 'site-boston' } },
  { role: 'report_viewer' },
];
