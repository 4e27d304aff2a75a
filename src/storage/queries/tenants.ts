// Tenant rows beyond the repository: the row lock that serialises a tenant's key changes across nodes.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** Locks the tenant's row until the caller's transaction ends (call inside one). */
export async function lockForUpdate(tx: Repos, tenantId: string): Promise<void> {
  await exec(tx, 'SELECT id FROM tenants WHERE id = $1 FOR UPDATE', [tenantId]);
}
