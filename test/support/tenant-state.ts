// Everything an administrator manages in one tenant, as one comparable value: every row of every
// table with a tenant_id, except the audit log (a refusal appends to it) and the OIDC payloads
// (sign-in traffic). A refused admin call must leave it exactly as it was.
import { expect } from '@jest/globals';
import type { TestCaregate } from './caregate.ts';

const SKIPPED = new Set(['audit_events', 'audit_heads', 'oidc_payloads']);

export async function tenantState(cg: TestCaregate, slug = 'demo'): Promise<Record<string, string[]>> {
  const { storage } = cg.runtime;
  const [tenant] = await storage.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug]);
  const tables = await storage.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY table_name",
  );
  const state: Record<string, string[]> = { tenants: (await storage.query('SELECT * FROM tenants WHERE id = $1', [tenant!.id])).map((r) => JSON.stringify(r)) };
  for (const { table_name: table } of tables) {
    if (SKIPPED.has(table)) continue;
    const rows = await storage.query(`SELECT * FROM "${table}" WHERE tenant_id = $1`, [tenant!.id]);
    state[table] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return state;
}

/** Runs a request that must be refused, and checks it changed nothing an administrator manages. */
export async function leavesTenantUnchanged<R>(cg: TestCaregate, request: () => Promise<R>, slug = 'demo'): Promise<R> {
  const before = await tenantState(cg, slug);
  const reply = await request();
  expect(await tenantState(cg, slug)).toEqual(before);
  return reply;
}
