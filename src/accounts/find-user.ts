// Finding a user of a tenant by the reference an administrator types: an id or a username.
import { NotFoundError } from '../errors.ts';
import type { Repos, User } from '../storage/index.ts';

/** A user of the tenant by id or username (any case); 404 when there is none. The one lookup every service uses. */
export async function findUser(repos: Repos, tenantId: string, ref: string): Promise<User> {
  const [row] = /^[0-9a-f-]{36}$/i.test(ref)
    ? [{ id: ref }]
    : await repos.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND lower(username) = lower($2)', [tenantId, ref]);
  const user = row ? await repos.users.findOneBy({ tenantId, id: row.id }) : null;
  if (!user) throw new NotFoundError(`user "${ref}" does not exist`);
  return user;
}
