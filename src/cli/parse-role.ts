// `--role provider@location:north` → an assignment input. Scopes: location:KEY, institution:KEY,
// application:CLIENT_ID; no scope means tenant-wide.
import { ValidationError } from '../errors.ts';
import type { schemas } from '../accounts/index.ts';

export function parseRole(spec: string): schemas.AssignmentInput {
  const [role, scope] = spec.split('@');
  if (!role) throw new ValidationError(`--role "${spec}": expected ROLE or ROLE@TYPE:KEY`);
  if (!scope) return { role, scope: { type: 'tenant' } };
  const [type, key] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1)];
  if (!key || scope.indexOf(':') < 0) throw new ValidationError(`--role "${spec}": scope must be location:KEY, institution:KEY or application:CLIENT_ID`);
  switch (type) {
    case 'location':
    case 'institution':
      return { role, scope: { type, key } };
    case 'application':
      return { role, scope: { type, clientId: key } };
    default:
      throw new ValidationError(`--role "${spec}": unknown scope type "${type}" (location, institution or application)`);
  }
}
