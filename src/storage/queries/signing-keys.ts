// A tenant's signing keys as published: current, next, and retired ones until their retire time.
import type { SigningKey } from '../entities/index.ts';
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** Kid and status of each published key, current first, then next, then retired; oldest first within each. */
export async function publishedStates(db: Repos, tenantId: string): Promise<Array<Pick<SigningKey, 'kid' | 'status'>>> {
  return exec<Pick<SigningKey, 'kid' | 'status'>>(
    db,
    `SELECT kid, status FROM signing_keys WHERE tenant_id = $1 AND (status <> 'retired' OR retire_at > now())
      ORDER BY CASE status WHEN 'current' THEN 0 WHEN 'next' THEN 1 ELSE 2 END, created_at`,
    [tenantId],
  );
}
