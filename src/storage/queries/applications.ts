// Application rows beyond the repository: resolving what a person types (a client id or an id).
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** Both names of the tenant's application known by `ref` (client id or id): [id, clientId], or [] when none. */
export async function idsOf(db: Repos, tenantId: string, ref: string): Promise<string[]> {
  const [row] = await exec<{ id: string; clientId: string }>(
    db,
    'SELECT id::text AS id, client_id AS "clientId" FROM applications WHERE tenant_id = $1 AND (client_id = $2 OR id::text = $2)',
    [tenantId, ref],
  );
  return row ? [row.id, row.clientId] : [];
}
