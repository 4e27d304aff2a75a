// Application rows beyond the repository: resolving what a person types (a client id or an id),
// and the application a SAML entity ID names.
import type { Application } from '../entities/index.ts';
import { sqlRepos, type Repos } from '../storage.ts';
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

/** The tenant's application with this SAML entity ID, through the unique index. */
export function findBySamlEntityId(db: Repos, tenantId: string, entityId: string): Promise<Application | null> {
  // The expression matches the unique index applications_saml_entity_id.
  return sqlRepos(db).applications
    .createQueryBuilder('app')
    .where('app.tenant_id = :tenantId', { tenantId })
    .andWhere("app.saml ->> 'entityId' = :entityId", { entityId })
    .getOne();
}
