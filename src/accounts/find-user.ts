// Finding a user of a tenant by the reference an administrator types: an id or a username.
import { NotFoundError } from '../errors.ts';
import { queries, type Repos, type User } from '../storage/index.ts';

/** A user of the tenant by id or username (any case); 404 when there is none. The one lookup every service uses. */
export async function findUser(repos: Repos, tenantId: string, ref: string): Promise<User> {
  const id = /^[0-9a-f-]{36}$/i.test(ref) ? ref : await queries.users.findIdByUsername(repos, tenantId, ref);
  const user = id ? await repos.users.findOneBy({ tenantId, id }) : null;
  if (!user) throw new NotFoundError(`user "${ref}" does not exist`);
  return user;
}
