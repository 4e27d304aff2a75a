// What provisioning a batch of new people (a directory sync) must know before it writes: which of
// their addresses and usernames other users already hold. One statement each for the whole batch.
import type { Repos } from '../storage.ts';
import { exec } from './sql.ts';

/** The given emails (any case) that a human user of the tenant holds, lower-cased. */
export async function heldEmails(db: Repos, tenantId: string, emails: string[]): Promise<Set<string>> {
  if (!emails.length) return new Set();
  const rows = await exec<{ email: string }>(
    db,
    `SELECT lower(email) AS email FROM users WHERE tenant_id = $1 AND kind = 'human' AND lower(email) = ANY($2::text[])`,
    [tenantId, emails.map((e) => e.toLowerCase())],
  );
  return new Set(rows.map((r) => r.email));
}

/** The given usernames (any case) that a user of the tenant holds, lower-cased. */
export async function heldUsernames(db: Repos, tenantId: string, usernames: string[]): Promise<Set<string>> {
  if (!usernames.length) return new Set();
  const rows = await exec<{ username: string }>(
    db,
    'SELECT lower(username) AS username FROM users WHERE tenant_id = $1 AND lower(username) = ANY($2::text[])',
    [tenantId, usernames.map((u) => u.toLowerCase())],
  );
  return new Set(rows.map((r) => r.username));
}
